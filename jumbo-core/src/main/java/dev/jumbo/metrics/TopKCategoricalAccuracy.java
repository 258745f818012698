package dev.jumbo.metrics;

import dev.jumbo.tensor.Tensor;

/**
 * The fraction of rows whose target class (the largest target, for one-hot targets) is among the
 * {@code k} largest predictions (Keras' {@code top_k_categorical_accuracy}); predictions tied
 * with the k-th largest count as in the top k.
 */
public final class TopKCategoricalAccuracy extends CountingMetric {
    private final int k;

    /** k = 5, the Keras default. */
    public TopKCategoricalAccuracy() {
        this(5);
    }

    public TopKCategoricalAccuracy(int k) {
        this(k, "top_k_categorical_accuracy");
    }

    public TopKCategoricalAccuracy(int k, String name) {
        super(name);
        if (k < 1) throw new IllegalArgumentException("top-k accuracy needs k >= 1, got " + k);
        this.k = k;
    }

    /** How many of the largest predictions count. */
    public int k() {
        return k;
    }

    @Override
    public void update(Tensor predictions, Tensor targets) {
        int n = requireSameRows(name(), predictions, targets);
        float[] p = predictions.toFloatArray(), t = targets.toFloatArray();
        int rows = p.length / n;
        long hits = 0;
        for (int r = 0; r < rows; r++) if (inTopK(p, r * n, n, argmax(t, r * n, n), k)) hits++;
        count(hits, rows);
    }
}
