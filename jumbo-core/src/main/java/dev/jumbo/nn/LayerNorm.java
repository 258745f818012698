package dev.jumbo.nn;

import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import java.util.Map;

/**
 * Layer normalization over the last axis of each position, with a learned scale {@code gamma}
 * (ones) and shift {@code beta} (zeros): {@code gamma · (x - mean) / sqrt(var + epsilon) + beta},
 * variance biased. The same in training and inference.
 *
 * <pre>{@code
 * Layer ln = new LayerNorm(1e-5);   // PyTorch's epsilon; the default is Keras's 1e-3
 * }</pre>
 */
public final class LayerNorm extends Layer {
    private final double epsilon;
    private Parameter gamma;
    private Parameter beta;

    /** Keras's default epsilon, 1e-3. */
    public LayerNorm() {
        this(1e-3);
    }

    /** A positive {@code epsilon} added to the variance. */
    public LayerNorm(double epsilon) {
        this.epsilon = Check.positive("LayerNorm", "epsilon", epsilon);
    }

    /** The epsilon added to the variance. */
    public double epsilon() {
        return epsilon;
    }

    /** The scale {@code [d]}; null until built. */
    public Parameter gamma() {
        return gamma;
    }

    /** The shift {@code [d]}; null until built. */
    public Parameter beta() {
        return beta;
    }

    @Override
    protected void onBuild(Shape inputShape) {
        int d = inputShape.dim(-1);
        gamma = addParameter("gamma", Tensor.ones(d));
        beta = addParameter("beta", Init.zeros(d));
    }

    @Override
    protected Tensor call(Tensor x) {
        return x.layerNorm(gamma.value(), beta.value(), (float) epsilon);
    }

    @Override
    public Shape outputShape(Shape inputShape) {
        if (inputShape.rank() < 1 || inputShape.dim(-1) == 0) throw badInput(inputShape, "rank >= 1 with a non-empty last axis");
        if (gamma != null && inputShape.dim(-1) != gamma.value().dim(0))
            throw badInput(inputShape, "last dimension " + gamma.value().dim(0) + " (it was built for that)");
        return inputShape;
    }

    @Override
    protected void addConfig(Map<String, Object> config) {
        config.put("epsilon", epsilon);
    }
}
