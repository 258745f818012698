package dev.jumbo.text;

import dev.jumbo.io.AtomicFiles;
import dev.jumbo.io.FormatException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Where GPT-2's byte-level BPE vocabulary ({@code vocab.json} + {@code merges.txt}, or one
 * {@code tokenizer.json}) comes from, in order: a folder the caller names (and nothing else then);
 * otherwise the HuggingFace hub cache's snapshots of {@code openai-community/gpt2} and {@code gpt2};
 * otherwise {@code folders} in order (by default the project's {@code ../shared/data/gpt2-tokenizer});
 * otherwise a download of {@code vocab.json} and {@code merges.txt} from {@code baseUrl} into the hub
 * cache, laid out as HuggingFace lays it out, so that its own tools find them too.
 *
 * <pre>{@code
 * ByteLevelBpe gpt2 = Gpt2Vocabulary.standard().load(null);   // null: search, then download
 * }</pre>
 *
 * <p>The same pattern as the datasets' locator in {@code dev.jumbo.data} (search, then an atomic
 * download into a cache), for a vocabulary whose two files must come from the same folder.
 *
 * @param hubCache HuggingFace's hub cache: {@code models--<owner>--<name>/snapshots/<revision>/} below it
 * @param folders  plain folders searched after the hub cache, in order
 * @param baseUrl  the address {@code vocab.json} and {@code merges.txt} are resolved against (ends
 *                 with '/'), or null never to download
 * @param timeout  for connecting and for a response to begin
 */
public record Gpt2Vocabulary(Path hubCache, List<Path> folders, URI baseUrl, Duration timeout) {
    /** GPT-2's files on the HuggingFace hub. */
    public static final URI HUB_URL = URI.create("https://huggingface.co/openai-community/gpt2/resolve/main/");
    /** The hub cache's folders of GPT-2's repository: its current name first, then its old one. */
    static final List<String> HUB_REPOS = List.of("models--openai-community--gpt2", "models--gpt2");
    private static final List<String> DOWNLOADED = List.of("vocab.json", "merges.txt");
    /** A downloaded file longer than this is refused (GPT-2's are 1.0 MB and 0.5 MB). */
    static final long MAX_DOWNLOAD_BYTES = 64L << 20;

    public Gpt2Vocabulary {
        if (hubCache == null || timeout == null) throw new IllegalArgumentException("hubCache and timeout are required");
        folders = List.copyOf(folders);
    }

    /**
     * The usual places, read from the environment as HuggingFace reads them: the hub cache
     * {@code $HF_HUB_CACHE}, else {@code $HF_HOME/hub}, else {@code $XDG_CACHE_HOME/huggingface/hub},
     * else {@code ~/.cache/huggingface/hub}; then {@code ../shared/data/gpt2-tokenizer} from the
     * working directory and beside the Jumbo checkout this code runs from (if it runs from one);
     * then a download from {@link #HUB_URL}, unless {@code HF_HUB_OFFLINE} is set to 1, true, yes or on.
     */
    public static Gpt2Vocabulary standard() {
        return standard(System.getenv(), Path.of(""), codeLocation());
    }

    /** {@link #standard()} for a given environment, working directory and location of the code (or null). */
    static Gpt2Vocabulary standard(Map<String, String> env, Path workingDir, Path codeLocation) {
        List<Path> folders = new ArrayList<>();
        folders.add(sharedData(workingDir.toAbsolutePath().normalize().getParent()));
        Path checkout = checkoutOf(codeLocation);
        if (checkout != null) folders.add(sharedData(checkout.getParent()));
        boolean offline = List.of("1", "true", "yes", "on").contains(env.getOrDefault("HF_HUB_OFFLINE", "").trim().toLowerCase(Locale.ROOT));
        return new Gpt2Vocabulary(hubCache(env), folders.stream().filter(p -> p != null).distinct().toList(),
                offline ? null : HUB_URL, Duration.ofSeconds(30));
    }

    /** The same places, never downloading. */
    public Gpt2Vocabulary offline() {
        return new Gpt2Vocabulary(hubCache, folders, null, timeout);
    }

