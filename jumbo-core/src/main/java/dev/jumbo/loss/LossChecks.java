package dev.jumbo.loss;

import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import java.util.Arrays;

/** Input validation shared by the losses; every message names the loss and both shapes. */
final class LossChecks {
    /** Keras clips probabilities to [EPSILON, 1 - EPSILON] before taking logarithms. */
    static final float EPSILON = 1e-7f;
    static final float ONE_MINUS_EPSILON = 1f - EPSILON;

    private LossChecks() {}

    /**
     * Predictions and targets hold one value per element: equal shapes, or shapes that differ only
     * by a trailing dimension of 1 ({@code [batch]} against {@code [batch, 1]}), as Keras squeezes.
     */
    static void requireElementwise(String loss, Tensor predictions, Tensor targets) {
        Shape p = predictions.shape(), t = targets.shape();
        if (!compatible(p, t))
            throw new IllegalArgumentException(loss + ": predictions of shape " + p + " and targets of shape " + t + " do not match");
        requireNonEmpty(loss, predictions);
    }

    private static boolean compatible(Shape p, Shape t) {
        if (p.equals(t)) return true;
        if (p.size() != t.size() || Math.abs(p.rank() - t.rank()) != 1) return false;
        Shape longer = p.rank() > t.rank() ? p : t, shorter = p.rank() > t.rank() ? t : p;
        if (longer.dim(-1) != 1) return false;
        for (int i = 0; i < shorter.rank(); i++) if (shorter.dim(i) != longer.dim(i)) return false;
        return true;
    }

    /** Predictions {@code [..., classes]} with at least one class. */
    static int classes(String loss, Tensor predictions) {
        if (predictions.rank() == 0)
            throw new IllegalArgumentException(loss + ": predictions must have a class dimension, got a scalar");
        requireNonEmpty(loss, predictions);
        return predictions.dim(-1);
    }

    static void requireNonEmpty(String loss, Tensor predictions) {
        if (predictions.size() == 0) throw new IllegalArgumentException(loss + ": empty batch (predictions of shape " + predictions.shape() + ")");
    }

    /**
     * The class index of each row of {@code predictions [..., classes]}: targets shaped like the
     * predictions without their last dimension, or with it as 1, holding integral values in range.
     */
    static int[] classIndices(String loss, Tensor predictions, Tensor targets) {
        int n = classes(loss, predictions);
        Shape p = predictions.shape(), t = targets.shape();
        int rows = p.size() / n;
        boolean shapeOk = t.size() == rows && (t.rank() == p.rank() - 1 || t.rank() == p.rank() && t.dim(-1) == 1);
        for (int i = 0; shapeOk && i < p.rank() - 1; i++) shapeOk = t.dim(i) == p.dim(i);
        if (!shapeOk)
            throw new IllegalArgumentException(loss + ": targets of shape " + t + " do not match predictions of shape " + p
                    + " (expected one class index per row: shape " + Shape.of(Arrays.copyOf(p.toArray(), p.rank() - 1))
                    + ", or with a trailing 1)");
        float[] v = targets.toFloatArray();
        int[] index = new int[rows];
        for (int r = 0; r < rows; r++) {
            float x = v[r];
            if (!(x >= 0 && x < n) || x != Math.rint(x))
                throw new IllegalArgumentException(loss + ": target of row " + r + " is " + x + "; expected an integer class index in [0, " + n + ")");
            index[r] = (int) x;
        }
        return index;
    }
}
