package dev.jumbo.optim;

import java.util.Map;

/**
 * RMSprop, Keras' update:
 *
 * <pre>
 * v = rho * v + (1 - rho) * g^2
 * centered:  a = rho * a + (1 - rho) * g;  d = v - a^2 + epsilon     otherwise d = v + epsilon
 * inc = lr * g / sqrt(d)
 * momentum > 0:  m = momentum * m + inc;  p -= m                      otherwise p -= inc
 * </pre>
 */
public final class RMSprop extends Optimizer {
    private final double rho, momentum, epsilon;
    private final boolean centered;

    /** Keras defaults: rho 0.9, no momentum, epsilon 1e-7, not centered. */
    public RMSprop(double learningRate) {
        this(learningRate, 0.9, 0, 1e-7, false);
    }

    public RMSprop(double learningRate, double rho, double momentum, double epsilon, boolean centered) {
        super(learningRate, slotNames(momentum, centered));
        if (!(rho >= 0 && rho < 1)) throw new IllegalArgumentException("RMSprop rho must be in [0, 1), got " + rho);
        if (!(momentum >= 0 && momentum < 1)) throw new IllegalArgumentException("RMSprop momentum must be in [0, 1), got " + momentum);
        if (!(epsilon > 0) || Double.isInfinite(epsilon)) throw new IllegalArgumentException("RMSprop epsilon must be positive, got " + epsilon);
        this.rho = rho;
        this.momentum = momentum;
        this.epsilon = epsilon;
        this.centered = centered;
    }

    private static String[] slotNames(double momentum, boolean centered) {
        if (momentum > 0) return centered ? new String[] {"velocity", "average_gradient", "momentum"} : new String[] {"velocity", "momentum"};
        return centered ? new String[] {"velocity", "average_gradient"} : new String[] {"velocity"};
    }

    @Override
    protected void update(float[] p, float[] g, float[][] slots, float lr, long step) {
        float[] v = slots[0], a = centered ? slots[1] : null, m = momentum > 0 ? slots[slots.length - 1] : null;
        float r = (float) rho, r1 = (float) (1 - rho), eps = (float) epsilon, mu = (float) momentum;
        for (int i = 0; i < p.length; i++) {
            float gi = g[i];
            v[i] = r * v[i] + r1 * gi * gi;
            float d;
            if (a != null) {
                a[i] = r * a[i] + r1 * gi;
                d = v[i] - a[i] * a[i] + eps;
            } else {
                d = v[i] + eps;
            }
            float inc = lr * gi / (float) Math.sqrt(d);
            if (m != null) {
                m[i] = mu * m[i] + inc;
                p[i] -= m[i];
            } else {
                p[i] -= inc;
            }
        }
    }

    @Override
    protected void hyperparameters(Map<String, Object> c) {
        c.put("rho", rho);
        c.put("momentum", momentum);
        c.put("epsilon", epsilon);
        c.put("centered", centered);
    }
}
