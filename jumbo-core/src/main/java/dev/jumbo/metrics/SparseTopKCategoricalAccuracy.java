package dev.jumbo.metrics;

import dev.jumbo.tensor.Tensor;

/**
 * The fraction of rows whose target class index is among the {@code k} largest predictions
 * (Keras' {@code sparse_top_k_categorical_accuracy}); ties with the k-th largest count as in.
 * Targets are shaped as for {@link SparseCategoricalAccuracy}; an invalid index never matches.
 */
public final class SparseTopKCategoricalAccuracy extends CountingMetric {
    private final int k;

    /** k = 5, the Keras default. */
    public SparseTopKCategoricalAccuracy() {
        this(5);
    }

    public SparseTopKCategoricalAccuracy(int k) {
        this(k, "sparse_top_k_categorical_accuracy");
    }

    public SparseTopKCategoricalAccuracy(int k, String name) {
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
        int n = requireIndexPerRow(name(), predictions, targets);
        float[] p = predictions.toFloatArray(), t = targets.toFloatArray();
        long hits = 0;
        for (int r = 0; r < t.length; r++) {
            float c = t[r];
            if (c >= 0 && c < n && c == Math.rint(c) && inTopK(p, r * n, n, (int) c, k)) hits++;
        }
        count(hits, t.length);
    }
}
