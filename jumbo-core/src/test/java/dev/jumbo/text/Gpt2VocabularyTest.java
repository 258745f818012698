package dev.jumbo.text;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import dev.jumbo.io.FormatException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where GPT-2's vocabulary is found, in temporary folders. Downloads go to a JDK HttpServer on
 * 127.0.0.1; no test touches the internet.
 */
class Gpt2VocabularyTest {
    private static final String COMMIT = "607a30d783dfa663caf39e06633721c8d4cfcd7e";

    @TempDir
    Path tmp;

    private HttpServer server;
    private final Map<String, byte[]> served = new ConcurrentHashMap<>();
    private final List<String> requests = new CopyOnWriteArrayList<>();
    /** Bytes of zeros the server streams for a file it does not otherwise serve, or 0 for a 404. */
    private volatile long endless;

    @AfterEach
    void stopServer() {
        if (server != null) server.stop(0);
    }

    @Test
    void anExplicitFolderBeatsTheHubCacheWhichBeatsSharedData() throws IOException {
        Path explicit = vocabularyIn(tmp.resolve("explicit"));
        Path hub = tmp.resolve("hub");
        Path snapshot = vocabularyIn(hub.resolve("models--openai-community--gpt2/snapshots/aaa"));
        Path oldName = vocabularyIn(hub.resolve("models--gpt2/snapshots/bbb"));
        Path shared = vocabularyIn(tmp.resolve("shared/data/gpt2-tokenizer"));
        Gpt2Vocabulary places = new Gpt2Vocabulary(hub, List.of(tmp.resolve("elsewhere"), shared), null, Duration.ofSeconds(1));

        assertThat(places.locate(explicit)).isEqualTo(explicit);
        assertThat(places.locate(null)).isEqualTo(snapshot);
        deleteVocabulary(snapshot);
        assertThat(places.locate(null)).as("the repository's old name").isEqualTo(oldName);
        deleteVocabulary(oldName);
        assertThat(places.locate(null)).isEqualTo(shared);
    }

    @Test
    void theSnapshotThatRefsMainNamesComesFirstAndTokenizerJsonAloneIsEnough() throws IOException {
        Path repo = tmp.resolve("hub/models--openai-community--gpt2");
        vocabularyIn(repo.resolve("snapshots/aaa"));
        Path named = Files.createDirectories(repo.resolve("snapshots/zzz"));
        Files.writeString(named.resolve("tokenizer.json"), "{}");
        Files.createDirectories(repo.resolve("refs"));
        Files.writeString(repo.resolve("refs/main"), "zzz\n");
        assertThat(new Gpt2Vocabulary(tmp.resolve("hub"), List.of(), null, Duration.ofSeconds(1)).locate(null)).isEqualTo(named);
    }

    @Test
    void anExplicitFolderWithoutTheFilesIsNamedAndNothingElseIsTried() throws IOException {
        Path shared = vocabularyIn(tmp.resolve("shared"));
        Gpt2Vocabulary places = new Gpt2Vocabulary(tmp.resolve("hub"), List.of(shared), null, Duration.ofSeconds(1));
        Path onlyVocab = Files.createDirectories(tmp.resolve("half"));
        Files.writeString(onlyVocab.resolve("vocab.json"), "{}");
        assertThatThrownBy(() -> places.locate(onlyVocab)).isInstanceOf(FileNotFoundException.class)
                .hasMessage(onlyVocab + ": no vocab.json + merges.txt or tokenizer.json (GPT-2's vocabulary)");
        assertThatThrownBy(() -> places.locate(tmp.resolve("missing"))).isInstanceOf(FileNotFoundException.class)
                .hasMessageStartingWith(tmp.resolve("missing") + ": no such folder");
    }

