package dev.jumbo.metrics;

import dev.jumbo.tensor.Tensor;

/**
 * The fraction of rows whose largest prediction is at the target class index (Keras'
 * {@code sparse_categorical_accuracy}). Targets hold one index per row, as floats, shaped like the
 * predictions without the last dimension or with it as 1; a target that is not a valid index
 * simply never matches.
 */
public final class SparseCategoricalAccuracy extends CountingMetric {
    public SparseCategoricalAccuracy() {
        this("sparse_categorical_accuracy");
    }

    public SparseCategoricalAccuracy(String name) {
        super(name);
    }

    @Override
    public void update(Tensor predictions, Tensor targets) {
        int n = requireIndexPerRow(name(), predictions, targets);
        float[] p = predictions.toFloatArray(), t = targets.toFloatArray();
        long hits = 0;
        for (int r = 0; r < t.length; r++) if (argmax(p, r * n, n) == t[r]) hits++;
        count(hits, t.length);
    }
}
