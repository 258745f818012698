package dev.jumbo.optim;

import java.util.Map;

/**
 * AdaGrad, Keras' update: the accumulator starts at {@code initialAccumulator} (0.1), then
 *
 * <pre>
 * a += g^2
 * p -= lr * g / sqrt(a + epsilon)
 * </pre>
 */
public final class AdaGrad extends Optimizer {
    private final double initialAccumulator, epsilon;

    /** Keras defaults: initial accumulator 0.1, epsilon 1e-7. */
    public AdaGrad(double learningRate) {
        this(learningRate, 0.1, 1e-7);
    }

    public AdaGrad(double learningRate, double initialAccumulator, double epsilon) {
        super(learningRate, "accumulator");
        Configs.requireRate("AdaGrad initial accumulator", initialAccumulator);
        if (!(epsilon > 0) || Double.isInfinite(epsilon)) throw new IllegalArgumentException("AdaGrad epsilon must be positive, got " + epsilon);
        this.initialAccumulator = initialAccumulator;
        this.epsilon = epsilon;
    }

    @Override
    protected float initialSlotValue(int slot) {
        return (float) initialAccumulator;
    }

    @Override
    protected void update(float[] p, float[] g, float[][] slots, float lr, long step) {
        float[] a = slots[0];
        float eps = (float) epsilon;
        for (int i = 0; i < p.length; i++) {
            a[i] += g[i] * g[i];
            p[i] -= lr * g[i] / (float) Math.sqrt(a[i] + eps);
        }
    }

    @Override
    protected void hyperparameters(Map<String, Object> c) {
        c.put("initial_accumulator_value", initialAccumulator);
        c.put("epsilon", epsilon);
    }
}