    @Test
    void nothingFoundWithDownloadingOffIsOneLineNamingEveryPlace() {
        Path hub = tmp.resolve("hub"), shared = tmp.resolve("shared/data/gpt2-tokenizer");
        Gpt2Vocabulary places = new Gpt2Vocabulary(hub, List.of(shared), URI.create("http://127.0.0.1:9/never/"), Duration.ofSeconds(1)).offline();
        assertThat(places.baseUrl()).isNull();
        assertThatThrownBy(() -> places.locate(null)).isInstanceOf(FileNotFoundException.class)
                .hasMessageNotContaining("\n")
                .hasMessageContaining(hub.resolve("models--openai-community--gpt2/snapshots/*").toString())
                .hasMessageContaining(hub.resolve("models--gpt2/snapshots/*").toString())
                .hasMessageContaining(shared.toString())
                .hasMessageContaining("downloading is off")
                .hasMessageContaining("--tokenizer-dir");
    }

    @Test
    void downloadsIntoTheHubCacheLayoutThenFindsItThere() throws IOException {
        Path gpt2 = SharedData.dir().resolve("gpt2-tokenizer");
        served.put("vocab.json", Files.readAllBytes(gpt2.resolve("vocab.json")));
        served.put("merges.txt", Files.readAllBytes(gpt2.resolve("merges.txt")));
        Path hub = tmp.resolve("hub");
        Gpt2Vocabulary places = new Gpt2Vocabulary(hub, List.of(tmp.resolve("nowhere")), startServer(), Duration.ofSeconds(5));

        Path got = places.locate(null);
        Path repo = hub.resolve("models--openai-community--gpt2");
        assertThat(got).isEqualTo(repo.resolve("snapshots").resolve(COMMIT));
        assertThat(requests).containsExactly("vocab.json", "merges.txt");
        assertThat(Files.readString(repo.resolve("refs/main"))).isEqualTo(COMMIT);
        try (var files = Files.list(got)) {
            assertThat(files.map(p -> p.getFileName().toString()).sorted()).containsExactly("merges.txt", "vocab.json"); // no temporary left
        }
        assertThat(places.load(null).encode(" Hello world")).containsExactly(18435, 995);
        assertThat(places.offline().locate(null)).as("found in the cache, no second download").isEqualTo(got);
        assertThat(requests).hasSize(2);
    }

    @Test
    void aFailedDownloadNamesTheAddressAndThePlacesSearched() throws IOException {
        Path hub = tmp.resolve("hub");
        URI base = startServer(); // serves nothing: every file is a 404
        Gpt2Vocabulary places = new Gpt2Vocabulary(hub, List.of(tmp.resolve("shared")), base, Duration.ofSeconds(5));
        assertThatThrownBy(() -> places.locate(null)).isInstanceOf(IOException.class)
                .hasMessageNotContaining("\n")
                .hasMessageContaining(base.resolve("vocab.json").toString())
                .hasMessageContaining("HTTP status 404")
                .hasMessageContaining(tmp.resolve("shared").toString())
                .hasMessageContaining("--tokenizer-dir");
        assertThat(hub.resolve("models--openai-community--gpt2/snapshots")).doesNotExist();
    }

    @Test
    void aDownloadThatIsNotAVocabularyIsDeletedAgain() throws IOException {
        served.put("vocab.json", "<html>rate limited</html>".getBytes());
        served.put("merges.txt", "#version: 0.2\n".getBytes());
        Gpt2Vocabulary places = new Gpt2Vocabulary(tmp.resolve("hub"), List.of(), startServer(), Duration.ofSeconds(5));
        Path snapshot = tmp.resolve("hub/models--openai-community--gpt2/snapshots").resolve(COMMIT);
        assertThatThrownBy(() -> places.locate(null)).isInstanceOf(FormatException.class).hasMessageContaining("not valid JSON");
        assertThat(snapshot.resolve("vocab.json")).doesNotExist();
        assertThat(snapshot.resolve("merges.txt")).doesNotExist();
    }

    @Test
    void anOversizedDownloadIsRefusedAndLeavesNothing() throws IOException {
        endless = Gpt2Vocabulary.MAX_DOWNLOAD_BYTES + (2 << 20);
        Path hub = tmp.resolve("hub");
        Gpt2Vocabulary places = new Gpt2Vocabulary(hub, List.of(), startServer(), Duration.ofSeconds(5));
        assertThatThrownBy(() -> places.locate(null)).isInstanceOf(IOException.class).hasMessageContaining("longer than 64 MB");
        try (var files = Files.walk(hub)) {
            assertThat(files.filter(Files::isRegularFile)).isEmpty();
        }
    }

