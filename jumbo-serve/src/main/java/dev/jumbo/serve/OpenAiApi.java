package dev.jumbo.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jumbo.text.Tokenizer;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The OpenAI-compatible routes ({@code GET /v1/models}, {@code POST /v1/completions},
 * {@code POST /v1/chat/completions}, {@code POST /v1/embeddings}), Jumbo's {@code POST /v1/predict}, and the one place where a request's failure becomes a
 * response: an {@link ApiException} its status and OpenAI's error body, anything else a 500
 * without details (logged here; a client never sees a stack trace).
 */
final class OpenAiApi {
    /** Text pieces a streaming response may have waiting before its client counts as too slow and is dropped. */
    static final int STREAM_BUFFER = 4096;

    private static final Logger LOG = Logger.getLogger(OpenAiApi.class.getName());
    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    private final Map<String, ServedModel> models;
    private final ServeOptions options;

    /** @param models the served models by name (read at each request: models may be added while serving) */
    OpenAiApi(Map<String, ServedModel> models, ServeOptions options) {
        this.models = models;
        this.options = options;
    }

    void routes(HttpRouting.Builder routing) {
        routing.get("/v1/models", guarded(this::listModels))
                .post("/v1/completions", guarded((req, res) -> complete(req, res, Endpoint.COMPLETIONS)))
                .post("/v1/chat/completions", guarded((req, res) -> complete(req, res, Endpoint.CHAT)))
                .post("/v1/embeddings", guarded(this::embed))
                .post("/v1/predict", guarded(this::predict));
    }

    /**
     * The served model of a name, of the kind an endpoint runs: a 404 (OpenAI's
     * {@code model_not_found}) when none has the name, a 400 naming the right endpoint when it is
     * another kind.
     */
    private <T extends ServedModel> T model(String name, Class<T> kind) {
        ServedModel m = models.get(name);
        if (m == null)
            throw new ApiException(404, "invalid_request_error", "The model '" + name + "' does not exist (GET /v1/models lists those served).",
                    "model", "model_not_found", null);
        if (!kind.isInstance(m))
            throw new ApiException(400, "invalid_request_error", "The model '" + name + "' is " + m.kind() + ": use " + m.endpoint() + ".",
                    "model", "model_not_supported", null);
        return kind.cast(m);
    }

