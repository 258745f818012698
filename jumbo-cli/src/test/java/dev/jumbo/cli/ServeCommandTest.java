package dev.jumbo.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** {@code jumbo serve} run in-process on a free port, until its thread is interrupted. */
class ServeCommandTest {
    @Test
    void servesTheNamedModelUntilInterrupted() throws Exception {
        Path checkpoint = CliTest.sharedData().resolve("llama2c/stories260K.bin");
        StringWriter out = new StringWriter(), err = new StringWriter();
        AtomicInteger code = new AtomicInteger(-1);
        Thread serving = Thread.ofPlatform().start(() -> code.set(Main.run(new String[] {"serve", "--model", "tiny=" + checkpoint, "--port", "0"},
                new PrintWriter(out), new PrintWriter(err))));
        Matcher address = Pattern.compile("listening on (http://127\\.0\\.0\\.1:\\d+)").matcher("");
        for (long end = System.nanoTime() + 30_000_000_000L; !address.reset(out.toString()).find(); Thread.sleep(20))
            assertThat(System.nanoTime()).as("no address printed; stderr: " + err).isLessThan(end);
        try (HttpClient http = HttpClient.newHttpClient()) {
            HttpResponse<String> models = http.send(HttpRequest.newBuilder(URI.create(address.group(1) + "/v1/models")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(models.body()).contains("\"id\":\"tiny\"");
            HttpResponse<String> completion = http.send(HttpRequest.newBuilder(URI.create(address.group(1) + "/v1/completions"))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"tiny\",\"prompt\":\"Once\",\"max_tokens\":5}")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(completion.statusCode()).isEqualTo(200);
        }
        assertThat(err.toString()).contains("SIMD", "threads", "JDK").contains("model tiny: " + checkpoint).contains("context 512 tokens");
        serving.interrupt();
        serving.join(10_000);
        assertThat(serving.isAlive()).isFalse();
        assertThat(code.get()).as(err.toString()).isZero();
    }

    @Test
    void benchServeLoadTestsARunningServer() throws Exception {
        Path checkpoint = CliTest.sharedData().resolve("llama2c/stories260K.bin");
        StringWriter out = new StringWriter(), err = new StringWriter();
        Thread serving = Thread.ofPlatform().start(() -> Main.run(new String[] {"serve", "--model", "tiny=" + checkpoint, "--port", "0"},
                new PrintWriter(out), new PrintWriter(err)));
        try {
            Matcher address = Pattern.compile("listening on (http://127\\.0\\.0\\.1:\\d+)").matcher("");
            for (long end = System.nanoTime() + 30_000_000_000L; !address.reset(out.toString()).find(); Thread.sleep(20))
                assertThat(System.nanoTime()).as("no address printed; stderr: " + err).isLessThan(end);
            long pid = ProcessHandle.current().pid();
            CliTest.Result r = CliTest.run("bench", "serve", "--url", address.group(1), "--clients", "3", "--seconds", "4", "--max-tokens", "16",
                    "--server-pid", Long.toString(pid), "--json");
            assertThat(r.code()).as(r.err()).isZero();
            var j = r.lastJson();
            assertThat(j.get("model").asText()).isEqualTo("tiny");
            assertThat(j.get("streams").asLong()).isPositive();
            assertThat(j.get("complete_streams").asLong()).isEqualTo(j.get("streams").asLong());
            assertThat(j.get("broken_streams").asLong()).isZero();
            assertThat(j.get("connection_retries").asLong()).isNotNegative();
            assertThat(j.get("status_5xx").asLong()).isZero();
            assertThat(j.get("status_4xx").asLong()).isZero();
            // each stream carries at most max_tokens pieces, and the tokens counted are the streams' pieces
            assertThat(j.get("tokens").asLong()).isPositive().isLessThanOrEqualTo(16 * j.get("streams").asLong());
            assertThat(j.get("ttft_p50_ms").asDouble()).isPositive().isLessThanOrEqualTo(j.get("ttft_p99_ms").asDouble());
            if (java.nio.file.Files.exists(Path.of("/proc/self/status"))) assertThat(j.get("server_rss_max_mb").asDouble()).isPositive();
            // a load test stays on this machine
            CliTest.Result away = CliTest.run("bench", "serve", "--url", "http://192.0.2.1:8080", "--seconds", "1");
            assertThat(away.code()).isNotZero();
            assertThat(away.err()).contains("is not a loopback address");
        } finally {
            serving.interrupt();
            serving.join(10_000);
        }
    }

    @Test
    void refusesAModelWithoutAName() {
        CliTest.Result r = CliTest.run("serve", "--model", "stories260K.bin", "--port", "0");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("--model takes NAME=PATH, got 'stories260K.bin'");
        assertThat(CliTest.run("serve", "--max-concurrency", "0", "--port", "0").err()).contains("--max-concurrency must be between 1 and 4096, got 0");
        assertThat(CliTest.run("serve", "--drain-timeout", "-1", "--port", "0").err()).contains("--drain-timeout must be at least 0 seconds, got -1");
    }
}
