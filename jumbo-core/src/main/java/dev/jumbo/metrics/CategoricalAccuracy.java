package dev.jumbo.metrics;

import dev.jumbo.tensor.Tensor;

/**
 * The fraction of rows whose largest prediction is at the same index as the largest target
 * (Keras' {@code categorical_accuracy}, for one-hot targets); ties go to the first index.
 */
public final class CategoricalAccuracy extends CountingMetric {
    public CategoricalAccuracy() {
        this("categorical_accuracy");
    }

    public CategoricalAccuracy(String name) {
        super(name);
    }

    @Override
    public void update(Tensor predictions, Tensor targets) {
        int n = requireSameRows(name(), predictions, targets);
        float[] p = predictions.toFloatArray(), t = targets.toFloatArray();
        int rows = p.length / n;
        long hits = 0;
        for (int r = 0; r < rows; r++) if (argmax(p, r * n, n) == argmax(t, r * n, n)) hits++;
        count(hits, rows);
    }
}
