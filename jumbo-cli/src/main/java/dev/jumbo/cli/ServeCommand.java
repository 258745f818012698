package dev.jumbo.cli;

import dev.jumbo.models.ChatTemplate;
import dev.jumbo.models.LanguageModel;
import dev.jumbo.models.TextEncoder;
import dev.jumbo.serve.BundledModel;
import dev.jumbo.serve.JumboServer;
import dev.jumbo.serve.ServeOptions;
import dev.jumbo.train.Sequential;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.logging.Level;
import java.util.logging.Logger;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code jumbo serve}: the OpenAI-compatible server ({@link JumboServer}) on the models named by
 * {@code --model NAME=PATH}, or the bundled stories260K, until SIGTERM or Ctrl-C: then it drains
 * (new requests get 503, those in flight finish, up to {@code --drain-timeout}) and exits with 0.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serve models over HTTP with OpenAI's API: GET /v1/models, POST /v1/completions and /v1/chat/completions"
                + " (stream: true for server-sent events), POST /v1/embeddings (BERT models), POST /v1/predict (classifiers from jumbo train),"
                + " GET /health and /ready, GET /metrics (Prometheus, no API key). Without --model it serves the bundled stories260K."
                + " SIGTERM or Ctrl-C drains: new requests get 503, those in flight finish (up to --drain-timeout), then it exits.",
                "Example: jumbo serve --model tiny=tinyllama-1.1b-chat.Q4_0.gguf --port 8080 --api-key \"$KEY\""})
final class ServeCommand implements Callable<Integer> {
    /** Helidon logs each start at INFO; the server prints its own lines. Held here: JUL keeps loggers weakly. */
    private static final Logger HELIDON_LOG = Logger.getLogger("io.helidon");

    @Spec
    CommandSpec spec;