    @Test
    void standardPlacesFollowHuggingFacesEnvironmentThenSharedData() throws IOException {
        Path checkout = Files.createDirectories(tmp.resolve("work/jumbo"));
        Files.writeString(checkout.resolve("jumbo"), "#!/bin/sh\n");
        Files.writeString(checkout.resolve("pom.xml"), "<project/>");
        Path jar = Files.createDirectories(checkout.resolve("jumbo-cli/target/lib")).resolve("jumbo-core.jar");
        Path workingDir = Files.createDirectories(tmp.resolve("elsewhere/project"));

        Gpt2Vocabulary v = Gpt2Vocabulary.standard(Map.of("HF_HOME", "/h", "XDG_CACHE_HOME", "/x"), workingDir, jar);
        assertThat(v.hubCache()).isEqualTo(Path.of("/h/hub"));
        assertThat(v.folders()).containsExactly(tmp.resolve("elsewhere/shared/data/gpt2-tokenizer"), tmp.resolve("work/shared/data/gpt2-tokenizer"));
        assertThat(v.baseUrl()).isEqualTo(Gpt2Vocabulary.HUB_URL).hasToString("https://huggingface.co/openai-community/gpt2/resolve/main/");

        assertThat(Gpt2Vocabulary.standard(Map.of("HF_HUB_CACHE", "/c", "HF_HOME", "/h"), workingDir, null).hubCache()).isEqualTo(Path.of("/c"));
        assertThat(Gpt2Vocabulary.standard(Map.of("XDG_CACHE_HOME", "/x"), workingDir, null).hubCache()).isEqualTo(Path.of("/x/huggingface/hub"));
        assertThat(Gpt2Vocabulary.standard(Map.of(), workingDir, null).hubCache())
                .isEqualTo(Path.of(System.getProperty("user.home"), ".cache/huggingface/hub"));
        assertThat(Gpt2Vocabulary.standard(Map.of(), workingDir, null).folders()).as("no checkout: the working directory's only")
                .containsExactly(tmp.resolve("elsewhere/shared/data/gpt2-tokenizer"));
        assertThat(Gpt2Vocabulary.standard(Map.of("HF_HUB_OFFLINE", "1"), workingDir, jar).baseUrl()).isNull();
        assertThat(Gpt2Vocabulary.standard(Map.of("HF_HUB_OFFLINE", "0"), workingDir, jar).baseUrl()).isEqualTo(Gpt2Vocabulary.HUB_URL);
    }

    /** Empty stand-ins: locating only looks at which files exist. */
    private static Path vocabularyIn(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("vocab.json"), "{}");
        Files.writeString(dir.resolve("merges.txt"), "#version: 0.2\n");
        return dir;
    }

    private static void deleteVocabulary(Path dir) throws IOException {
        Files.delete(dir.resolve("vocab.json"));
        Files.delete(dir.resolve("merges.txt"));
    }

    /** Serves {@code served} under /gpt2/ with the hub's X-Repo-Commit header; anything else is a 404. */
    private URI startServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/gpt2/", exchange -> {
            String name = exchange.getRequestURI().getPath().substring("/gpt2/".length());
            requests.add(name);
            byte[] body = served.get(name);
            if (body == null && endless > 0) {
                exchange.sendResponseHeaders(200, 0); // chunked: no length announced
                try (OutputStream out = exchange.getResponseBody()) {
                    byte[] zeros = new byte[1 << 20];
                    for (long sent = 0; sent < endless; sent += zeros.length) out.write(zeros);
                } catch (IOException clientGaveUp) {
                    // the client stops reading at its limit
                }
            } else if (body == null) {
                exchange.sendResponseHeaders(404, -1);
            } else {
                exchange.getResponseHeaders().add("X-Repo-Commit", COMMIT);
                exchange.sendResponseHeaders(200, body.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                }
            }
            exchange.close();
        });
        server.start();
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/gpt2/");
    }
}
