package dev.jumbo.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import dev.jumbo.io.FormatException;
import dev.jumbo.tensor.Shape;
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
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The MNIST-family loaders: where they look for files, how they download missing ones, and what
 * they make of them. Downloads go to a JDK HttpServer on 127.0.0.1 serving files the test
 * generates; no test touches the internet.
 */
class MnistLoadersTest {
    @TempDir
    Path tmp;

    private HttpServer server;
    private final List<String> requests = new CopyOnWriteArrayList<>();
    private final Map<String, byte[]> served = new ConcurrentHashMap<>();

    @AfterEach
    void stopServer() {
        if (server != null) server.stop(0);
    }

    /** Serves {@code served} under /data/ on an ephemeral loopback port; anything else is a 404. */
    private URI startServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/data/", exchange -> {
            String name = exchange.getRequestURI().getPath().substring("/data/".length());
            requests.add(name);
            byte[] body = served.get(name);
            if (body == null) {
                exchange.sendResponseHeaders(404, -1);
            } else {
                exchange.sendResponseHeaders(200, body.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                }
            }
            exchange.close();
        });
        server.start();
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/data/");
    }

    private DatasetLocator locator(Path cache, Path system, URI base) {
        return new DatasetLocator("Fashion-MNIST", List.of(cache, system), cache, base, Duration.ofSeconds(5),
                "pass --data DIR or install dataset-fashion-mnist");
    }

    private void serveMnistLayout(int train, int test) {
        served.put("train-images-idx3-ubyte.gz", IdxFiles.gzip(IdxFiles.images(train)));
        served.put("train-labels-idx1-ubyte.gz", IdxFiles.gzip(IdxFiles.labels(train, 0)));
        served.put("t10k-images-idx3-ubyte.gz", IdxFiles.gzip(IdxFiles.images(test)));
        served.put("t10k-labels-idx1-ubyte.gz", IdxFiles.gzip(IdxFiles.labels(test, 0)));
    }

    private static List<String> filesIn(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void loadsImagesAsScaledNhwcAndLabelsAsFloatClassIds() throws IOException {
        Path data = tmp.resolve("given");
        IdxFiles.writeMnistLayout(data, 3, 2, 4, false);
        Splits s = FashionMnist.load(data);
        assertThat(s.train().x().shape()).isEqualTo(Shape.of(3, 28, 28, 1));
        assertThat(s.test().x().shape()).isEqualTo(Shape.of(2, 28, 28, 1));
        assertThat(s.train().y().toFloatArray()).containsExactly(4, 5, 6);
        assertThat(s.test().y().toFloatArray()).containsExactly(4, 5);
        // pixel p of example i is (i * 31 + p) % 256
        assertThat(s.train().x().get(0, 0, 0, 0)).isEqualTo(0f);
        assertThat(s.train().x().get(1, 0, 2, 0)).isEqualTo(33 / 255f);
        assertThat(s.train().x().get(0, 9, 3, 0)).isEqualTo(255 / 255f); // p = 255
    }

    @Test
    void readsGzippedFilesAndMnistTheSameWay() throws IOException {
        Path data = tmp.resolve("given");
        IdxFiles.writeMnistLayout(data, 2, 1, 0, true);
        Splits s = Mnist.load(data);
        assertThat(s.train().size()).isEqualTo(2);
        assertThat(s.test().size()).isEqualTo(1);
    }

    @Test
    void namesTheFilesMissingFromAGivenFolder() throws IOException {
        Path data = tmp.resolve("partial");
        IdxFiles.writeMnistLayout(data, 2, 1, 0, false);
        Files.delete(data.resolve("train-labels-idx1-ubyte"));
        Files.delete(data.resolve("t10k-images-idx3-ubyte"));
        assertThatThrownBy(() -> FashionMnist.load(data, locator(tmp.resolve("cache"), tmp.resolve("system"), URI.create("http://127.0.0.1:9/"))))
                .isInstanceOf(FileNotFoundException.class)
                .hasMessage(data + ": missing train-labels-idx1-ubyte(.gz), t10k-images-idx3-ubyte(.gz) (the Fashion-MNIST files)");
        Path absent = tmp.resolve("absent");
        assertThatThrownBy(() -> FashionMnist.load(absent))
                .isInstanceOf(FileNotFoundException.class)
                .hasMessage(absent + ": no such folder (for the Fashion-MNIST files)");
    }

    @Test
    void prefersTheCacheThenSystemFoldersAndDownloadsNothing() throws IOException {
        Path cache = tmp.resolve("cache"), system = tmp.resolve("system");
        IdxFiles.writeMnistLayout(system, 3, 2, 1, true);
        URI base = startServer();
        Splits fromSystem = FashionMnist.load(null, locator(cache, system, base));
        assertThat(fromSystem.train().y().toFloatArray()).containsExactly(1, 2, 3);

        IdxFiles.writeMnistLayout(cache, 3, 2, 7, false);
        Splits fromCache = FashionMnist.load(null, locator(cache, system, base));
        assertThat(fromCache.train().y().toFloatArray()).containsExactly(7, 8, 9);
        assertThat(requests).isEmpty();
    }

    @Test
    void downloadsMissingFilesIntoTheCacheOnce() throws IOException {
        Path cache = tmp.resolve("cache"), system = tmp.resolve("system");
        serveMnistLayout(4, 2);
        DatasetLocator locator = locator(cache, system, startServer());
        Splits s = FashionMnist.load(null, locator);
        assertThat(s.train().size()).isEqualTo(4);
        assertThat(s.test().y().toFloatArray()).containsExactly(0, 1);
        assertThat(requests).containsExactly("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz");
        assertThat(filesIn(cache)).containsExactly("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
                "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz");

        requests.clear();
        FashionMnist.load(null, locator);
        assertThat(requests).isEmpty();
    }

    @Test
    void downloadsOnlyTheFilesNoFolderHas() throws IOException {
        Path cache = tmp.resolve("cache"), system = tmp.resolve("system");
        IdxFiles.writeMnistLayout(system, 4, 2, 0, false);
        Files.delete(system.resolve("t10k-labels-idx1-ubyte"));
        serveMnistLayout(4, 2);
        FashionMnist.load(null, locator(cache, system, startServer()));
        assertThat(requests).containsExactly("t10k-labels-idx1-ubyte.gz");
    }

    @Test
    void explainsAFailedDownloadWhenOffline() throws IOException {
        URI base = startServer();
        server.stop(0); // nothing listens on the port any more: like being offline
        server = null;
        Path cache = tmp.resolve("cache");
        assertThatThrownBy(() -> FashionMnist.load(null, locator(cache, tmp.resolve("system"), base)))
                .isInstanceOf(IOException.class)
                .hasMessageStartingWith("could not download " + base + "train-images-idx3-ubyte.gz to " + cache.resolve("train-images-idx3-ubyte.gz") + ": ")
                .hasMessageContaining("ConnectException: ")
                .hasMessageContaining(base.getHost())
                .hasMessageEndingWith("; pass --data DIR or install dataset-fashion-mnist");
        assertThat(filesIn(cache)).isEmpty();
    }

    @Test
    void explainsAnHttpErrorAndKeepsNothing() throws IOException {
        Path cache = tmp.resolve("cache");
        URI base = startServer(); // serves nothing: every file is a 404
        assertThatThrownBy(() -> FashionMnist.load(null, locator(cache, tmp.resolve("system"), base)))
                .hasMessageContaining("could not download " + base + "train-images-idx3-ubyte.gz")
                .hasMessageContaining("HTTP status 404");
        assertThat(filesIn(cache)).isEmpty();
    }

    @Test
    void discardsACorruptDownloadSoTheNextRunRetries() throws IOException {
        Path cache = tmp.resolve("cache");
        serveMnistLayout(2, 1);
        served.put("train-labels-idx1-ubyte.gz", new byte[] {1, 2, 3});
        assertThatThrownBy(() -> FashionMnist.load(null, locator(cache, tmp.resolve("system"), startServer())))
                .isInstanceOf(FormatException.class)
                .hasMessageContaining("train-labels-idx1-ubyte.gz: file ends after 3 of the 4 magic-number bytes");
        assertThat(filesIn(cache)).doesNotContain("train-labels-idx1-ubyte.gz");
    }

    @Test
    void rejectsFilesThatDoNotFitTogether() throws IOException {
        Path data = tmp.resolve("given");
        IdxFiles.writeMnistLayout(data, 3, 2, 0, false);
        Files.write(data.resolve("train-labels-idx1-ubyte"), IdxFiles.labels(2, 0));
        assertThatThrownBy(() -> Mnist.load(data))
                .isInstanceOf(FormatException.class)
                .hasMessage(data.resolve("train-labels-idx1-ubyte") + ": has 2 labels but train-images-idx3-ubyte has 3 images");

        Files.write(data.resolve("train-labels-idx1-ubyte"), IdxFiles.ubyte(new int[] {3}, new byte[] {0, 10, 1}));
        assertThatThrownBy(() -> Mnist.load(data)).hasMessageEndingWith("label 10 of example 1 is outside 0..9");

        Files.write(data.resolve("train-images-idx3-ubyte"), IdxFiles.labels(3, 0)); // labels where images belong
        assertThatThrownBy(() -> Mnist.load(data))
                .hasMessage(data.resolve("train-images-idx3-ubyte") + ": wrong magic number 0x00000801, expected 0x00000803 for unsigned-byte images");
    }

    @Test
    void standardLocationsAreTheCacheThenUsrShareDatasets() {
        DatasetLocator f = FashionMnist.locator();
        assertThat(f.searchDirs()).containsExactly(dev.jumbo.io.JumboCache.root().resolve("datasets/fashion-mnist"), Path.of("/usr/share/datasets/fashion-mnist"));
        assertThat(f.cacheDir()).isEqualTo(f.searchDirs().getFirst());
        assertThat(f.baseUrl()).hasToString("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/");
        DatasetLocator m = Mnist.locator();
        assertThat(m.searchDirs()).containsExactly(dev.jumbo.io.JumboCache.root().resolve("datasets/mnist"), Path.of("/usr/share/datasets/mnist"));
        assertThat(m.baseUrl()).hasToString("https://ossci-datasets.s3.amazonaws.com/mnist/");
        String env = System.getenv("JUMBO_CACHE");
        Path expectedRoot = env != null && !env.isBlank() ? Path.of(env) : Path.of(System.getProperty("user.home"), ".cache", "jumbo");
        assertThat(dev.jumbo.io.JumboCache.root()).isEqualTo(expectedRoot);
    }
}