    @Option(names = "--model", paramLabel = "NAME=PATH",
            description = "A model to serve as NAME: a GGUF file, a HuggingFace-layout folder (Llama, GPT-2, BERT), a llama2.c checkpoint (its tokenizer beside it)"
                    + " or a folder written by jumbo train; repeatable."
                    + " Default: the bundled stories260K.")
    List<String> models = new ArrayList<>();

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "The address to listen on (default: ${DEFAULT-VALUE}, this machine only; 0.0.0.0 for every interface).")
    String host;

    @Option(names = "--port", defaultValue = "8080", description = "The TCP port; 0 picks a free one (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--api-key", paramLabel = "KEY", defaultValue = "${env:JUMBO_API_KEY}",
            description = "Require 'Authorization: Bearer KEY' on /v1/* (default: $JUMBO_API_KEY, which keeps the key out of the process list; none if unset).")
    String apiKey;

    @Option(names = "--max-concurrency", paramLabel = "N", defaultValue = "8", description = "Sequences a model generates at once (default: ${DEFAULT-VALUE}).")
    int maxConcurrency;

    @Option(names = "--max-queue", paramLabel = "N", defaultValue = "32", description = "Sequences that may wait; beyond, requests get 429 (default: ${DEFAULT-VALUE}).")
    int maxQueue;

    @Option(names = "--max-body-bytes", paramLabel = "N", defaultValue = "1048576", description = "The largest request body; beyond, 413 (default: ${DEFAULT-VALUE}).")
    int maxBodyBytes;

    @Option(names = "--drain-timeout", paramLabel = "SECONDS", defaultValue = "30",
            description = "On SIGTERM or Ctrl-C, how long requests in flight may take to finish before their streams are cut (default: ${DEFAULT-VALUE}).")
    int drainTimeout;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        Main.banner(err);
        ServeOptions options = new ServeOptions(host, port, apiKey == null || apiKey.isEmpty() ? null : apiKey, maxConcurrency, maxQueue, maxBodyBytes);
        Map<String, Path> named = parseModels();
        if (drainTimeout < 0) throw new IllegalArgumentException("--drain-timeout must be at least 0 seconds, got " + drainTimeout);
        HELIDON_LOG.setLevel(Level.WARNING);
        JumboServer server = JumboServer.start(options);
        // for an exit the signals below do not answer (a signal while loading, a second one): the server still closes
        Thread closer = new Thread(server::close, "jumbo-serve-shutdown");
        Runtime.getRuntime().addShutdownHook(closer);
        try {
            if (named.isEmpty()) {
                Path checkpoint = BundledModel.checkpoint();
                serve(server, BundledModel.NAME, checkpoint, "the bundled default, llama2.c's stories260K; --model NAME=PATH serves others", err);
            }
            for (Map.Entry<String, Path> m : named.entrySet()) serve(server, m.getKey(), m.getValue(), null, err);
            server.ready();
            // SIGTERM and SIGINT release the wait below rather than run the hook: the JVM would exit 143 after a hook's drain
            try (StopSignals signals = StopSignals.install("TERM", "INT")) {
                out.println("jumbo serve: listening on " + server.address() + " (the playground page at /, OpenAI API under /v1, GET /health, GET /ready,"
                        + " GET /metrics); " + maxConcurrency + " sequences at once per model, " + maxQueue + " queued"
                        + (options.apiKey() != null ? "; API key required on /v1" : "") + "; SIGTERM or Ctrl-C drains and stops");
                out.flush();
                String signal = signals.await(); // or interrupted (in-process)
                out.println("jumbo serve: " + signal + ": draining " + server.inFlight() + " request(s) in flight for up to " + drainTimeout
                        + " s; new requests get 503 (" + signal + " again stops at once)");
                out.flush();
                long start = System.nanoTime();
                boolean finished = server.drain(Duration.ofSeconds(drainTimeout));
                server.close();
                double seconds = (System.nanoTime() - start) / 1e9;
                out.println(finished ? String.format(Locale.ROOT, "jumbo serve: drained in %.1f s; stopped", seconds)
                        : String.format(Locale.ROOT, "jumbo serve: stopped after %.1f s (--drain-timeout %d, or a second signal) with requests"
                        + " still in flight: their streams ended with an error event", seconds, drainTimeout));
                out.flush();
            }
            return 0;
        } catch (InterruptedException e) {
            return 0;
        } finally {
            server.close();
            try {
                Runtime.getRuntime().removeShutdownHook(closer);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running or has run: nothing to remove
            }
        }
    }

    /**
     * Loads a model as what it is: a BERT folder or GGUF an encoder, a folder written by {@code jumbo
     * train} a classifier, anything else a language model.
     */
    private static void serve(JumboServer server, String name, Path path, String note, PrintWriter err) throws Exception {
        String where = "model " + name + ": " + path + (note != null ? " (" + note + ")" : "");
        if (TextEncoder.isEncoder(path)) {
            TextEncoder encoder = TextEncoder.load(path);
            server.serve(name, encoder);
            err.println(where + "; embeddings of " + encoder.dimensions() + " dimensions, texts up to " + encoder.maxTokens() + " tokens (POST /v1/embeddings)");
            return;
        }
        if (Files.isDirectory(path) && Sequential.isModelFolder(path)) {
            Sequential classifier = Sequential.load(path);
            List<String> labels = TrainCommand.labels(path);
            server.serve(name, classifier, labels);
            err.println(where + "; a classifier of " + classifier.inputShape() + " examples into " + classifier.outputShape().size() + " classes"
                    + (labels.isEmpty() ? "" : " (" + String.join(", ", labels) + ")") + " (POST /v1/predict)");
            return;
        }
        LanguageModel lm = LanguageModel.load(path, null, 0, err);
        try {
            server.serve(name, lm);
        } catch (RuntimeException e) {
            lm.close();
            throw e;
        }
        String template = lm.chatTemplate() == null ? "plain (the model has none)" : ChatTemplate.detect(lm.chatTemplate()).name().toLowerCase(Locale.ROOT);
        err.println(where + "; context " + lm.model().contextLength() + " tokens, chat template " + template);
    }

    /** The {@code --model NAME=PATH} options by name, checked before the server starts. */
    private Map<String, Path> parseModels() {
        Map<String, Path> named = new LinkedHashMap<>();
        for (String m : models) {
            int eq = m.indexOf('=');
            if (eq <= 0 || eq == m.length() - 1) throw new IllegalArgumentException("--model takes NAME=PATH, got '" + m + "'");
            if (named.put(m.substring(0, eq), Path.of(m.substring(eq + 1))) != null)
                throw new IllegalArgumentException("--model names '" + m.substring(0, eq) + "' twice");
        }
        return named;
    }
}
