package dev.jumbo.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code jumbo serve} as a real process with the bundled model, stopped as a process manager stops it: SIGTERM. */
class ServeProcessTest {
    @TempDir
    Path tmp;

    @Test
    void sigtermDrainsAndExitsZero() throws Exception {
        Process p = JumboProcess.start(tmp, "serve", "--port", "0", "--drain-timeout", "20");
        // stderr is read aside (the banner, the model's line) so that the pipe never fills
        // (each reader on a thread of its own: the common pool may have a single one, on 2 cores)
        ExecutorService readers = Executors.newVirtualThreadPerTaskExecutor();
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(p.errorReader(StandardCharsets.UTF_8)), readers);
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        try (HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()) {
            Matcher listening = Pattern.compile("listening on (http://127\\.0\\.0\\.1:\\d+)").matcher("");
            String firstLine = CompletableFuture.supplyAsync(() -> {
                try {
                    return out.readLine();
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }, readers).get(120, TimeUnit.SECONDS);
            assertThat(firstLine).as("stderr: %s", err.getNow("")).isNotNull();
            assertThat(listening.reset(firstLine).find()).as(firstLine).isTrue();
            String base = listening.group(1);

            assertThat(http.send(HttpRequest.newBuilder(URI.create(base + "/ready")).build(), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
            HttpResponse<String> completion = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/completions"))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"stories260K\",\"prompt\":\"Once\",\"max_tokens\":8}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(completion.statusCode()).isEqualTo(200);
            HttpResponse<String> metrics = http.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(metrics.body()).contains("jumbo_http_requests_total{endpoint=\"/v1/completions\",status=\"200\"} 1");

            // a stream in flight when the signal comes finishes (the bundled model is fast: it may also end before)
            HttpResponse<java.util.stream.Stream<String>> stream = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/completions"))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"stories260K\",\"prompt\":\"Once\",\"max_tokens\":400,\"seed\":1,\"stream\":true}")).build(),
                    HttpResponse.BodyHandlers.ofLines());
            assertThat(stream.statusCode()).isEqualTo(200);
            // SIGTERM on Linux; through the handle, as Process.destroy() also closes our ends of the pipes, and what the server prints next is the point
            p.toHandle().destroy();
            List<String> events = stream.body().filter(l -> l.startsWith("data: ")).toList();
            assertThat(events.getLast()).isEqualTo("data: [DONE]");

            assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("exited within 30 s of SIGTERM").isTrue();
            String rest = read(out);
            String stderr = err.get(10, TimeUnit.SECONDS);
            assertThat(p.exitValue()).as("exit code; stdout: %s; stderr: %s", rest, stderr).isZero();
            assertThat(rest).contains("SIGTERM: draining").containsPattern("drained in \\d+\\.\\d s; stopped");
            assertThat(stderr).doesNotContain("Exception");
        } finally {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
            readers.shutdown(); // the readers end with the process's output
        }
    }

    private static String read(BufferedReader reader) {
        StringBuilder text = new StringBuilder();
        reader.lines().forEach(l -> text.append(l).append('\n'));
        return text.toString();
    }
}
