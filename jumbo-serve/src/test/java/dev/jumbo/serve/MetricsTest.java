package dev.jumbo.serve;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code GET /metrics} of a real server with an API key: the exposition text parsed, and the
 * counters compared before and after requests of known outcome.
 */
class MetricsTest {
    private static final String KEY = "sk-metrics-test";
    private static final String MODEL = BundledModel.NAME;
    private static TestServer api;

    @BeforeAll
    static void start() {
        api = TestServer.start(TestServer.options(KEY, 8, 32, 1 << 20));
    }

    @AfterAll
    static void stop() {
        api.close();
    }

    /** A scrape without the API key: /metrics is not under /v1, and Prometheus sends none. */
    private static Exposition scrape() {
        HttpResponse<String> r = api.send(HttpRequest.newBuilder(api.uri("/metrics")).GET().build());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
        return Exposition.parse(r.body());
    }

    /**
     * Scrapes until {@code settled} holds: the filter counts a request once its handler has
     * returned, which may be just after its client has read the answer.
     */
    private static Exposition scrapeWhen(Predicate<Exposition> settled) throws InterruptedException {
        for (long end = System.nanoTime() + 10_000_000_000L; ; Thread.sleep(10)) {
            Exposition e = scrape();
            if (settled.test(e) || System.nanoTime() > end) return e;
        }
    }

    private static double requests(Exposition e, String endpoint, int status) {
        return e.value("jumbo_http_requests_total", "endpoint", endpoint, "status", Integer.toString(status));
    }

    private static String completion(String extra) {
        return "{\"model\":\"" + MODEL + "\",\"prompt\":\"Once upon a time\",\"max_tokens\":12,\"temperature\":0.8,\"seed\":3" + extra + "}";
    }

    @Test
    void countersMoveByWhatTheRequestsDid() throws Exception {
        api.awaitIdle();
        Exposition before = scrape();
        List<JsonNode> usages = new ArrayList<>();
        List<Integer> choices = new ArrayList<>();

        HttpResponse<String> ok = api.post("/v1/completions", completion(""));
        assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
        usages.add(TestServer.json(ok).get("usage"));
        choices.add(1);
        HttpResponse<String> two = api.post("/v1/completions", completion(",\"n\":2"));
        assertThat(two.statusCode()).as(two.body()).isEqualTo(200);
        usages.add(TestServer.json(two).get("usage"));
        choices.add(2);
        HttpResponse<String> stream = api.post("/v1/completions", completion(",\"stream\":true,\"stream_options\":{\"include_usage\":true}"));
        assertThat(stream.statusCode()).isEqualTo(200);
        List<String> events = TestServer.events(stream.body());
        assertThat(events.getLast()).isEqualTo("[DONE]");
        usages.add(TestServer.json(events.get(events.size() - 2)).get("usage"));
        choices.add(1);

        HttpResponse<String> badJson = api.post("/v1/completions", "{\"model\":");
        assertThat(badJson.statusCode()).isEqualTo(400);
        HttpResponse<String> noKey = api.send(HttpRequest.newBuilder(api.uri("/v1/models")).GET().build());
        assertThat(noKey.statusCode()).isEqualTo(401);
        HttpResponse<String> unknown = api.get("/v1/no-such-thing");
        assertThat(unknown.statusCode()).isEqualTo(404);
        HttpResponse<String> models = api.get("/v1/models");
        assertThat(models.statusCode()).isEqualTo(200);

        Exposition after = scrapeWhen(e -> answered(e) - answered(before) >= 7);
        assertThat(answered(after) - answered(before)).as("requests counted, scrapes aside").isEqualTo(7);
        assertThat(requests(after, "/v1/completions", 200) - requests(before, "/v1/completions", 200)).isEqualTo(3);
        assertThat(requests(after, "/v1/completions", 400) - requests(before, "/v1/completions", 400)).isEqualTo(1);
        assertThat(requests(after, "/v1/models", 401) - requests(before, "/v1/models", 401)).isEqualTo(1);
        assertThat(requests(after, "/v1/models", 200) - requests(before, "/v1/models", 200)).isEqualTo(1);
        assertThat(requests(after, ServerMetrics.OTHER, 404) - requests(before, ServerMetrics.OTHER, 404)).as("an unknown path").isEqualTo(1);
        assertThat(after.series("jumbo_http_requests_total")).as("no series for the unknown path itself")
                .noneMatch(s -> s.labels().get("endpoint").contains("no-such-thing"));
        assertThat(requests(after, "/metrics", 200) - requests(before, "/metrics", 200)).as("the scrapes themselves").isGreaterThanOrEqualTo(1);
        // every answered request is in its endpoint's latency histogram
        assertThat(histogramCount(after, "jumbo_http_request_duration_seconds", "endpoint", "/v1/completions")
                - histogramCount(before, "jumbo_http_request_duration_seconds", "endpoint", "/v1/completions")).isEqualTo(4);
        assertThat(histogramCount(after, "jumbo_http_request_duration_seconds", "endpoint", "/v1/models")
                - histogramCount(before, "jumbo_http_request_duration_seconds", "endpoint", "/v1/models")).isEqualTo(2);

        long completionTokens = 0, promptTokens = 0;
        for (int i = 0; i < usages.size(); i++) {
            completionTokens += usages.get(i).get("completion_tokens").asLong();
            promptTokens += usages.get(i).get("prompt_tokens").asLong() * choices.get(i); // fed once per choice's sequence
        }
        assertThat(completionTokens).isPositive();
        assertThat(after.value("jumbo_generated_tokens_total", "model", MODEL) - before.value("jumbo_generated_tokens_total", "model", MODEL))
                .isEqualTo(completionTokens);
        assertThat(after.value("jumbo_prompt_tokens_total", "model", MODEL) - before.value("jumbo_prompt_tokens_total", "model", MODEL))
                .isEqualTo(promptTokens);
        // four sequences (1 + 2 + 1 choices), each timed to its first token; 12 tokens at temperature 0.8 make none end at once
        assertThat(histogramCount(after, "jumbo_time_to_first_token_seconds", "model", MODEL)
                - histogramCount(before, "jumbo_time_to_first_token_seconds", "model", MODEL)).isEqualTo(4);
        assertThat(after.value("jumbo_time_to_first_token_seconds_sum", "model", MODEL))
                .isGreaterThan(before.value("jumbo_time_to_first_token_seconds_sum", "model", MODEL));
        assertThat(after.value("jumbo_queue_depth", "model", MODEL)).isZero();
        assertThat(after.value("jumbo_active_sequences", "model", MODEL)).isZero();
        assertThat(after.series("jumbo_active_sequences")).hasSize(1);
    }

