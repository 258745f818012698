package dev.jumbo.loss;

import dev.jumbo.tensor.Tensor;
import java.util.Map;

/**
 * Categorical cross-entropy with integer class targets (Keras'
 * {@code sparse_categorical_crossentropy}): for predictions {@code [..., classes]}, targets hold
 * one class index per row, stored as floats, shaped like the predictions without the last
 * dimension or with it as 1 ({@code [batch]} or {@code [batch, 1]} for a classifier). Every index
 * must be an integer in {@code [0, classes)}; otherwise the error names the row and the value.
 *
 * <p>Same numerics as {@link CategoricalCrossentropy} with one-hot targets; no gradient flows to
 * the targets.
 *
 * @param fromLogits whether predictions are logits (true) or probabilities (false)
 */
public record SparseCategoricalCrossentropy(boolean fromLogits) implements Loss {
    /** From probabilities, Keras' default. */
    public SparseCategoricalCrossentropy() {
        this(false);
    }

    @Override
    public Tensor compute(Tensor predictions, Tensor targets) {
        int[] index = LossChecks.classIndices(name(), predictions, targets);
        int n = predictions.dim(-1);
        float[] oneHot = new float[predictions.size()];
        for (int r = 0; r < index.length; r++) oneHot[r * n + index[r]] = 1f;
        // probabilities straight from a softmax: use its logits, exact where a probability underflows (as Keras does)
        Tensor logits = fromLogits ? null : predictions.logitsOf(Tensor.Squash.SOFTMAX);
        if (logits != null) return CrossEntropy.compute(logits, oneHot, null, true);
        return CrossEntropy.compute(predictions, oneHot, null, fromLogits);
    }

    @Override
    public String name() {
        return "sparse_categorical_crossentropy";
    }

    @Override
    public Map<String, Object> config() {
        Map<String, Object> c = Loss.super.config();
        c.put("from_logits", fromLogits);
        return c;
    }
}
