package dev.jumbo.serve;

import io.helidon.webserver.http.HttpRouting;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * The playground page at {@code GET /}: a plain HTML page, its script and its style (resources
 * under {@code dev/jumbo/serve/playground/}, served from {@code /playground/}) that stream a
 * completion from {@code /v1/completions} in the browser. The page holds no secret, so it is
 * served without the API key; the key a user types goes with the page's {@code /v1} calls.
 *
 * <p>Every file goes out with headers a deployed page should have: its type with a charset,
 * {@code X-Content-Type-Options: nosniff}, and a Content-Security-Policy that lets the page load
 * scripts, styles and images from this server only and connect to nothing else (no inline
 * script, so injected markup could not run even if some escaping were missed).
 */
final class PlaygroundPage {
    static final String CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
            + "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    /** A file of the page: where it is served, the resource it is read from, its Content-Type. */
    private record Asset(String path, String resource, String contentType) {}

    private static final List<Asset> ASSETS = List.of(
            new Asset("/", "index.html", "text/html; charset=utf-8"),
            new Asset("/playground/playground.js", "playground.js", "text/javascript; charset=utf-8"),
            new Asset("/playground/playground.css", "playground.css", "text/css; charset=utf-8"),
            new Asset("/playground/icon.svg", "icon.svg", "image/svg+xml; charset=utf-8"));

    private PlaygroundPage() {}

    /** Adds a GET route per file (read once, here: a missing resource fails the server's start, not a visit). */
    static void routes(HttpRouting.Builder routing) {
        for (Asset asset : ASSETS) {
            byte[] body = read(asset.resource());
            routing.get(asset.path(), (req, res) -> {
                res.header("Content-Type", asset.contentType());
                res.header("X-Content-Type-Options", "nosniff");
                res.header("Content-Security-Policy", CONTENT_SECURITY_POLICY);
                res.header("Referrer-Policy", "no-referrer");
                res.header("Cache-Control", "no-cache"); // a restarted, newer server's page is not mixed with an old script
                res.send(body);
            });
        }
    }

    private static byte[] read(String resource) {
        try (InputStream in = PlaygroundPage.class.getResourceAsStream("playground/" + resource)) {
            if (in == null) throw new IllegalStateException("the playground's " + resource + " is missing from the jar");
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
