package dev.jumbo.optim;

import java.util.Map;

/**
 * Adam with decoupled weight decay (Loshchilov and Hutter), PyTorch's update, with {@code t} the
 * parameter's update count:
 *
 * <pre>
 * p *= 1 - lr * weightDecay
 * m = beta1 * m + (1 - beta1) * g
 * v = beta2 * v + (1 - beta2) * g^2
 * p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + epsilon)
 * </pre>
 *
 * The decay never passes through the moments, unlike L2 regularisation added to the loss.
 */
public final class AdamW extends Optimizer {
    private final double beta1, beta2, epsilon, weightDecay;

    /** PyTorch defaults: weight decay 0.01, beta1 0.9, beta2 0.999, epsilon 1e-8. */
    public AdamW(double learningRate) {
        this(learningRate, 0.01);
    }

    public AdamW(double learningRate, double weightDecay) {
        this(learningRate, 0.9, 0.999, 1e-8, weightDecay);
    }

    public AdamW(double learningRate, double beta1, double beta2, double epsilon, double weightDecay) {
        super(learningRate, "m", "v");
        if (!(beta1 >= 0 && beta1 < 1)) throw new IllegalArgumentException("AdamW beta1 must be in [0, 1), got " + beta1);
        if (!(beta2 >= 0 && beta2 < 1)) throw new IllegalArgumentException("AdamW beta2 must be in [0, 1), got " + beta2);
        if (!(epsilon > 0) || Double.isInfinite(epsilon)) throw new IllegalArgumentException("AdamW epsilon must be positive, got " + epsilon);
        Configs.requireRate("AdamW weight decay", weightDecay);
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.epsilon = epsilon;
        this.weightDecay = weightDecay;
    }

    @Override
    protected void update(float[] p, float[] g, float[][] slots, float lr, long step) {
        float[] m = slots[0], v = slots[1];
        float decay = (float) (1 - lr * weightDecay);
        float stepSize = (float) (lr / (1 - Math.pow(beta1, step)));
        float sqrtBc2 = (float) Math.sqrt(1 - Math.pow(beta2, step));
        float b1 = (float) beta1, b2 = (float) beta2, c1 = (float) (1 - beta1), c2 = (float) (1 - beta2), eps = (float) epsilon;
        for (int i = 0; i < p.length; i++) {
            float gi = g[i];
            p[i] *= decay;
            m[i] = b1 * m[i] + c1 * gi;
            v[i] = b2 * v[i] + c2 * gi * gi;
            p[i] -= stepSize * m[i] / ((float) Math.sqrt(v[i]) / sqrtBc2 + eps);
        }
    }

    @Override
    protected void hyperparameters(Map<String, Object> c) {
        c.put("beta_1", beta1);
        c.put("beta_2", beta2);
        c.put("epsilon", epsilon);
        c.put("weight_decay", weightDecay);
    }
}
