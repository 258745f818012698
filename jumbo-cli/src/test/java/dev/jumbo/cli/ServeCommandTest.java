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
    void refusesAModelWithoutAName() {
        CliTest.Result r = CliTest.run("serve", "--model", "stories260K.bin", "--port", "0");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("--model takes NAME=PATH, got 'stories260K.bin'");
        assertThat(CliTest.run("serve", "--max-concurrency", "0", "--port", "0").err()).contains("--max-concurrency must be between 1 and 4096, got 0");
    }
}