    @Test
    void everyFamilyHasItsTypeAndHistogramsAreCumulative() {
        assertThat(api.post("/v1/completions", completion("")).statusCode()).isEqualTo(200);
        Exposition e = scrape();
        assertThat(e.types()).containsEntry("jumbo_http_requests_total", "counter")
                .containsEntry("jumbo_http_request_duration_seconds", "histogram")
                .containsEntry("jumbo_time_to_first_token_seconds", "histogram")
                .containsEntry("jumbo_generated_tokens_total", "counter")
                .containsEntry("jumbo_prompt_tokens_total", "counter")
                .containsEntry("jumbo_queue_depth", "gauge")
                .containsEntry("jumbo_active_sequences", "gauge");
        int histograms = 0;
        for (Map.Entry<String, String> family : e.types().entrySet()) {
            if (!family.getValue().equals("histogram")) continue;
            // the buckets of each label set, by bound
            Map<Map<String, String>, TreeMap<Double, Double>> buckets = new java.util.HashMap<>();
            for (Exposition.Series s : e.series(family.getKey() + "_bucket")) {
                Map<String, String> labels = new TreeMap<>(s.labels());
                double le = Exposition.number(labels.remove("le"));
                buckets.computeIfAbsent(labels, k -> new TreeMap<>()).put(le, e.samples().get(s));
            }
            assertThat(buckets).as(family.getKey()).isNotEmpty();
            for (Map.Entry<Map<String, String>, TreeMap<Double, Double>> b : buckets.entrySet()) {
                histograms++;
                List<Double> counts = new ArrayList<>(b.getValue().values());
                assertThat(counts).as(family.getKey() + b.getKey() + " cumulative").isSortedAccordingTo(Comparator.naturalOrder());
                assertThat(b.getValue().lastKey()).isEqualTo(Double.POSITIVE_INFINITY);
                String[] labels = b.getKey().entrySet().stream().flatMap(l -> java.util.stream.Stream.of(l.getKey(), l.getValue())).toArray(String[]::new);
                assertThat(e.value(family.getKey() + "_count", labels)).as(family.getKey() + b.getKey() + " _count").isEqualTo(counts.getLast());
                assertThat(e.value(family.getKey() + "_sum", labels)).isNotNegative();
            }
        }
        assertThat(histograms).as("latency of /v1/completions and of /metrics at least, and the model's time to first token").isGreaterThanOrEqualTo(2);
        assertThat(histogramCount(e, "jumbo_time_to_first_token_seconds", "model", MODEL)).isPositive();
    }

    @Test
    void labelValuesAreEscapedAsTheFormatSays() {
        String text = new PrometheusText().family("x_total", "counter", "a \\ help\nline")
                .sample("x_total", 3, "path", "a\"b\\c\nd").text();
        assertThat(text).isEqualTo("# HELP x_total a \\\\ help\\nline\n# TYPE x_total counter\nx_total{path=\"a\\\"b\\\\c\\nd\"} 3\n");
        assertThat(Exposition.parse(text).value("x_total", "path", "a\"b\\c\nd")).isEqualTo(3);
        assertThat(PrometheusText.number(0.25)).isEqualTo("0.25");
        assertThat(PrometheusText.number(120)).isEqualTo("120");
    }

    /** Requests counted at every endpoint but /metrics (which the scrapes themselves move). */
    private static double answered(Exposition e) {
        return e.series("jumbo_http_requests_total").stream().filter(s -> !s.labels().get("endpoint").equals("/metrics"))
                .mapToDouble(s -> e.samples().get(s)).sum();
    }

    private static double histogramCount(Exposition e, String name, String... labels) {
        double count = e.value(name + "_count", labels);
        String[] withLe = java.util.Arrays.copyOf(labels, labels.length + 2);
        withLe[labels.length] = "le";
        withLe[labels.length + 1] = "+Inf";
        assertThat(e.value(name + "_bucket", withLe)).as(name + " +Inf bucket").isEqualTo(count);
        return count;
    }
}
