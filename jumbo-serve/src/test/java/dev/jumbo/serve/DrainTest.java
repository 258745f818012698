package dev.jumbo.serve;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * {@link JumboServer#drain}, as SIGTERM runs it, on a server whose decoding is held to at least
 * 20 ms a step, so that a stream of a few hundred tokens lasts seconds.
 */
class DrainTest {
    private static TestServer slowServer() {
        return TestServer.start(TestServer.options(null, 4, 4, 1 << 20), 20);
    }

    private static String completion(int maxTokens, boolean stream) {
        return "{\"model\":\"stories260K\",\"prompt\":\"Once\",\"max_tokens\":" + maxTokens + ",\"temperature\":1,\"seed\":1,\"stream\":" + stream + "}";
    }

    /** A stream started and its first event read: it is in flight. */
    private static BufferedReader startStream(TestServer api, int maxTokens) throws Exception {
        HttpRequest request = api.request("/v1/completions").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(completion(maxTokens, true))).build();
        HttpResponse<InputStream> response = api.http.send(request, HttpResponse.BodyHandlers.ofInputStream());
        assertThat(response.statusCode()).isEqualTo(200);
        return new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8));
    }

    /** The stream's events from its first, which is read here, to its end. */
    private static List<String> readToEnd(BufferedReader stream, String first) {
        return TestServer.events(first + "\n" + stream.lines().collect(Collectors.joining("\n")) + "\n");
    }

    private static void assertRefusedWhileDraining(HttpResponse<String> r) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(503);
        assertThat(r.headers().firstValue("Retry-After")).hasValue("1");
        JsonNode error = TestServer.json(r).get("error");
        assertThat(error.get("type").asText()).isEqualTo("server_error");
        assertThat(error.get("code").asText()).isEqualTo("unavailable");
        assertThat(error.get("message").asText()).contains("shutting down");
        assertThat(error.has("param")).isTrue();
    }

    @Test
    void aStreamInFlightFinishesWhileNewRequestsGet503() throws Exception {
        try (TestServer api = slowServer(); BufferedReader stream = startStream(api, 150)) { // 150 steps: 3 s at least
            String first = stream.readLine();
            assertThat(first).startsWith("data: {");
            assertThat(api.server.inFlight()).isEqualTo(1);
            CompletableFuture<Boolean> drained = CompletableFuture.supplyAsync(() -> {
                try {
                    return api.server.drain(Duration.ofSeconds(30));
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            for (long end = System.nanoTime() + 5_000_000_000L; api.get("/ready").statusCode() != 503; Thread.sleep(5))
                assertThat(System.nanoTime()).as("/ready still 200 after the drain began").isLessThan(end);

            assertRefusedWhileDraining(api.post("/v1/completions", completion(5, false)));
            assertRefusedWhileDraining(api.post("/v1/chat/completions", "{\"model\":\"stories260K\",\"messages\":[]}"));
            assertRefusedWhileDraining(api.get("/v1/models"));
            assertRefusedWhileDraining(api.get("/ready"));
            assertThat(api.get("/health").statusCode()).as("alive while draining").isEqualTo(200);
            assertThat(api.get("/metrics").statusCode()).isEqualTo(200);
            assertThat(drained).as("the stream is still running").isNotDone();
            assertThat(api.server.inFlight()).isEqualTo(1);

            List<String> events = readToEnd(stream, first);
            assertThat(events.getLast()).isEqualTo("[DONE]");
            JsonNode last = TestServer.json(events.get(events.size() - 2));
            assertThat(last.get("choices").get(0).get("finish_reason").asText()).isIn("stop", "length");
            assertThat(events).hasSizeGreaterThan(10).noneMatch(e -> e.contains("\"error\""));
            assertThat(drained.get(10, TimeUnit.SECONDS)).as("every request finished in time").isTrue();
            assertThat(api.server.inFlight()).isZero();
        }
    }

    @Test
    void aStreamLongerThanTheTimeoutIsCutWithAnErrorEvent() throws Exception {
        try (TestServer api = slowServer(); BufferedReader stream = startStream(api, 400)) { // 400 steps: 8 s at least
            String first = stream.readLine();
            assertThat(first).startsWith("data: {");
            // and a request that waits for its whole answer
            CompletableFuture<HttpResponse<String>> whole = api.http.sendAsync(api.request("/v1/completions").header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(completion(400, false))).build(), HttpResponse.BodyHandlers.ofString());
            for (long end = System.nanoTime() + 5_000_000_000L; api.server.inFlight() < 2; Thread.sleep(5))
                assertThat(System.nanoTime()).as("the second request never arrived").isLessThan(end);

            long start = System.nanoTime();
            boolean finished = api.server.drain(Duration.ofSeconds(1));
            double seconds = (System.nanoTime() - start) / 1e9;
            assertThat(finished).isFalse();
            assertThat(seconds).as("the drain lasted its timeout, and not much more").isBetween(0.95, 3.0);
            assertThat(api.server.inFlight()).as("the cut requests were answered").isZero();

            List<String> events = readToEnd(stream, first);
            assertThat(events).doesNotContain("[DONE]");
            JsonNode error = TestServer.json(events.getLast()).get("error");
            assertThat(error).as(events.getLast()).isNotNull();
            assertThat(error.get("type").asText()).isEqualTo("server_error");
            assertThat(error.get("message").asText()).contains("shutting down");
            assertThat(events.size()).as("cut after about 1 s of its 8").isBetween(2, 200);
            assertRefusedWhileDraining(whole.get(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void anIdleServerDrainsAtOnce() throws Exception {
        try (TestServer api = slowServer()) {
            assertThat(api.post("/v1/completions", completion(3, false)).statusCode()).isEqualTo(200);
            long start = System.nanoTime();
            assertThat(api.server.drain(Duration.ofSeconds(30))).isTrue();
            assertThat((System.nanoTime() - start) / 1e9).isLessThan(1);
            assertRefusedWhileDraining(api.post("/v1/completions", completion(3, false)));
        }
    }
}
