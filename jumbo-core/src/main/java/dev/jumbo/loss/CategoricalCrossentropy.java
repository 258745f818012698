package dev.jumbo.loss;

import dev.jumbo.tensor.Tensor;
import java.util.Map;

/**
 * Categorical cross-entropy {@code -sum_j t_j log p_j} over the last axis, averaged over the
 * other positions (Keras' {@code categorical_crossentropy}). Targets are one-hot rows or
 * probability distributions shaped like the predictions; gradients flow to them too when they
 * require one (distillation).
 *
 * <p>From logits, {@code log p} is a stable log-softmax, finite for any finite logits. From
 * probabilities, as in Keras, each row is divided by its sum and clipped to
 * {@code [1e-7, 1 - 1e-7]} before the logarithm; the gradient is zero where clipping took effect.
 *
 * @param fromLogits whether predictions are logits (true) or probabilities (false)
 */
public record CategoricalCrossentropy(boolean fromLogits) implements Loss {
    /** From probabilities, Keras' default. */
    public CategoricalCrossentropy() {
        this(false);
    }

    @Override
    public Tensor compute(Tensor predictions, Tensor targets) {
        LossChecks.classes(name(), predictions);
        if (!predictions.shape().equals(targets.shape()))
            throw new IllegalArgumentException(name() + ": predictions of shape " + predictions.shape() + " and targets of shape "
                    + targets.shape() + " do not match (targets are one-hot or probability rows; use sparse_categorical_crossentropy for class indices)");
        // probabilities straight from a softmax: use its logits, exact where a probability underflows (as Keras does)
        Tensor logits = fromLogits ? null : predictions.logitsOf(Tensor.Squash.SOFTMAX);
        if (logits != null) return CrossEntropy.compute(logits, targets.toFloatArray(), targets, true);
        return CrossEntropy.compute(predictions, targets.toFloatArray(), targets, fromLogits);
    }

    @Override
    public String name() {
        return "categorical_crossentropy";
    }

    @Override
    public Map<String, Object> config() {
        Map<String, Object> c = Loss.super.config();
        c.put("from_logits", fromLogits);
        return c;
    }
}
