package dev.jumbo.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.helidon.http.HeaderNames;
import io.helidon.webclient.api.HttpClientRequest;
import io.helidon.webclient.api.HttpClientResponse;
import io.helidon.webclient.api.WebClient;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code jumbo bench serve}: a bounded load test of a running {@code jumbo serve} (or any
 * OpenAI-compatible server). {@code --clients} virtual threads each stream completions back to back
 * for {@code --seconds}; the figures are what a team putting the server behind a load balancer
 * asks: server errors (5xx), broken streams (a 200 that never reached {@code data: [DONE]}, or a
 * request that got no response even after the two retries OpenAI's SDKs make), time
 * to first token (p50, p99), tokens per second summed over the clients, and, given the server's
 * pid, whether its resident memory stayed flat.
 *
 * <pre>
 * ./jumbo serve --port 8080 &amp;
 * ./jumbo bench serve --url http://127.0.0.1:8080 --clients 32 --seconds 60 --server-pid $! --json
 * </pre>
 *
 * <p>Only loopback addresses are accepted: a load test here must never send traffic elsewhere.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Load-tests a running jumbo serve: --clients streaming clients for --seconds;", "5xx, broken streams, time to first token, tokens/s, server RSS."})
final class ServeLoad implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Attempts after the first for a request that got no response, as OpenAI's SDKs make by default. */
    private static final int CONNECTION_RETRIES = 2;

    private final AtomicLong retries = new AtomicLong();

    @Spec
    CommandSpec spec;

    @Option(names = "--url", defaultValue = "http://127.0.0.1:8080", description = "The server, on a loopback address (default: ${DEFAULT-VALUE}).")
    URI url;

    @Option(names = "--model", description = "Model name sent with each request (default: the first of /v1/models).")
    String model;

    @Option(names = "--clients", defaultValue = "8", description = "Concurrent streaming clients (default: ${DEFAULT-VALUE}).")
    int clients;

    @Option(names = "--seconds", defaultValue = "30", description = "How long the clients keep sending (default: ${DEFAULT-VALUE}).")
    double seconds;

    @Option(names = "--max-tokens", defaultValue = "64", description = "max_tokens of each completion (default: ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--prompt", defaultValue = "Once upon a time", description = "The prompt (default: ${DEFAULT-VALUE}).")
    String prompt;

    @Option(names = "--api-key", description = "Sent as Authorization: Bearer KEY.")
    String apiKey;

    @Option(names = "--server-pid", description = "The server's process id, to sample its resident memory (Linux /proc) every second.")
    Long serverPid;

    @Option(names = "--json", description = "Print one JSON object as the last line.")
    boolean json;

    /** What one completion request gave; {@code failure} says why a stream broke (null otherwise). */
    private record Outcome(int status, boolean complete, long firstTokenNanos, int tokens, String failure) {}

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        String host = url.getHost();
        if (host == null || !(host.equals("localhost") || host.equals("[::1]") || host.equals("::1") || host.startsWith("127.")))
            throw new IllegalArgumentException("--url " + url + " is not a loopback address: a load test here stays on this machine");
        if (clients < 1 || seconds <= 0 || maxTokens < 1)
            throw new IllegalArgumentException("--clients and --max-tokens must be at least 1 and --seconds positive");
        // Helidon's client reads a stream with blocking calls on the client's own virtual thread; the JDK's
        // HttpClient passed each event through its selector thread and reactive subscribers, and the
        // load client then took as much of the machine's two cores as the server (62 us of CPU per token)
        WebClient http = WebClient.builder().baseUri(url).connectionCacheSize(clients + 4)
                .socketOptions(o -> o.connectTimeout(Duration.ofSeconds(5)).readTimeout(Duration.ofSeconds(120))).build();
        String name = model != null ? model : firstModel(http);
        List<Outcome> outcomes = Collections.synchronizedList(new ArrayList<>());
        List<Double> rss = Collections.synchronizedList(new ArrayList<>());
        long start = System.nanoTime(), deadline = start + (long) (seconds * 1e9);
        Thread sampler = serverPid == null ? null : Thread.ofVirtual().start(() -> sampleRss(serverPid, deadline, rss));
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            int client = c;
            threads.add(Thread.ofVirtual().start(() -> {
                for (int i = 0; System.nanoTime() < deadline; i++) {
                    try {
                        outcomes.add(complete(http, name, client * 100_000L + i));
                    } catch (IOException | RuntimeException e) {
                        // the connection broke (Helidon's client throws its own unchecked exceptions too): a broken stream, counted as such
                        outcomes.add(new Outcome(-1, false, -1, 0, e.getClass().getSimpleName() + ": " + e.getMessage()));
                    }
                }
            }));
        }
        for (Thread t : threads) t.join();
        double elapsed = (System.nanoTime() - start) / 1e9;
        if (sampler != null) sampler.join();
        report(out, name, outcomes, elapsed, rss);
        return 0;
    }

    /** The first model the server lists. */
    private String firstModel(WebClient http) throws IOException {
        HttpClientRequest get = http.get("/v1/models");
        if (apiKey != null) get.header(HeaderNames.AUTHORIZATION, "Bearer " + apiKey);
        try (HttpClientResponse r = get.request()) {
            String body = new String(r.inputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (r.status().code() != 200) throw new IOException("GET /v1/models answered " + r.status().code() + ": " + body);
            JsonNode data = JSON.readTree(body).path("data");
            if (!data.isArray() || data.isEmpty()) throw new IOException("GET /v1/models lists no model: " + body);
            return data.get(0).path("id").asText();
        }
    }

    /** One streamed completion, read to its end: status, whether it reached [DONE], time to the first text, tokens. */
    private Outcome complete(WebClient http, String name, long seed) throws IOException {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("model", name);
        body.put("prompt", prompt);
        body.put("max_tokens", maxTokens);
        body.put("temperature", 0.8);
        body.put("seed", seed);
        body.put("stream", true);
        byte[] json = JSON.writeValueAsBytes(body);
        long t0 = System.nanoTime();
        HttpClientResponse r;
        for (int attempt = 0; ; attempt++) {
            HttpClientRequest post = http.post("/v1/completions").header(HeaderNames.CONTENT_TYPE, "application/json");
            if (apiKey != null) post.header(HeaderNames.AUTHORIZATION, "Bearer " + apiKey);
            try {
                r = post.submit(json);
                break;
            } catch (UncheckedIOException e) {
                // No response at all: a kept-alive connection the server had just closed. OpenAI's SDKs
                // retry these twice; so does this client, and counts them. A stream that broke after
                // its 200 is not retried.
                if (attempt == CONNECTION_RETRIES) throw e.getCause();
                retries.incrementAndGet();
            }
        }
        long first = -1;
        int tokens = 0;
        boolean done = false;
        try (HttpClientResponse response = r) {
            if (response.status().code() != 200) return new Outcome(response.status().code(), false, -1, 0, null);
            BufferedReader lines = new BufferedReader(new InputStreamReader(response.inputStream(), StandardCharsets.UTF_8));
            for (String line; (line = lines.readLine()) != null; ) {
                if (!line.startsWith("data:")) continue;
                String data = line.substring(5).strip();
                if (data.equals("[DONE]")) {
                    done = true;
                    break;
                }
                JsonNode choices = JSON.readTree(data).path("choices");
                if (choices.isArray() && !choices.isEmpty() && !choices.get(0).path("text").asText("").isEmpty()) {
                    if (first < 0) first = System.nanoTime() - t0;
                    tokens++;
                }
            }
        } catch (UncheckedIOException e) {
            throw e.getCause(); // the stream broke after its 200
        }
        return new Outcome(200, done, first, tokens, done ? null : "the stream ended after " + tokens + " tokens without data: [DONE]");
    }

    /** VmRSS of the process every second until the deadline, in MB. */
    private static void sampleRss(long pid, long deadline, List<Double> rss) {
        Path status = Path.of("/proc", Long.toString(pid), "status");
        while (System.nanoTime() < deadline) {
            try {
                for (String line : Files.readAllLines(status))
                    if (line.startsWith("VmRSS:")) rss.add(Double.parseDouble(line.replaceAll("[^0-9]", "")) / 1024);
                Thread.sleep(1000);
            } catch (IOException e) {
                return; // no such process (or not Linux): nothing to report
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void report(PrintWriter out, String name, List<Outcome> outcomes, double elapsed, List<Double> rss) {
        long served = 0, complete = 0, broken = 0, server = 0, client = 0, tokens = 0;
        List<Long> firsts = new ArrayList<>();
        for (Outcome o : outcomes) {
            if (o.status() == 200) {
                served++;
                if (o.complete()) complete++;
                else broken++;
                tokens += o.tokens();
                if (o.firstTokenNanos() >= 0) firsts.add(o.firstTokenNanos());
            } else if (o.status() < 0) broken++;
            else if (o.status() >= 500) server++;
            else client++;
        }
        List<String> why = outcomes.stream().map(Outcome::failure).filter(java.util.Objects::nonNull).distinct().limit(5).toList();
        for (String w : why) spec.commandLine().getErr().println("broken stream: " + w);
        long[] ttft = firsts.stream().mapToLong(Long::longValue).sorted().toArray();
        double p50 = percentileMs(ttft, 0.50), p99 = percentileMs(ttft, 0.99), rate = tokens / elapsed;
        out.printf("%d clients for %.1f s against %s (%s): %d streams, %d complete, %d broken, %d requests retried for want of a response, %d 5xx, %d 4xx; %d tokens, %.1f tokens/s; time to first token p50 %.1f ms, p99 %.1f ms%n",
                clients, elapsed, url, name, served, complete, broken, retries.get(), server, client, tokens, rate, p50, p99);
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("clients", clients);
        row.put("seconds", Math.round(elapsed * 10) / 10.0);
        row.put("model", name);
        row.put("max_tokens", maxTokens);
        row.put("streams", served);
        row.put("complete_streams", complete);
        row.put("broken_streams", broken);
        if (!why.isEmpty()) row.put("broken_because", why);
        row.put("connection_retries", retries.get());
        row.put("status_5xx", server);
        row.put("status_4xx", client);
        row.put("tokens", tokens);
        row.put("tokens_per_second", Math.round(rate * 10) / 10.0);
        row.put("ttft_p50_ms", Math.round(p50 * 10) / 10.0);
        row.put("ttft_p99_ms", Math.round(p99 * 10) / 10.0);
        if (rss.size() >= 4) {
            // the first quarter is warm-up (the JIT, the first sessions' caches); flat means the rest does not climb
            double[] r = rss.stream().mapToDouble(Double::doubleValue).toArray();
            double early = median(Arrays.copyOfRange(r, r.length / 4, r.length / 2)), late = median(Arrays.copyOfRange(r, 3 * r.length / 4, r.length));
            double max = Arrays.stream(r).max().orElse(0);
            out.printf("server RSS: %.0f MB after warm-up, %.0f MB at the end, %.0f MB at most%n", early, late, max);
            row.put("server_rss_early_mb", Math.round(early));
            row.put("server_rss_late_mb", Math.round(late));
            row.put("server_rss_max_mb", Math.round(max));
        }
        if (json) out.println(JsonOutput.line(row));
    }

    private static double percentileMs(long[] sorted, double p) {
        if (sorted.length == 0) return -1;
        return sorted[(int) Math.min(sorted.length - 1, Math.floor(p * sorted.length))] / 1e6;
    }

    private static double median(double[] x) {
        double[] s = x.clone();
        Arrays.sort(s);
        return s.length == 0 ? 0 : s[s.length / 2];
    }
}
