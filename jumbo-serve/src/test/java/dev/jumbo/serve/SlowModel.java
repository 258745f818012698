package dev.jumbo.serve;

import dev.jumbo.models.CausalLm;
import java.util.List;

/**
 * A model whose steps take at least {@code stepMillis}: long generations without long contexts, so
 * that tests can meet sequences in flight. Shared with other modules' tests through jumbo-serve's test jar.
 */
public record SlowModel(CausalLm model, long stepMillis) implements CausalLm {
    @Override
    public Session start() {
        return model.start();
    }

    @Override
    public int contextLength() {
        return model.contextLength();
    }

    @Override
    public int vocabSize() {
        return model.vocabSize();
    }

    @Override
    public float[][] step(List<? extends Session> sessions, int[] tokens) {
        try {
            Thread.sleep(stepMillis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return model.step(sessions, tokens);
    }
}
