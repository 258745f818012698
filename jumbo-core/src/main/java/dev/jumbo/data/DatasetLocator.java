package dev.jumbo.data;

import dev.jumbo.io.AtomicFiles;
import dev.jumbo.io.JumboCache;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Where the files of a downloadable dataset come from, in order: a folder the user names (and
 * nothing else then); otherwise, file by file, the first of {@code searchDirs} that has it, plain
 * or gzipped; otherwise a download of {@code <name>.gz} from {@code baseUrl} into
 * {@code cacheDir}. Package-private so tests can point it at a temporary folder and a local
 * server.
 *
 * @param title       the dataset's name in messages ("Fashion-MNIST")
 * @param searchDirs  folders searched in order; the cache is usually the first
 * @param cacheDir    where downloads go
 * @param baseUrl     the address the file names are resolved against; ends with '/'
 * @param timeout     for connecting and for the response to begin
 * @param installHint what the user can do instead of downloading, ends an offline error
 */
record DatasetLocator(String title, List<Path> searchDirs, Path cacheDir, URI baseUrl, Duration timeout, String installHint) {

    /** A located file; {@code downloaded} says it was fetched just now (so a corrupt copy may be discarded). */
    record Found(Path path, boolean downloaded) {}

    /**
     * The usual locations of a dataset kept in a folder called {@code folder}: the Jumbo cache
     * ({@code $JUMBO_CACHE}, else {@code ~/.cache/jumbo}) under {@code datasets/}, then
     * {@code /usr/share/datasets/} (where Debian's dataset packages install).
     *
     * @param debianPackage the Debian package that installs the files, or null if there is none
     */
    static DatasetLocator standard(String title, String folder, URI baseUrl, String debianPackage) {
        Path cache = JumboCache.root().resolve("datasets").resolve(folder);
        String hint = "pass --data DIR or " + (debianPackage != null ? "install " + debianPackage : "put the files in " + cache);
        return new DatasetLocator(title, List.of(cache, Path.of("/usr/share/datasets", folder)), cache, baseUrl,
                Duration.ofSeconds(30), hint);
    }

    /**
     * Finds (or downloads) each of {@code names}, in order.
     *
     * @param dataDir a folder the user chose, or null to search and download
     * @throws FileNotFoundException if {@code dataDir} lacks some of the files (all missing ones are named)
     * @throws IOException if a download fails, with a message saying what to do instead
     */
    List<Found> locate(Path dataDir, List<String> names) throws IOException {
        List<Found> found = new ArrayList<>();
        if (dataDir != null) {
            if (!Files.isDirectory(dataDir)) throw new FileNotFoundException(dataDir + ": no such folder (for the " + title + " files)");
            List<String> missing = new ArrayList<>();
            for (String name : names) {
                Path p = find(dataDir, name);
                if (p == null) missing.add(name + "(.gz)");
                else found.add(new Found(p, false));
            }
            if (!missing.isEmpty())
                throw new FileNotFoundException(dataDir + ": missing " + String.join(", ", missing) + " (the " + title + " files)");
            return found;
        }
        for (String name : names) {
            Path p = null;
            for (Path dir : searchDirs) {
                p = find(dir, name);
                if (p != null) break;
            }
            found.add(p != null ? new Found(p, false) : new Found(download(name + ".gz"), true));
        }
        return found;
    }

    /** {@code dir/name} or {@code dir/name.gz}, whichever exists first, else null. */
    private static Path find(Path dir, String name) {
        for (String candidate : List.of(name, name + ".gz")) {
            Path p = dir.resolve(candidate);
            if (Files.isRegularFile(p)) return p;
        }
        return null;
    }

    /** Downloads {@code fileName} into the cache through a temporary file, so an interrupted download leaves nothing behind. */
    private Path download(String fileName) throws IOException {
        URI uri = baseUrl.resolve(fileName);
        Path target = cacheDir.resolve(fileName);
        try (HttpClient client = HttpClient.newBuilder()
                .connectTimeout(timeout)
                .followRedirects(HttpClient.Redirect.NORMAL)
                .build()) {
            Files.createDirectories(cacheDir);
            HttpRequest request = HttpRequest.newBuilder(uri).timeout(timeout).GET().build();
            HttpResponse<InputStream> response = client.send(request, HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream body = response.body()) {
                if (response.statusCode() != 200) throw new IOException("HTTP status " + response.statusCode());
                AtomicFiles.write(target, body::transferTo);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while downloading " + uri);
        } catch (IOException e) {
            throw new IOException("could not download " + uri + " to " + target + ": " + describe(e, uri) + "; " + installHint, e);
        }
        return target;
    }

    /** The exception's type and the first message along its causes; HttpClient's ConnectException often has none. */
    private static String describe(Throwable e, URI uri) {
        for (Throwable c = e; c != null; c = c.getCause())
            if (c.getMessage() != null) return e.getClass().getSimpleName() + ": " + c.getMessage();
        if (e instanceof ConnectException) return "ConnectException: no connection to " + uri.getHost() + (uri.getPort() < 0 ? "" : ":" + uri.getPort());
        return e.getClass().getSimpleName();
    }
}
