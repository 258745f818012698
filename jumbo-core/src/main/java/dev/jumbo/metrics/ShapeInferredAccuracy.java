package dev.jumbo.metrics;

import dev.jumbo.tensor.Tensor;

/**
 * {@code "accuracy"} when the loss does not say which kind is meant: the first batch's shapes
 * decide, by Keras' rule, and the choice then holds until the metric is discarded. Predictions
 * with a last dimension of 1 (or of rank 1) are binary; targets of lower rank than the
 * predictions, or with a last dimension of 1, are sparse class indices; otherwise categorical.
 */
final class ShapeInferredAccuracy implements Metric {
    private final String name;
    private Metric chosen;

    ShapeInferredAccuracy(String name) {
        this.name = name;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public void update(Tensor predictions, Tensor targets) {
        if (chosen == null) chosen = choose(predictions, targets);
        chosen.update(predictions, targets);
    }

    private Metric choose(Tensor predictions, Tensor targets) {
        if (predictions.rank() <= 1 || predictions.dim(-1) == 1) return new BinaryAccuracy(0.5, name);
        if (targets.rank() < predictions.rank() || targets.dim(-1) == 1) return new SparseCategoricalAccuracy(name);
        return new CategoricalAccuracy(name);
    }

    @Override
    public double result() {
        return chosen == null ? 0 : chosen.result();
    }

    @Override
    public void reset() {
        if (chosen != null) chosen.reset();
    }
}
