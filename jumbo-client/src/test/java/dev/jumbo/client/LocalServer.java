package dev.jumbo.client;

import dev.jumbo.models.LanguageModel;
import dev.jumbo.serve.BundledModel;
import dev.jumbo.serve.DecodeLoop;
import dev.jumbo.serve.JumboServer;
import dev.jumbo.serve.ServeOptions;
import dev.jumbo.serve.SlowModel;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A real jumbo serve on 127.0.0.1 and a free port, in this JVM, serving the bundled stories260K
 * (jumbo-serve's own TestServer sits in its test classes, which this module cannot see).
 */
final class LocalServer implements AutoCloseable {
    static final String MODEL = BundledModel.NAME;

    final JumboServer server;

    private LocalServer(JumboServer server) {
        this.server = server;
    }

    /** The bundled model, with an API key (or null for none). */
    static LocalServer start(String apiKey) {
        return start(apiKey, 0);
    }

    /** The bundled model, each decoding step held back {@code stepMillis}, so that a generation lasts long enough to watch it stream. */
    static LocalServer start(String apiKey, long stepMillis) {
        JumboServer server = JumboServer.start(new ServeOptions("127.0.0.1", 0, apiKey, 8, 32, 1 << 20));
        try {
            LanguageModel lm = bundled();
            if (stepMillis > 0) lm = new LanguageModel(new SlowModel(lm.model(), stepMillis), lm.tokenizer(), lm.bos(), lm.bosAlways(), lm.eos(),
                    lm.chatTemplate(), lm.resources());
            server.serve(MODEL, lm);
            server.ready();
            return new LocalServer(server);
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
    }

    static LanguageModel bundled() {
        try {
            return LanguageModel.load(BundledModel.checkpoint(), null, 0, new PrintWriter(Writer.nullWriter()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** all-MiniLM-L6-v2 as a Q8_0 BERT GGUF, from {@code shared/data} beside the checkout (or above it). */
    static Path minilm() {
        String file = "shared/data/gguf/all-minilm-l6-v2-q8_0.gguf";
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent())
            if (Files.isRegularFile(p.resolve(file))) return p.resolve(file);
        throw new IllegalStateException(file + " not found beside the checkout or above " + Path.of("").toAbsolutePath());
    }

    URI address() {
        return URI.create(server.address());
    }

    DecodeLoop loop() {
        return server.loop(MODEL);
    }

    /** Waits until the model's loop has nothing active or waiting. */
    void awaitIdle() throws InterruptedException {
        for (long end = System.nanoTime() + 10_000_000_000L; loop().active() + loop().waiting() > 0; Thread.sleep(10))
            if (System.nanoTime() > end) throw new AssertionError("the decode loop is still busy: " + loop().active() + " active");
    }

    @Override
    public void close() {
        server.close();
    }
}