    /** Loads the vocabulary of {@link #locate}. */
    public ByteLevelBpe load(Path dir) throws IOException {
        return ByteLevelBpe.load(locate(dir));
    }

    /**
     * The folder that holds GPT-2's vocabulary, downloading it if no place has it.
     *
     * @param dir a folder the caller chose (then only it is looked at), or null to search
     * @throws FileNotFoundException if {@code dir} lacks the files, or nothing has them and downloading is off
     * @throws IOException if the download fails; the message names every place searched
     */
    public Path locate(Path dir) throws IOException {
        if (dir != null) {
            if (!Files.isDirectory(dir)) throw new FileNotFoundException(dir + ": no such folder (for GPT-2's vocab.json and merges.txt)");
            if (!holdsVocabulary(dir)) throw new FileNotFoundException(dir + ": no vocab.json + merges.txt or tokenizer.json (GPT-2's vocabulary)");
            return dir;
        }
        for (String repo : HUB_REPOS)
            for (Path snapshot : snapshots(hubCache.resolve(repo)))
                if (holdsVocabulary(snapshot)) return snapshot;
        for (Path folder : folders)
            if (holdsVocabulary(folder)) return folder;
        String searched = "GPT-2's vocabulary (vocab.json + merges.txt, or tokenizer.json) is in none of "
                + Stream.concat(HUB_REPOS.stream().map(r -> hubCache.resolve(r).resolve("snapshots").resolve("*").toString()),
                        folders.stream().map(Path::toString)).collect(Collectors.joining(", "));
        String hint = "pass --tokenizer-dir DIR (a folder holding vocab.json and merges.txt)";
        if (baseUrl == null) throw new FileNotFoundException(searched + ", and downloading is off; " + hint);
        return download(searched, hint);
    }

    /** A folder holds the vocabulary if {@link ByteLevelBpe#load} would find its files there. */
    static boolean holdsVocabulary(Path dir) {
        return Files.isRegularFile(dir.resolve("tokenizer.json"))
                || Files.isRegularFile(dir.resolve("vocab.json")) && Files.isRegularFile(dir.resolve("merges.txt"));
    }

    /** A hub repository's snapshot folders: the one {@code refs/main} names first, then the others by name. */
    private static List<Path> snapshots(Path repo) throws IOException {
        Path snapshots = repo.resolve("snapshots");
        if (!Files.isDirectory(snapshots)) return List.of();
        List<Path> dirs;
        try (Stream<Path> s = Files.list(snapshots)) {
            dirs = s.filter(Files::isDirectory).sorted().collect(Collectors.toCollection(ArrayList::new));
        }
        Path ref = repo.resolve("refs").resolve("main");
        if (Files.isRegularFile(ref)) {
            Path main = snapshots.resolve(Files.readString(ref, StandardCharsets.UTF_8).strip());
            if (dirs.remove(main)) dirs.addFirst(main);
        }
        return dirs;
    }

