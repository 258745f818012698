package dev.jumbo.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.function.Consumer;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * A client of {@code jumbo serve} on {@code java.net.http}: models, completions and chat (whole or
 * streamed), embeddings and predictions. It is thread-safe; one client serves many threads.
 *
 * <pre>{@code
 * try (JumboClient client = JumboClient.connect(URI.create("http://127.0.0.1:8080"))) {
 *     CompletionResult r = client.complete(CompletionRequest.of("stories260K", "Once upon a time").maxTokens(40));
 *     System.out.println(r.text());
 *     client.stream(ChatRequest.of("stories260K", ChatMessage.user("Tell me a story.")).maxTokens(60), System.out::print);
 * }
 * }</pre>
 *
 * Streaming comes in two forms. {@link #stream(CompletionRequest, Consumer)} hands each piece of
 * text to a callback as it arrives and returns the assembled result, like {@link #complete}.
 * {@link #stream(CompletionRequest)} returns a lazy {@code Stream<Chunk>} that reads the response
 * as it is consumed; close it (try-with-resources) to leave early, which stops the generation on
 * the server. A refused request throws {@link JumboApiException}; a failed connection throws
 * {@link UncheckedIOException}.
 */
public final class JumboClient implements AutoCloseable {
    /** How long a request waits to connect, and then for the response's headers, unless told otherwise. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(2);

    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    private final URI base;
    private final String apiKey;
    private final Duration timeout;
    private final HttpClient http;

    private JumboClient(URI base, String apiKey, Duration timeout) {
        this.base = base;
        this.apiKey = apiKey;
        this.timeout = timeout;
        // HTTP/1.1: jumbo serve speaks it, and the JDK's HTTP/2 attempt would only add an upgrade round to each connection
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(timeout).build();
    }

    /** A client of the server at {@code base}, such as {@code http://127.0.0.1:8080} (a trailing {@code /v1} is fine too). */
    public static JumboClient connect(URI base) {
        return connect(base, null, DEFAULT_TIMEOUT);
    }

    /** A client that sends {@code Authorization: Bearer apiKey} (for a server started with {@code --api-key}); null for none. */
    public static JumboClient connect(URI base, String apiKey) {
        return connect(base, apiKey, DEFAULT_TIMEOUT);
    }

    /**
     * @param timeout how long to wait to connect, and then for a response's headers: a whole
     *                completion must be generated within it, a stream only has to start
     * @throws IllegalArgumentException when {@code base} is not an http(s) address or the timeout is not positive
     */
    public static JumboClient connect(URI base, String apiKey, Duration timeout) {
        String scheme = base.getScheme();
        if (!"http".equals(scheme) && !"https".equals(scheme) || base.getHost() == null)
            throw new IllegalArgumentException("the server's address must be http://HOST:PORT, got " + base);
        if (timeout.isNegative() || timeout.isZero()) throw new IllegalArgumentException("the timeout must be positive, got " + timeout);
        if (apiKey != null && apiKey.isBlank()) throw new IllegalArgumentException("the API key must not be blank");
        String path = Objects.requireNonNullElse(base.getRawPath(), "").replaceAll("/+$", "");
        if (path.endsWith("/v1")) path = path.substring(0, path.length() - 3);
        return new JumboClient(base.resolve(path.isEmpty() ? "/" : path + "/"), apiKey, timeout);
    }

    /** The served models ({@code GET /v1/models}). */
    public List<ModelInfo> models() {
        List<ModelInfo> models = new ArrayList<>();
        for (JsonNode m : Json.array(send(request("v1/models").GET()), "data")) models.add(ModelInfo.from(m));
        return models;
    }

    /** A whole completion ({@code POST /v1/completions}). */
    public CompletionResult complete(CompletionRequest request) {
        return CompletionResult.from(post("v1/completions", request.body(false)));
    }

    /** A whole chat reply ({@code POST /v1/chat/completions}). */
    public CompletionResult chat(ChatRequest request) {
        return CompletionResult.from(post("v1/chat/completions", request.body(false)));
    }

    /**
     * A streamed completion: each piece of text goes to {@code onText} as it arrives (with
     * {@code n > 1}, every choice's pieces in arrival order), and the assembled result is
     * returned once the stream ends.
     */
    public CompletionResult stream(CompletionRequest request, Consumer<String> onText) {
        return collect(openStream("v1/completions", request.body(true)), onText);
    }

    /** A streamed chat reply, as {@link #stream(CompletionRequest, Consumer)}. */
    public CompletionResult stream(ChatRequest request, Consumer<String> onText) {
        return collect(openStream("v1/chat/completions", request.body(true)), onText);
    }

    /**
     * A streamed completion as a lazy stream of pieces, read from the connection as it is consumed.
     * Close it (try-with-resources), which also stops a generation left unfinished.
     *
     * <pre>{@code
     * try (Stream<Chunk> pieces = client.stream(CompletionRequest.of("stories260K", "Once").maxTokens(100))) {
     *     pieces.forEach(c -> System.out.print(c.text()));
     * }
     * }</pre>
     */
    public Stream<Chunk> stream(CompletionRequest request) {
        return chunks(openStream("v1/completions", request.body(true)));
    }

    /** A streamed chat reply as a lazy stream of pieces, as {@link #stream(CompletionRequest)}. */
    public Stream<Chunk> stream(ChatRequest request) {
        return chunks(openStream("v1/chat/completions", request.body(true)));
    }

    /**
     * One embedding per input, in order ({@code POST /v1/embeddings}, OpenAI's format with
     * {@code encoding_format: float}).
     */
    public float[][] embed(String model, List<String> inputs) {
        ObjectNode body = JSON.objectNode().put("model", model);
        inputs.forEach(body.putArray("input")::add);
        body.put("encoding_format", "float");
        JsonNode data = Json.array(post("v1/embeddings", body), "data");
        if (data.size() != inputs.size())
            throw Json.malformed(inputs.size() + " embeddings (one per input)", data);
        float[][] out = new float[inputs.size()][];
        for (int i = 0; i < data.size(); i++) {
            JsonNode e = data.get(i);
            int index = e.path("index").asInt(i);
            if (index < 0 || index >= out.length || out[index] != null) throw Json.malformed("distinct indexes below " + out.length, e);
            JsonNode vector = Json.array(e, "embedding");
            float[] v = new float[vector.size()];
            for (int j = 0; j < v.length; j++) v[j] = vector.get(j).floatValue();
            out[index] = v;
        }
        return out;
    }

    /**
     * A classifier's predictions for a tensor ({@code POST /v1/predict}): {@code values} in
     * row-major order and their {@code shape}, either one example's (such as {@code 28, 28} or
     * {@code 784}) or a batch's (one more leading dimension). With no shape, {@code values} is one
     * flat example.
     *
     * @throws IllegalArgumentException when the shape does not hold {@code values.length} numbers
     */
    public List<Prediction> predict(String model, float[] values, int... shape) {
        if (shape.length == 0) shape = new int[] {values.length};
        long size = 1;
        for (int d : shape) {
            if (d < 1) throw new IllegalArgumentException("a shape's dimensions must be positive, got " + Arrays.toString(shape));
            size *= d;
        }
        if (size != values.length)
            throw new IllegalArgumentException("the shape " + Arrays.toString(shape) + " holds " + size + " numbers, got " + values.length);
        ObjectNode body = JSON.objectNode().put("model", model);
        nest(body.putArray("input"), values, shape, 0, 0);
        return predictions(post("v1/predict", body));
    }

    /** A classifier's prediction for an image file (PNG or JPEG bytes), which the server decodes and resizes to the model's input. */
    public List<Prediction> predictImage(String model, byte[] imageFile) {
        return predictImages(model, List.of(imageFile));
    }

    /** A classifier's predictions for several image files, in order. */
    public List<Prediction> predictImages(String model, List<byte[]> imageFiles) {
        ObjectNode body = JSON.objectNode().put("model", model);
        Base64.Encoder base64 = Base64.getEncoder();
        if (imageFiles.size() == 1) body.put("image", base64.encodeToString(imageFiles.getFirst()));
        else imageFiles.forEach(f -> body.withArray("image").add(base64.encodeToString(f)));
        return predictions(post("v1/predict", body));
    }

    /** Stops the HTTP client: requests and streams still open are ended. */
    @Override
    public void close() {
        http.shutdownNow();
    }

    /** The dimensions from {@code dim} on of the block of {@code values} starting at {@code offset}, as nested JSON arrays. */
    private static void nest(ArrayNode into, float[] values, int[] shape, int dim, int offset) {
        if (dim == shape.length - 1) {
            for (int i = 0; i < shape[dim]; i++) into.add(values[offset + i]);
            return;
        }
        int stride = 1;
        for (int d = dim + 1; d < shape.length; d++) stride *= shape[d];
        for (int i = 0; i < shape[dim]; i++) nest(into.addArray(), values, shape, dim + 1, offset + i * stride);
    }

    private static List<Prediction> predictions(JsonNode response) {
        List<Prediction> out = new ArrayList<>();
        for (JsonNode p : Json.array(response, "data")) out.add(Prediction.from(p));
        return out;
    }

    private static CompletionResult collect(EventStream events, Consumer<String> onText) {
        try (events) {
            StreamedResult result = new StreamedResult();
            while (events.hasNext()) {
                JsonNode chunk = events.next();
                for (Chunk c : Chunk.from(chunk)) {
                    result.add(chunk, c);
                    if (!c.text().isEmpty()) onText.accept(c.text());
                }
            }
            return result.build();
        }
    }

    private static Stream<Chunk> chunks(EventStream events) {
        Spliterator<JsonNode> split = Spliterators.spliteratorUnknownSize(events, Spliterator.ORDERED | Spliterator.NONNULL);
        return StreamSupport.stream(split, false).onClose(events::close).flatMap(chunk -> Chunk.from(chunk).stream());
    }

    private HttpRequest.Builder request(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(timeout);
        if (apiKey != null) b.header("Authorization", "Bearer " + apiKey);
        return b;
    }

    private HttpRequest.Builder post(String path, ObjectNode body, String accept) {
        return request(path).header("Content-Type", "application/json").header("Accept", accept)
                .POST(HttpRequest.BodyPublishers.ofString(body.toString(), StandardCharsets.UTF_8));
    }

    private JsonNode post(String path, ObjectNode body) {
        return send(post(path, body, "application/json"));
    }

    private JsonNode send(HttpRequest.Builder request) {
        HttpResponse<String> response = exchange(request.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        if (response.statusCode() / 100 != 2) throw apiException(response.statusCode(), response.body(), retryAfter(response));
        return Json.parse(response.body());
    }

    /** Sends a streaming request; once the headers say 2xx, the events are read as they come. */
    private EventStream openStream(String path, ObjectNode body) {
        HttpResponse<InputStream> response = exchange(post(path, body, "text/event-stream").build(), HttpResponse.BodyHandlers.ofInputStream());
        if (response.statusCode() / 100 != 2) {
            String text;
            try (InputStream in = response.body()) {
                text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            throw apiException(response.statusCode(), text, retryAfter(response));
        }
        return new EventStream(response.body(), response.statusCode());
    }

    private <T> HttpResponse<T> exchange(HttpRequest request, HttpResponse.BodyHandler<T> handler) {
        try {
            return http.send(request, handler);
        } catch (IOException e) {
            throw new UncheckedIOException(request.method() + " " + request.uri() + " failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UncheckedIOException(new InterruptedIOException(request.method() + " " + request.uri() + " was interrupted"));
        }
    }

    private static Integer retryAfter(HttpResponse<?> response) {
        return response.headers().firstValue("Retry-After").map(s -> {
            try {
                return Integer.valueOf(s.strip());
            } catch (NumberFormatException e) {
                return null; // an HTTP date: rare, and a caller can still back off on the status
            }
        }).orElse(null);
    }

    /** The exception for an error answer: OpenAI's {@code {"error": {...}}} body when there is one, else the body as the message. */
    private static JumboApiException apiException(int status, String body, Integer retryAfter) {
        JsonNode error = null;
        try {
            error = Json.MAPPER.readTree(body).get("error");
        } catch (IOException e) {
            // not JSON (a proxy's page, say): the body itself is the message below
        }
        if (error == null || !error.isObject())
            return new JumboApiException(status, null, null, null, body.isBlank() ? "(no body)" : Json.abbreviate(body.strip()), retryAfter);
        return apiException(status, error, retryAfter);
    }

    static JumboApiException apiException(int status, JsonNode error, Integer retryAfter) {
        return new JumboApiException(status, textOrNull(error, "type"), textOrNull(error, "code"), textOrNull(error, "param"),
                Objects.requireNonNullElse(textOrNull(error, "message"), "(no message)"), retryAfter);
    }

    private static String textOrNull(JsonNode node, String field) {
        JsonNode n = node.get(field);
        return n == null || n.isNull() ? null : n.asText();
    }
}
