package dev.jumbo.serve;

import dev.jumbo.models.ChatTemplate;
import dev.jumbo.models.LanguageModel;
import dev.jumbo.models.TextEncoder;
import dev.jumbo.nn.Layer;
import dev.jumbo.train.Sequential;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * {@code jumbo serve}'s HTTP server: Helidon SE on virtual threads, the OpenAI-compatible routes
 * of {@link OpenAiApi}, {@code GET /health} (200 while up), {@code GET /ready} (200 once the
 * models are loaded, 503 again while draining), {@code GET /metrics} (Prometheus's text format,
 * no API key: see {@link ServerMetrics}), an API key check on {@code /v1/*}, one {@link DecodeLoop}
 * per language model, and the {@link PlaygroundPage} at {@code GET /} (served without the key: it
 * holds none). It listens first and loads after, so a load balancer sees it alive but not ready
 * meanwhile; {@link #drain} lets the requests in flight finish before it stops.
 *
 * <pre>{@code
 * try (JumboServer server = JumboServer.start(ServeOptions.defaults())) {
 *     server.serve("stories260K", LanguageModel.load(BundledModel.checkpoint(), null, 0, err));
 *     server.ready();
 *     // http://127.0.0.1:8080/v1/completions ...
 *     server.drain(Duration.ofSeconds(30)); // on SIGTERM; close() then stops it
 * }
 * }</pre>
 */
public final class JumboServer implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(JumboServer.class.getName());
    /** How long a drain that timed out waits for the streams it cut to send their error event before the server stops. */
    private static final Duration CUT_GRACE = Duration.ofSeconds(5);

    private final ServeOptions options;
    private final Map<String, ServedModel> models = new ConcurrentSkipListMap<>(); // by name: /v1/models lists them so
    private final ServerMetrics metrics = new ServerMetrics();
    private final InFlightRequests inFlight = new InFlightRequests(); // /v1 requests being answered; none admitted once draining
    private volatile boolean ready;
    private volatile boolean loopsStopped; // by a drain's timeout or by close(), in flight or not
    private WebServer web;

    private JumboServer(ServeOptions options) {
        this.options = options;
    }

    /** Listens on {@code options.host()}:{@code options.port()}; not ready until {@link #ready()}. */
    public static JumboServer start(ServeOptions options) {
        JumboServer server = new JumboServer(options);
        HttpRouting.Builder routing = HttpRouting.builder();
        routing.addFilter((chain, req, res) -> {
            long start = System.nanoTime();
            boolean answered = false;
            try {
                server.admit(chain, req, res);
                answered = true;
            } finally {
                // after the handler, so the status is the one sent (errors and streams included); an exception
                // that got out of a handler is answered 500 by Helidon
                server.metrics.request(req.path().path(), answered || res.isSent() ? res.status().code() : 500, System.nanoTime() - start);
            }
        });
        routing.get("/health", (req, res) -> res.send("ok"));
        routing.get("/ready", (req, res) -> {
            if (server.inFlight.isClosed()) {
                OpenAiApi.sendError(res, OpenAiApi.unavailable());
                return;
            }
            res.status(server.ready ? 200 : 503);
            res.send(server.ready ? "ready" : "loading models");
        });
        // not under /v1, so no API key: a Prometheus scraper sends none by default (bind to 127.0.0.1 or a private network)
        routing.get("/metrics", (req, res) -> {
            res.header("Content-Type", PrometheusText.CONTENT_TYPE);
            res.send(server.metrics.scrape(server.models.values()).getBytes(StandardCharsets.UTF_8));
        });
        new OpenAiApi(server.models, options).routes(routing);
        PlaygroundPage.routes(routing);
        routing.any(OpenAiApi.guarded((req, res) -> {
            throw new ApiException(404, "invalid_request_error", "Invalid URL (" + req.prologue().method().text() + " " + req.path().path() + ").",
                    null, "unknown_url", null);
        }));
        // no shutdown hook of Helidon's: whoever starts the server closes it (the CLI on SIGINT/SIGTERM), models included
        // TCP_NODELAY: a stream's chunks are small writes, and Nagle's algorithm held each one back until the
        // client's delayed ACK (40 ms): one stream ran at 1.5k tokens/s with 47 ms to its first token
        server.web = WebServer.builder().host(options.host()).port(options.port()).shutdownHook(false)
                .connectionOptions(socket -> socket.tcpNoDelay(true)).routing(routing).build().start();
        return server;
    }

    /**
     * Serves {@code model} as {@code name}, with its own decode loop; the server closes it when it closes.
     *
     * @throws IllegalArgumentException if the name is taken or not a plain name
     */
    public synchronized void serve(String name, LanguageModel model) {
        checkName(name);
        DecodeLoop loop = DecodeLoop.start(name, model.model(), model.tokenizer(), options.maxConcurrency(), options.maxQueue());
        models.put(name, new ServedModel.Generator(name, model, ChatTemplate.detect(model.chatTemplate()), loop, now()));
    }

    /**
     * Serves {@code encoder} as {@code name} on {@code POST /v1/embeddings}.
     *
     * @throws IllegalArgumentException if the name is taken or not a plain name
     */
    public synchronized void serve(String name, TextEncoder encoder) {
        checkName(name);
        models.put(name, new ServedModel.Encoder(name, encoder, gate(), now()));
    }

    /**
     * Serves {@code classifier} (a model saved by {@code jumbo train}) as {@code name} on
     * {@code POST /v1/predict}; {@code labels} names its classes, or is empty. Its outputs are
     * class probabilities: those of its last layer when that is a softmax, a softmax of them otherwise.
     *
     * @throws IllegalArgumentException if the name is taken or not a plain name, or there are labels but not one per class
     */
    public synchronized void serve(String name, Sequential classifier, List<String> labels) {
        checkName(name);
        int classes = classifier.outputShape().size();
        if (!labels.isEmpty() && labels.size() != classes)
            throw new IllegalArgumentException("model " + name + " has " + classes + " classes but " + labels.size() + " labels");
        classifier.train(false); // for good: requests only read it
        List<Layer> layers = classifier.layers();
        boolean softmax = !layers.isEmpty() && "softmax".equals(layers.getLast().config().get("activation"));
        models.put(name, new ServedModel.Classifier(name, classifier, List.copyOf(labels), !softmax, gate(), now()));
    }

    private RequestGate gate() {
        return new RequestGate(options.maxConcurrency() + options.maxQueue());
    }

    private static long now() {
        return System.currentTimeMillis() / 1000;
    }

    private void checkName(String name) {
        if (!name.matches("[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}"))
            throw new IllegalArgumentException("a model name is letters, digits and . _ : / - (at most 128), got '" + name + "'");
        if (models.containsKey(name)) throw new IllegalArgumentException("two models named '" + name + "'");
    }

    /** From now on {@code GET /ready} answers 200 and {@code /v1/*} requests are served. */
    public void ready() {
        ready = true;
    }

    /**
     * Stops taking work and lets the requests in flight finish: from now on every {@code /v1/*}
     * request and {@code GET /ready} answer 503 with {@code Retry-After} ({@code /health} and
     * {@code /metrics} still answer). After {@code timeout}, the decode loops stop: the streams
     * still running end with an error event, and requests still waiting get 503. Call
     * {@link #close()} after it.
     *
     * @return true if every request in flight finished within the timeout, false if some were cut
     *         (by the timeout, or by a {@link #close()} meanwhile)
     */
    public boolean drain(Duration timeout) throws InterruptedException {
        ready = false;
        inFlight.close();
        if (inFlight.awaitIdle(timeout)) return !loopsStopped;
        stopLoops();
        inFlight.awaitIdle(CUT_GRACE); // the cut requests answer at once; let them out before close() stops listening
        return false;
    }

    /** Requests under {@code /v1} being answered now, streams included. */
    public int inFlight() {
        return inFlight.count();
    }

    /** The port it listens on (the one picked, for port 0). */
    public int port() {
        return web.port();
    }

    /** The base address, such as {@code http://127.0.0.1:8080}. */
    public String address() {
        String host = options.host().contains(":") ? "[" + options.host() + "]" : options.host();
        return "http://" + host + ":" + port();
    }

    /** The served models' names, sorted. */
    public List<String> models() {
        return List.copyOf(models.keySet());
    }

    /** The decode loop of a served model (for its figures). */
    public DecodeLoop loop(String model) {
        if (!(models.get(model) instanceof ServedModel.Generator g)) throw new IllegalArgumentException("no text generation model named '" + model + "'");
        return g.loop();
    }

    /**
     * Stops the decode loops (their streams end with an error event, new requests get 503), stops
     * listening and closes the models; closing again does nothing.
     */
    @Override
    public synchronized void close() {
        ready = false;
        inFlight.close();
        stopLoops();
        if (web.isRunning()) web.stop();
        for (ServedModel m : models.values()) {
            if (!(m instanceof ServedModel.Generator g)) continue; // the others hold no file or thread
            try {
                g.model().close();
            } catch (Exception e) {
                LOG.log(Level.WARNING, "closing model " + m.name(), e);
            }
        }
        models.clear();
    }

    private void stopLoops() {
        loopsStopped = true;
        for (ServedModel m : models.values()) {
            if (!(m instanceof ServedModel.Generator g)) continue; // one-pass models have no loop: their requests end by themselves
            try {
                g.loop().close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Passes a request on, or answers it here: a {@code /v1/*} request while draining (503), without its key (401) or before the models are loaded (503). */
    private void admit(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        if (!req.path().path().startsWith("/v1/")) {
            chain.proceed();
            return;
        }
        if (!inFlight.enter()) {
            OpenAiApi.sendError(res, OpenAiApi.unavailable());
            return;
        }
        try {
            ApiException refused = refuse(req.headers().first(HeaderNames.AUTHORIZATION).orElse(null));
            if (refused != null) {
                if (refused.status() == 401) res.header("WWW-Authenticate", "Bearer");
                OpenAiApi.sendError(res, refused);
                return;
            }
            chain.proceed();
        } finally {
            inFlight.exit();
        }
    }

    /** Why a {@code /v1/*} request with this Authorization header is refused now, or null to let it through. */
    private ApiException refuse(String authorization) {
        if (options.apiKey() != null) {
            String prefix = "Bearer ";
            String given = authorization != null && authorization.regionMatches(true, 0, prefix, 0, prefix.length())
                    ? authorization.substring(prefix.length()).strip() : "";
            // constant time: how much of a guess matched must not show in the response time
            if (!MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8), options.apiKey().getBytes(StandardCharsets.UTF_8)))
                return new ApiException(401, "invalid_request_error", authorization == null
                        ? "You didn't provide an API key: send it as 'Authorization: Bearer KEY'." : "Incorrect API key provided.",
                        null, "invalid_api_key", null);
        }
        if (!ready) return new ApiException(503, "server_error", "The server is loading its models.", null, "not_ready", 1);
        return null;
    }
}
