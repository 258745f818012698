package dev.jumbo.metrics;

import dev.jumbo.tensor.Tensor;

/**
 * The fraction of elements where {@code prediction > threshold} agrees with a 0/1 target (Keras'
 * {@code binary_accuracy}: a target counts as 1 only if it equals 1). Use threshold 0.5 for
 * probabilities and 0 for logits.
 */
public final class BinaryAccuracy extends CountingMetric {
    private final float threshold;

    /** Threshold 0.5, for probabilities. */
    public BinaryAccuracy() {
        this(0.5);
    }

    public BinaryAccuracy(double threshold) {
        this(threshold, "binary_accuracy");
    }

    public BinaryAccuracy(double threshold, String name) {
        super(name);
        if (!Double.isFinite(threshold)) throw new IllegalArgumentException("binary accuracy threshold " + threshold + " is not finite");
        this.threshold = (float) threshold;
    }

    /** The decision threshold. */
    public double threshold() {
        return threshold;
    }

    @Override
    public void update(Tensor predictions, Tensor targets) {
        requireElementwise(name(), predictions, targets);
        float[] p = predictions.toFloatArray(), t = targets.toFloatArray();
        long hits = 0;
        for (int i = 0; i < p.length; i++) if ((p[i] > threshold ? 1f : 0f) == t[i]) hits++;
        count(hits, p.length);
    }
}
