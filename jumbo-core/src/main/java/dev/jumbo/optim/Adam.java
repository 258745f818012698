package dev.jumbo.optim;

import java.util.Map;

/**
 * Adam, Keras' update (epsilon is added after the bias correction is folded into the step size,
 * the "epsilon hat" of Kingma and Ba's paper), with {@code t} the parameter's update count:
 *
 * <pre>
 * m += (1 - beta1) * (g - m)
 * v += (1 - beta2) * (g^2 - v)
 * p -= lr * sqrt(1 - beta2^t) / (1 - beta1^t) * m / (sqrt(v) + epsilon)
 * </pre>
 */
public final class Adam extends Optimizer {
    private final double beta1, beta2, epsilon;

    /** Keras defaults: beta1 0.9, beta2 0.999, epsilon 1e-7. */
    public Adam(double learningRate) {
        this(learningRate, 0.9, 0.999, 1e-7);
    }

    public Adam(double learningRate, double beta1, double beta2, double epsilon) {
        super(learningRate, "m", "v");
        if (!(beta1 >= 0 && beta1 < 1)) throw new IllegalArgumentException("Adam beta1 must be in [0, 1), got " + beta1);
        if (!(beta2 >= 0 && beta2 < 1)) throw new IllegalArgumentException("Adam beta2 must be in [0, 1), got " + beta2);
        if (!(epsilon > 0) || Double.isInfinite(epsilon)) throw new IllegalArgumentException("Adam epsilon must be positive, got " + epsilon);
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.epsilon = epsilon;
    }

    @Override
    protected void update(float[] p, float[] g, float[][] slots, float lr, long step) {
        float[] m = slots[0], v = slots[1];
        float alpha = (float) (lr * Math.sqrt(1 - Math.pow(beta2, step)) / (1 - Math.pow(beta1, step)));
        float c1 = (float) (1 - beta1), c2 = (float) (1 - beta2), eps = (float) epsilon;
        for (int i = 0; i < p.length; i++) {
            float gi = g[i];
            m[i] += c1 * (gi - m[i]);
            v[i] += c2 * (gi * gi - v[i]);
            p[i] -= alpha * m[i] / ((float) Math.sqrt(v[i]) + eps);
        }
    }

    @Override
    protected void hyperparameters(Map<String, Object> c) {
        c.put("beta_1", beta1);
        c.put("beta_2", beta2);
        c.put("epsilon", epsilon);
    }
}
