package dev.jumbo.serve;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The server's protections, on a server with an API key, one sequence at a time and one waiting,
 * 4 KB bodies, and decoding held to at least 20 ms a step so that a long generation stays busy
 * for seconds (stories260K alone makes 500 tokens in a fraction of one).
 */
class ServerLimitsTest {
    private static final String KEY = "sk-test-0123456789";
    private static TestServer api;

    @BeforeAll
    static void start() {
        api = TestServer.start(TestServer.options(KEY, 1, 1, 4096), 20);
    }

    @AfterAll
    static void stop() {
        api.close();
    }

    @BeforeEach
    void idle() throws InterruptedException {
        api.awaitIdle();
    }

    private static String longStream() {
        return "{\"model\":\"stories260K\",\"prompt\":\"Once\",\"max_tokens\":400,\"temperature\":1,\"seed\":1,\"stream\":true}";
    }

    @Test
    void v1NeedsTheApiKey() {
        HttpResponse<String> missing = api.send(HttpRequest.newBuilder(api.uri("/v1/models")).GET().build());
        assertThat(missing.statusCode()).isEqualTo(401);
        assertThat(TestServer.json(missing).get("error").get("code").asText()).isEqualTo("invalid_api_key");
        assertThat(missing.headers().firstValue("WWW-Authenticate")).hasValue("Bearer");
        for (String wrong : new String[] {"Bearer " + KEY + "x", "Bearer sk-test-012345678", "Basic " + KEY, KEY})
            assertThat(api.send(HttpRequest.newBuilder(api.uri("/v1/models")).header("Authorization", wrong).GET().build()).statusCode())
                    .as(wrong).isEqualTo(401);
        HttpResponse<String> post = api.send(HttpRequest.newBuilder(api.uri("/v1/completions")).header("Authorization", "Bearer nope")
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"stories260K\"}")).build());
        assertThat(post.statusCode()).isEqualTo(401);
        assertThat(api.get("/v1/models").statusCode()).isEqualTo(200); // with the key
        assertThat(api.send(HttpRequest.newBuilder(api.uri("/health")).GET().build()).statusCode()).isEqualTo(200); // not under /v1
    }

    @Test
    void aBodyOverTheLimitIs413() {
        String big = "{\"model\":\"stories260K\",\"prompt\":\"" + "a".repeat(5000) + "\"}";
        HttpResponse<String> declared = api.post("/v1/completions", big);
        assertThat(declared.statusCode()).isEqualTo(413);
        assertThat(TestServer.json(declared).get("error").get("message").asText()).contains("4096");
        // the same without a Content-Length (chunked): counted as it is read
        HttpResponse<String> chunked = api.send(api.request("/v1/completions").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(big.getBytes(StandardCharsets.UTF_8)))).build());
        assertThat(chunked.statusCode()).isEqualTo(413);
        assertThat(TestServer.json(chunked).get("error").get("code").asText()).isEqualTo("request_too_large");
    }

    @Test
    void beyondConcurrencyAndQueueIs429WithRetryAfter() throws Exception {
        DecodeLoop loop = api.server.loop(BundledModel.NAME);
        CompletableFuture<HttpResponse<InputStream>> running = api.http.sendAsync(streamRequest(), HttpResponse.BodyHandlers.ofInputStream());
        CompletableFuture<HttpResponse<InputStream>> queued = null;
        try (BufferedReader first = new BufferedReader(new InputStreamReader(running.get().body(), StandardCharsets.UTF_8))) {
            assertThat(first.readLine()).startsWith("data: "); // generating
            queued = api.http.sendAsync(streamRequest(), HttpResponse.BodyHandlers.ofInputStream());
            for (long end = System.nanoTime() + 5_000_000_000L; loop.waiting() < 1 && System.nanoTime() < end; ) Thread.sleep(5);
            assertThat(loop.active()).isEqualTo(1);
            assertThat(loop.waiting()).isEqualTo(1);
            HttpResponse<String> refused = api.post("/v1/completions", "{\"model\":\"stories260K\",\"prompt\":\"Hi\",\"max_tokens\":5}");
            assertThat(refused.statusCode()).isEqualTo(429);
            assertThat(refused.headers().firstValue("Retry-After")).hasValue("1");
            JsonNode error = TestServer.json(refused).get("error");
            assertThat(error.get("code").asText()).isEqualTo("rate_limit_exceeded");
            assertThat(error.get("message").asText()).contains("1 at once", "1 queued");
        } finally {
            if (queued != null) queued.cancel(true);
            running.cancel(true);
        }
    }

    @Test
    void aClientThatDisconnectsMidStreamFreesItsPlace() throws Exception {
        DecodeLoop loop = api.server.loop(BundledModel.NAME);
        long before = loop.generatedTokens();
        try (Socket socket = new Socket("127.0.0.1", api.server.port())) {
            byte[] body = longStream().getBytes(StandardCharsets.UTF_8);
            OutputStream out = socket.getOutputStream();
            out.write(("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + KEY + "\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            assertThat(in.readLine()).isEqualTo("HTTP/1.1 200 OK");
            for (String line; (line = in.readLine()) != null && !line.startsWith("data: "); ) { } // the first chunk arrived
        } // and the client is gone, 390-odd tokens (8 s at 20 ms a step) before its generation would end
        long start = System.nanoTime();
        HttpResponse<String> next = api.post("/v1/completions", "{\"model\":\"stories260K\",\"prompt\":\"Hi\",\"max_tokens\":5}");
        double seconds = (System.nanoTime() - start) / 1e9;
        assertThat(next.statusCode()).as(next.body()).isEqualTo(200);
        assertThat(seconds).as("served once the stream's sequence stopped, not after its 400 tokens").isLessThan(3);
        assertThat(loop.generatedTokens() - before).isLessThan(100);
    }

    @Test
    void notReadyUntilTheModelsAreLoaded() throws Exception {
        try (TestServer loading = TestServer.loading(TestServer.options(null, 1, 0, 4096))) {
            assertThat(loading.get("/health").statusCode()).isEqualTo(200);
            assertThat(loading.get("/ready").statusCode()).isEqualTo(503);
            HttpResponse<String> early = loading.get("/v1/models");
            assertThat(early.statusCode()).isEqualTo(503);
            assertThat(early.headers().firstValue("Retry-After")).isPresent();
            loading.server.serve(BundledModel.NAME, TestServer.bundled());
            loading.server.ready();
            assertThat(loading.get("/ready").statusCode()).isEqualTo(200);
            assertThat(loading.get("/v1/models").statusCode()).isEqualTo(200);
        }
    }

    private static HttpRequest streamRequest() {
        return api.request("/v1/completions").header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(longStream())).build();
    }
}
