package dev.jumbo.serve;

import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * What {@code GET /metrics} reports. Requests by endpoint and status and their latency are
 * counted here by {@link JumboServer}'s filter; each model's figures (time to first token, tokens,
 * queue depth, active sequences) are kept by its {@link DecodeLoop} and read at each scrape.
 *
 * <ul>
 *   <li>{@code jumbo_http_requests_total{endpoint,status}} counter</li>
 *   <li>{@code jumbo_http_request_duration_seconds{endpoint}} histogram</li>
 *   <li>{@code jumbo_time_to_first_token_seconds{model}} histogram</li>
 *   <li>{@code jumbo_generated_tokens_total{model}}, {@code jumbo_prompt_tokens_total{model}} counters</li>
 *   <li>{@code jumbo_queue_depth{model}}, {@code jumbo_active_sequences{model}} gauges</li>
 * </ul>
 */
final class ServerMetrics {
    /**
     * The paths counted as endpoints of their own; any other counts as {@link #OTHER}, so that a
     * scan of random URLs cannot grow the label set (each label value is a series to store).
     */
    static final Set<String> ENDPOINTS = Set.of("/", "/health", "/ready", "/metrics",
            "/v1/models", "/v1/completions", "/v1/chat/completions", "/v1/embeddings", "/v1/predict");
    static final String OTHER = "other";

    private record RequestKey(String endpoint, int status) {}

    private static final Comparator<RequestKey> BY_ENDPOINT_AND_STATUS =
            Comparator.comparing(RequestKey::endpoint).thenComparingInt(RequestKey::status);

    private final Map<RequestKey, LongAdder> requests = new ConcurrentHashMap<>();
    private final Map<String, Histogram> latency = new ConcurrentHashMap<>();

    /** The playground page's files (its script, style and icon) count as one endpoint. */
    static final String PLAYGROUND_FILES = "/playground/*";

    /** The endpoint label of a request's path. */
    static String endpoint(String path) {
        if (path.startsWith("/playground/")) return PLAYGROUND_FILES;
        return ENDPOINTS.contains(path) ? path : OTHER;
    }

    /** Counts a request answered with {@code status} after {@code nanos}. */
    void request(String path, int status, long nanos) {
        String endpoint = endpoint(path);
        latency.computeIfAbsent(endpoint, e -> new Histogram(Histogram.LATENCY_SECONDS)).observeNanos(nanos);
        // counted last: a scrape that sees this request's count sees its latency too
        requests.computeIfAbsent(new RequestKey(endpoint, status), k -> new LongAdder()).increment();
    }

    /** The exposition text of every metric, the models' read now. */
    String scrape(Collection<ServedModel> served) {
        // the per-model figures are the decode loops': one-pass models (encoders, classifiers) count by endpoint only
        List<ServedModel.Generator> models = served.stream().filter(ServedModel.Generator.class::isInstance)
                .map(ServedModel.Generator.class::cast).toList();
        PrometheusText text = new PrometheusText();
        text.family("jumbo_http_requests_total", "counter",
                "HTTP requests answered, by endpoint (the route's path; other for any unknown path) and status code.");
        List<RequestKey> keys = requests.keySet().stream().sorted(BY_ENDPOINT_AND_STATUS).toList();
        for (RequestKey k : keys)
            text.sample("jumbo_http_requests_total", requests.get(k).sum(), "endpoint", k.endpoint(), "status", Integer.toString(k.status()));

        text.family("jumbo_http_request_duration_seconds", "histogram",
                "Time from a request's arrival to the end of its answer (a stream's last event), by endpoint.");
        for (Map.Entry<String, Histogram> e : new TreeMap<>(latency).entrySet())
            text.histogram("jumbo_http_request_duration_seconds", e.getValue(), "endpoint", e.getKey());

        text.family("jumbo_time_to_first_token_seconds", "histogram",
                "Time from a sequence's submission to its decode loop until its first generated token, by model.");
        for (ServedModel.Generator m : models) text.histogram("jumbo_time_to_first_token_seconds", m.loop().timeToFirstToken(), "model", m.name());

        text.family("jumbo_generated_tokens_total", "counter", "Tokens generated, by model.");
        for (ServedModel.Generator m : models) text.sample("jumbo_generated_tokens_total", m.loop().generatedTokens(), "model", m.name());

        text.family("jumbo_prompt_tokens_total", "counter",
                "Prompt tokens fed to the model, by model (each sequence's prompt: a request with n choices counts it n times).");
        for (ServedModel.Generator m : models) text.sample("jumbo_prompt_tokens_total", m.loop().promptTokens(), "model", m.name());

        text.family("jumbo_queue_depth", "gauge", "Sequences waiting for a place in their model's decode loop, by model.");
        for (ServedModel.Generator m : models) text.sample("jumbo_queue_depth", m.loop().waiting(), "model", m.name());

        text.family("jumbo_active_sequences", "gauge", "Sequences being generated (prefilling or decoding), by model.");
        for (ServedModel.Generator m : models) text.sample("jumbo_active_sequences", m.loop().active(), "model", m.name());
        return text.text();
    }
}
