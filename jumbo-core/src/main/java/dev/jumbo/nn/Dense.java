package dev.jumbo.nn;

import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import java.util.Map;

/**
 * A fully connected layer on the last axis: {@code activation(x · kernel + bias)} with kernel
 * {@code [in, units]} (Glorot uniform) and bias {@code [units]} (zeros). Inputs of higher rank,
 * e.g. {@code [time, in]}, are transformed at every position.
 *
 * <pre>{@code
 * Tensor y = new Dense(10, Activation.SOFTMAX).forward(x);   // x [batch, 784] -> y [batch, 10]
 * }</pre>
 */
public final class Dense extends Layer {
    private final int units;
    private final Activation activation;
    private Parameter kernel;
    private Parameter bias;

    /** A linear layer (no activation). */
    public Dense(int units) {
        this(units, Activation.LINEAR);
    }

    /** A layer with {@code units} outputs followed by {@code activation}. */
    public Dense(int units, Activation activation) {
        this.units = Check.positive("Dense", "units", units);
        this.activation = Check.activation("Dense", activation);
    }

    /** Number of outputs. */
    public int units() {
        return units;
    }

    /** The activation applied after the affine map. */
    public Activation activation() {
        return activation;
    }

    /** The {@code [in, units]} weight matrix; null until built. */
    public Parameter kernel() {
        return kernel;
    }

    /** The {@code [units]} bias; null until built. */
    public Parameter bias() {
        return bias;
    }

    @Override
    protected void onBuild(Shape inputShape) {
        int in = inputShape.dim(-1);
        kernel = addParameter("kernel", Init.glorotUniform(in, units, in, units));
        bias = addParameter("bias", Init.zeros(units));
    }

    @Override
    protected Tensor call(Tensor x) {
        return activation.apply(x.linear(kernel.value(), bias.value()));
    }

    @Override
    public Shape outputShape(Shape inputShape) {
        if (inputShape.rank() < 1 || inputShape.dim(-1) == 0) throw badInput(inputShape, "rank >= 1 with a non-empty last axis");
        if (kernel != null && inputShape.dim(-1) != kernel.value().dim(0))
            throw badInput(inputShape, "last dimension " + kernel.value().dim(0) + " (it was built for that)");
        return withLast(inputShape, units);
    }

    /** {@code 2 · in · units} per position along the leading axes; bias and activation are not counted. */
    @Override
    public long flops(Shape inputShape) {
        outputShape(inputShape);
        return 2L * inputShape.size() * units;
    }

    @Override
    protected void addConfig(Map<String, Object> config) {
        config.put("units", units);
        config.put("activation", activation.id());
    }
}
