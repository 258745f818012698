package dev.jumbo.metrics;

import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import java.util.Arrays;

/** A metric that is a fraction: hits over trials, counted exactly. */
abstract class CountingMetric implements Metric {
    private final String name;
    private long hits, trials;

    CountingMetric(String name) {
        if (name == null || name.isBlank()) throw new IllegalArgumentException("metric name is blank: \"" + name + "\"");
        this.name = name;
    }

    @Override
    public final String name() {
        return name;
    }

    /** Adds {@code hits} out of {@code trials}. */
    final void count(long hits, long trials) {
        this.hits += hits;
        this.trials += trials;
    }

    @Override
    public final double result() {
        return trials == 0 ? 0 : (double) hits / trials;
    }

    @Override
    public final void reset() {
        hits = 0;
        trials = 0;
    }

    @Override
    public String toString() {
        return name + " = " + result() + " (" + hits + "/" + trials + ")";
    }

    // ---------------------------------------------------------------- shape checks shared by the accuracies

    /** Equal shapes, or shapes that differ only by a trailing 1 ({@code [batch]} and {@code [batch, 1]}). */
    static void requireElementwise(String metric, Tensor predictions, Tensor targets) {
        Shape p = predictions.shape(), t = targets.shape();
        boolean ok = p.equals(t);
        if (!ok && p.size() == t.size() && Math.abs(p.rank() - t.rank()) == 1) {
            Shape longer = p.rank() > t.rank() ? p : t, shorter = p.rank() > t.rank() ? t : p;
            ok = longer.dim(-1) == 1;
            for (int i = 0; ok && i < shorter.rank(); i++) ok = shorter.dim(i) == longer.dim(i);
        }
        if (!ok) throw new IllegalArgumentException(metric + ": predictions of shape " + p + " and targets of shape " + t + " do not match");
    }

    /** Predictions {@code [..., classes]}, targets of the same shape. */
    static int requireSameRows(String metric, Tensor predictions, Tensor targets) {
        int n = classes(metric, predictions);
        if (!predictions.shape().equals(targets.shape()))
            throw new IllegalArgumentException(metric + ": predictions of shape " + predictions.shape() + " and targets of shape " + targets.shape() + " do not match");
        return n;
    }

    /** Predictions {@code [..., classes]}, targets one index per row: the same shape without the last dimension, or with it as 1. */
    static int requireIndexPerRow(String metric, Tensor predictions, Tensor targets) {
        int n = classes(metric, predictions);
        Shape p = predictions.shape(), t = targets.shape();
        boolean ok = t.size() == p.size() / n && (t.rank() == p.rank() - 1 || t.rank() == p.rank() && t.dim(-1) == 1);
        for (int i = 0; ok && i < p.rank() - 1; i++) ok = t.dim(i) == p.dim(i);
        if (!ok)
            throw new IllegalArgumentException(metric + ": targets of shape " + t + " do not match predictions of shape " + p
                    + " (expected one class index per row: shape " + Shape.of(Arrays.copyOf(p.toArray(), p.rank() - 1)) + ", or with a trailing 1)");
        return n;
    }

    private static int classes(String metric, Tensor predictions) {
        if (predictions.rank() == 0 || predictions.dim(-1) == 0)
            throw new IllegalArgumentException(metric + ": predictions of shape " + predictions.shape() + " have no class dimension");
        return predictions.dim(-1);
    }

    /** Index of the first largest value of {@code x[off .. off+n)}. */
    static int argmax(float[] x, int off, int n) {
        int best = 0;
        for (int j = 1; j < n; j++) if (x[off + j] > x[off + best]) best = j;
        return best;
    }

    /**
     * Whether class {@code target} is among the {@code k} largest of {@code x[off .. off+n)}: fewer
     * than k values are strictly larger than its value, so ties at the boundary count as in (Keras'
     * {@code in_top_k}).
     */
    static boolean inTopK(float[] x, int off, int n, int target, int k) {
        float v = x[off + target];
        if (Float.isNaN(v)) return false;
        int larger = 0;
        for (int j = 0; j < n; j++) if (x[off + j] > v) larger++;
        return larger < k;
    }
}
