package dev.jumbo.optim;

import java.util.Map;

/**
 * Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay,
 * PyTorch's update (no dampening):
 *
 * <pre>
 * d = g + weightDecay * p
 * b = d on the first step, else momentum * b + d
 * p -= lr * (nesterov ? d + momentum * b : b)      (p -= lr * d without momentum)
 * </pre>
 *
 * With a constant learning rate this is the same trajectory as Keras' SGD.
 */
public final class SGD extends Optimizer {
    private final double momentum, weightDecay;
    private final boolean nesterov;

    /** Plain gradient descent. */
    public SGD(double learningRate) {
        this(learningRate, 0, false);
    }

    public SGD(double learningRate, double momentum, boolean nesterov) {
        this(learningRate, momentum, nesterov, 0);
    }

    /**
     * @param weightDecay L2 penalty coefficient added to the gradient (coupled, as in PyTorch's SGD)
     */
    public SGD(double learningRate, double momentum, boolean nesterov, double weightDecay) {
        super(learningRate, momentum > 0 ? new String[] {"momentum"} : new String[0]);
        if (!(momentum >= 0 && momentum < 1)) throw new IllegalArgumentException("SGD momentum must be in [0, 1), got " + momentum);
        if (nesterov && momentum == 0) throw new IllegalArgumentException("Nesterov momentum needs momentum > 0");
        Configs.requireRate("SGD weight decay", weightDecay);
        this.momentum = momentum;
        this.nesterov = nesterov;
        this.weightDecay = weightDecay;
    }

    @Override
    protected void update(float[] p, float[] g, float[][] slots, float lr, long step) {
        float mu = (float) momentum, wd = (float) weightDecay;
        if (mu == 0) {
            for (int i = 0; i < p.length; i++) p[i] -= lr * (wd == 0 ? g[i] : g[i] + wd * p[i]);
            return;
        }
        float[] b = slots[0];
        for (int i = 0; i < p.length; i++) {
            float d = wd == 0 ? g[i] : g[i] + wd * p[i];
            float bi = step == 1 ? d : mu * b[i] + d;
            b[i] = bi;
            p[i] -= lr * (nesterov ? d + mu * bi : bi);
        }
    }

    @Override
    protected void hyperparameters(Map<String, Object> c) {
        c.put("momentum", momentum);
        c.put("nesterov", nesterov);
        c.put("weight_decay", weightDecay);
    }
}