    /**
     * Downloads {@code vocab.json} and {@code merges.txt} into
     * {@code hubCache/models--openai-community--gpt2/snapshots/<revision>/}, the revision being the
     * commit the hub names in its {@code X-Repo-Commit} header ({@code main} if it names none); each
     * file is written atomically, and files that do not load as a vocabulary are deleted again.
     */
    private Path download(String searched, String hint) throws IOException {
        Path repo = hubCache.resolve(HUB_REPOS.getFirst());
        Path dir = null;
        String revision = null;
        URI uri = baseUrl;
        try (HttpClient client = HttpClient.newBuilder().connectTimeout(timeout).followRedirects(HttpClient.Redirect.NORMAL).build()) {
            for (String name : DOWNLOADED) {
                uri = baseUrl.resolve(name);
                HttpResponse<InputStream> response = client.send(HttpRequest.newBuilder(uri).timeout(timeout).GET().build(),
                        HttpResponse.BodyHandlers.ofInputStream());
                try (InputStream body = response.body()) {
                    if (response.statusCode() != 200) throw new IOException("HTTP status " + response.statusCode());
                    if (dir == null) {
                        revision = response.headers().firstValue("X-Repo-Commit").filter(c -> c.matches("[0-9a-f]{40}")).orElse("main");
                        dir = repo.resolve("snapshots").resolve(revision);
                        Files.createDirectories(dir);
                    }
                    AtomicFiles.write(dir.resolve(name), file -> copyAtMost(body, file, MAX_DOWNLOAD_BYTES));
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while downloading " + uri);
        } catch (IOException e) {
            throw new IOException(searched + ", and downloading " + uri + " into " + repo + " failed (" + describe(e, uri) + "); " + hint, e);
        }
        try {
            ByteLevelBpe.load(dir);
        } catch (FormatException e) {
            for (String name : DOWNLOADED) Files.deleteIfExists(dir.resolve(name)); // the next run downloads them again
            throw new FormatException(dir, "the downloaded vocabulary does not load (" + e.getMessage() + "); deleted it", e);
        }
        // as HuggingFace's own downloads do: refs/main names the snapshot (never overwriting one it wrote)
        Path ref = repo.resolve("refs").resolve("main");
        if (!"main".equals(revision) && !Files.exists(ref)) {
            Files.createDirectories(ref.getParent());
            AtomicFiles.writeString(ref, revision);
        }
        return dir;
    }

    /** Copies {@code in} to {@code out}, failing once more than {@code limit} bytes came. */
    private static void copyAtMost(InputStream in, java.io.OutputStream out, long limit) throws IOException {
        byte[] buffer = new byte[1 << 16];
        long total = 0;
        for (int n; (n = in.read(buffer)) >= 0; ) {
            total += n;
            if (total > limit) throw new IOException("longer than " + (limit >> 20) + " MB, which no vocabulary file is");
            out.write(buffer, 0, n);
        }
    }

    /** The exception's type and the first message along its causes; HttpClient's ConnectException often has none. */
    private static String describe(Throwable e, URI uri) {
        for (Throwable c = e; c != null; c = c.getCause())
            if (c.getMessage() != null) return e.getClass().getSimpleName() + ": " + c.getMessage();
        if (e instanceof ConnectException) return "ConnectException: no connection to " + uri.getHost();
        return e.getClass().getSimpleName();
    }

    /** HuggingFace's hub cache as {@code huggingface_hub} finds it. */
    static Path hubCache(Map<String, String> env) {
        if (isSet(env, "HF_HUB_CACHE")) return Path.of(env.get("HF_HUB_CACHE"));
        if (isSet(env, "HF_HOME")) return Path.of(env.get("HF_HOME"), "hub");
        if (isSet(env, "XDG_CACHE_HOME")) return Path.of(env.get("XDG_CACHE_HOME"), "huggingface", "hub");
        return Path.of(System.getProperty("user.home"), ".cache", "huggingface", "hub");
    }

    private static boolean isSet(Map<String, String> env, String name) {
        return env.get(name) != null && !env.get(name).isBlank();
    }

    /** {@code parent/shared/data/gpt2-tokenizer}, or null without a parent. */
    private static Path sharedData(Path parent) {
        return parent == null ? null : parent.resolve("shared").resolve("data").resolve("gpt2-tokenizer");
    }

    /** The Jumbo checkout holding {@code code} (the first folder up with the {@code jumbo} launcher and a pom.xml), or null. */
    static Path checkoutOf(Path code) {
        for (Path p = code == null ? null : code.toAbsolutePath().normalize(); p != null; p = p.getParent())
            if (Files.isRegularFile(p.resolve("jumbo")) && Files.isRegularFile(p.resolve("pom.xml"))) return p;
        return null;
    }

    /** Where this class was loaded from (a jar or a classes folder), or null if that is not a file. */
    private static Path codeLocation() {
        var source = Gpt2Vocabulary.class.getProtectionDomain().getCodeSource();
        if (source == null || source.getLocation() == null) return null;
        try {
            return Path.of(source.getLocation().toURI());
        } catch (java.net.URISyntaxException | IllegalArgumentException | java.nio.file.FileSystemNotFoundException e) {
            return null; // not loaded from a file: there is no checkout to look beside
        }
    }
}