    /** {@code handler} with every failure answered as OpenAI answers it. */
    static Handler guarded(Handler handler) {
        return (req, res) -> {
            try {
                handler.handle(req, res);
            } catch (ApiException e) {
                if (!res.isSent()) sendError(res, e);
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "request " + req.prologue().method().text() + " " + req.path().path() + " failed", e);
                if (!res.isSent())
                    sendError(res, new ApiException(500, "server_error", "The server had an error while processing your request.", null, null, null));
            }
        };
    }

    static void sendJson(ServerResponse res, int status, JsonNode body) {
        res.status(status);
        res.header("Content-Type", "application/json");
        res.send(body.toString().getBytes(StandardCharsets.UTF_8));
    }

    static void sendError(ServerResponse res, ApiException e) {
        ObjectNode error = JSON.objectNode();
        ObjectNode inner = error.putObject("error");
        inner.put("message", e.getMessage()).put("type", e.type()).put("param", e.param()).put("code", e.code());
        if (e.retryAfterSeconds() != null) res.header("Retry-After", String.valueOf(e.retryAfterSeconds()));
        sendJson(res, e.status(), error);
    }

    private void listModels(ServerRequest req, ServerResponse res) {
        ObjectNode list = JSON.objectNode().put("object", "list");
        ArrayNode data = list.putArray("data");
        for (ServedModel m : models.values())
            data.addObject().put("id", m.name()).put("object", "model").put("created", m.created()).put("owned_by", "jumbo");
        sendJson(res, 200, list);
    }

    private void complete(ServerRequest req, ServerResponse res, Endpoint endpoint) {
        JsonRequest body = JsonRequest.parse(readBody(req));
        CompletionRequest request = CompletionRequest.parse(body, endpoint, name -> model(name, ServedModel.Generator.class),
                options.maxConcurrency() + options.maxQueue());
        String id = endpoint.newId(), model = request.model().name();
        long created = System.currentTimeMillis() / 1000;
        if (request.stream()) {
            ChoiceEvents events = new ChoiceEvents(request.n(), STREAM_BUFFER);
            List<CompletableFuture<Completion>> futures = submit(request, request.sequences(events::sink));
            for (int i = 0; i < futures.size(); i++) events.endWhenDone(i, futures.get(i));
            try {
                stream(new SseWriter(res), events, request, id, created);
            } finally {
                futures.forEach(f -> f.cancel(false)); // no-op for those that finished; stops the others
            }
            return;
        }
        List<CompletableFuture<Completion>> futures = submit(request, request.sequences(i -> null));
        try {
            List<Completion> choices = new ArrayList<>();
            for (CompletableFuture<Completion> f : futures) choices.add(f.get());
            Tokenizer tokenizer = request.model().model().tokenizer();
            sendJson(res, 200, endpoint.response(id, created, model, choices, (previous, token) -> tokenText(tokenizer, previous, token),
                    request.promptIds()[request.promptIds().length - 1]));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // the connection is being torn down: the finally stops the sequences
        } catch (CancellationException e) {
            throw unavailable();
        } catch (ExecutionException e) {
            throw new IllegalStateException("generation failed", e.getCause());
        } finally {
            futures.forEach(f -> f.cancel(false)); // a cancelled future stops its sequence between two steps
        }
    }

    /** {@code POST /v1/embeddings}: OpenAI's request and response, run through the model's gate. */
    private void embed(ServerRequest req, ServerResponse res) {
        EmbeddingRequest request = EmbeddingRequest.parse(JsonRequest.parse(readBody(req)), name -> model(name, ServedModel.Encoder.class));
        sendJson(res, 200, request.response(inTurn(request.model().gate(), request::embed)));
    }

    /**
     * {@code POST /v1/predict}: a JSON body ({@link PredictRequest}), or an image file as the body
     * ({@code Content-Type: image/...}) with the model in the query ({@code ?model=NAME}).
     */
    private void predict(ServerRequest req, ServerResponse res) {
        String type = req.headers().contentType().map(t -> t.mediaType().text()).orElse("application/json");
        PredictRequest request;
        if (type.startsWith("image/")) {
            String name = req.query().first("model").orElseThrow(() -> ApiException.invalid(
                    "An image body needs its model in the query: POST /v1/predict?model=NAME.", "model"));
            request = PredictRequest.image(model(name, ServedModel.Classifier.class), readBody(req));
        } else if (type.equals("application/json")) {
            request = PredictRequest.parse(JsonRequest.parse(readBody(req)), name -> model(name, ServedModel.Classifier.class));
        } else {
            throw new ApiException(415, "invalid_request_error", "/v1/predict takes application/json or an image (image/png, image/jpeg, ...), not "
                    + type + ".", null, "unsupported_media_type", null);
        }
        sendJson(res, 200, request.response(inTurn(request.model().gate(), request::predict)));
    }

    /** {@code work} run when the gate gives it its turn; 429 when the model has too many requests already. */
    private static <T> T inTurn(RequestGate gate, java.util.function.Supplier<T> work) {
        try {
            return gate.run(work);
        } catch (ServerBusyException e) {
            throw new ApiException(429, "requests", e.getMessage(), null, "rate_limit_exceeded", 1);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw unavailable();
        }
    }

    /** What {@code token} adds to a text that ends in {@code previous}: the two decoded together, less {@code previous} alone. */
    private static String tokenText(Tokenizer tokenizer, int previous, int token) {
        String before = tokenizer.decode(new int[] {previous}), both = tokenizer.decode(new int[] {previous, token});
        return both.startsWith(before) ? both.substring(before.length()) : tokenizer.decode(new int[] {token});
    }

    private static List<CompletableFuture<Completion>> submit(CompletionRequest request, List<SequenceRequest> sequences) {
        try {
            return request.model().loop().submit(sequences);
        } catch (ServerBusyException e) {
            throw new ApiException(429, "requests", e.getMessage(), null, "rate_limit_exceeded", 1);
        } catch (IllegalStateException e) {
            throw unavailable();
        }
    }

    /** 503: the server is stopping (its decode loops are closed, or it is draining). */
    static ApiException unavailable() {
        return new ApiException(503, "server_error", "The server is shutting down.", null, "unavailable", 1);
    }

    /**
     * Writes the events of a streaming request as OpenAI's chunks until every choice has ended,
     * then {@code data: [DONE]}. Returns early, leaving the caller to cancel the sequences, when
     * the client goes away (a write fails) or a choice was dropped.
     */
    private static void stream(SseWriter sse, ChoiceEvents events, CompletionRequest request, String id, long created) {
        Endpoint endpoint = request.endpoint();
        String model = request.model().name();
        boolean[] started = new boolean[request.n()];
        int promptTokens = request.promptIds().length, completionTokens = 0;
        try {
            while (true) {
                ChoiceEvents.Event e = events.poll();
                if (e == null) { // nothing more at hand: send what was written, then wait
                    if (!sse.flush()) return;
                    if ((e = events.take()) == null) break;
                }
                int i = e.index();
                if (endpoint == Endpoint.CHAT && !started[i]) { // a chat choice opens with the assistant's role
                    started[i] = true;
                    if (!sse.send(endpoint.chunk(id, created, model, i, "", true, null))) return;
                }
                switch (e) {
                    case ChoiceEvents.Text t -> {
                        if (!sse.send(endpoint.chunk(id, created, model, i, t.text(), false, null))) return;
                    }
                    case ChoiceEvents.End end when end.completion() != null -> {
                        completionTokens += end.completion().completionTokens();
                        if (!sse.send(endpoint.chunk(id, created, model, i, "", false, end.completion().finishReason().openAiName()))) return;
                    }
                    case ChoiceEvents.End end -> {
                        // dropped (too slow), cancelled (shutting down) or failed: the headers are out, so say it in the stream
                        if (!(end.failure() instanceof CancellationException))
                            LOG.log(Level.WARNING, "generation failed", end.failure());
                        ObjectNode error = JSON.objectNode();
                        error.putObject("error").put("message", end.failure() instanceof CancellationException
                                ? "The stream was stopped: the client did not keep up, or the server is shutting down."
                                : "The server had an error while processing your request.").put("type", "server_error").putNull("param").putNull("code");
                        sse.send(error);
                        sse.close();
                        return;
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        if (request.includeUsage() && !sse.send(endpoint.usageChunk(id, created, model, promptTokens, completionTokens))) return;
        sse.done();
    }

    /** The request body, refused with 413 beyond {@code --max-body-bytes} (by its declared length, before reading it, when it has one). */
    private byte[] readBody(ServerRequest req) {
        int max = options.maxBodyBytes();
        OptionalLong declared = req.headers().contentLength();
        if (declared.isPresent() && declared.getAsLong() > max) throw tooLarge(declared.getAsLong() + " bytes");
        try (InputStream in = req.content().inputStream()) {
            byte[] body = in.readNBytes(max + 1);
            if (body.length > max) throw tooLarge("more than " + max + " bytes");
            return body;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private ApiException tooLarge(String size) {
        return new ApiException(413, "invalid_request_error", "The request body has " + size + "; this server takes at most "
                + options.maxBodyBytes() + " (--max-body-bytes).", null, "request_too_large", null);
    }
}
