package dev.jumbo.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jumbo.models.LanguageModel;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** A real server on 127.0.0.1 and a free port, serving the bundled stories260K, and an HTTP client for it. */
final class TestServer implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();
    final JumboServer server;
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final String apiKey;

    private TestServer(JumboServer server, String apiKey) {
        this.server = server;
        this.apiKey = apiKey;
    }

    /** The bundled model, served as is. */
    static TestServer start(ServeOptions options) {
        return start(options, 0);
    }

    /** The bundled model, each decoding step held back {@code stepMillis} so that sequences stay busy long enough to test limits. */
    static TestServer start(ServeOptions options, long stepMillis) {
        JumboServer server = JumboServer.start(options);
        try {
            LanguageModel lm = bundled();
            if (stepMillis > 0) lm = new LanguageModel(new SlowModel(lm.model(), stepMillis), lm.tokenizer(), lm.bos(), lm.bosAlways(), lm.eos(),
                    lm.chatTemplate(), lm.resources());
            server.serve(BundledModel.NAME, lm);
            server.ready();
            return new TestServer(server, options.apiKey());
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
    }

    /** A server that listens but serves no model yet and is not ready. */
    static TestServer loading(ServeOptions options) {
        return new TestServer(JumboServer.start(options), options.apiKey());
    }

    static ServeOptions options(String apiKey, int maxConcurrency, int maxQueue, int maxBodyBytes) {
        return new ServeOptions("127.0.0.1", 0, apiKey, maxConcurrency, maxQueue, maxBodyBytes);
    }

    static LanguageModel bundled() {
        try {
            return LanguageModel.load(BundledModel.checkpoint(), null, 0, new PrintWriter(Writer.nullWriter()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    URI uri(String path) {
        return URI.create(server.address() + path);
    }

    HttpRequest.Builder request(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(60));
        if (apiKey != null) b.header("Authorization", "Bearer " + apiKey);
        return b;
    }

    HttpResponse<String> get(String path) {
        return send(request(path).GET().build());
    }

    HttpResponse<String> post(String path, String body) {
        return send(request(path).header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build());
    }

    HttpResponse<String> send(HttpRequest request) {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static JsonNode json(HttpResponse<String> response) {
        return json(response.body());
    }

    static JsonNode json(String text) {
        try {
            return JSON.readTree(text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Asserts that {@code r} is a client error of {@code status} with OpenAI's body naming {@code param} and saying {@code message} (among other words). */
    static void assertClientError(HttpResponse<String> r, int status, String param, String message) {
        org.assertj.core.api.Assertions.assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        JsonNode error = json(r).get("error");
        org.assertj.core.api.Assertions.assertThat(error.get("param").asText()).as(r.body()).isEqualTo(param);
        org.assertj.core.api.Assertions.assertThat(error.get("message").asText()).as(r.body()).contains(message);
        org.assertj.core.api.Assertions.assertThat(error.get("type").asText()).as(r.body()).isEqualTo("invalid_request_error");
    }

    /** The {@code data:} payloads of an event stream, in order ({@code [DONE]} included). */
    static List<String> events(String body) {
        List<String> data = new ArrayList<>();
        for (String event : body.split("\n\n")) {
            if (event.isBlank()) continue;
            if (!event.startsWith("data: ")) throw new AssertionError("not an OpenAI event: '" + event + "'");
            data.add(event.substring("data: ".length()));
        }
        return data;
    }

    /** Waits until the model's loop has nothing active or waiting. */
    void awaitIdle() throws InterruptedException {
        DecodeLoop loop = server.loop(BundledModel.NAME);
        for (long end = System.nanoTime() + 10_000_000_000L; loop.active() + loop.waiting() > 0; Thread.sleep(10))
            if (System.nanoTime() > end) throw new AssertionError("the decode loop is still busy: " + loop.active() + " active, " + loop.waiting() + " waiting");
    }

    @Override
    public void close() {
        http.close();
        server.close();
    }
}
