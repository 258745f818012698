package dev.jumbo.loss;

import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import java.util.Map;

/**
 * Binary cross-entropy {@code -(z log p + (1 - z) log(1 - p))}, averaged over every element
 * (Keras' {@code binary_crossentropy}; each element is an independent yes/no question).
 *
 * <p>From logits {@code x} it is computed as {@code max(x, 0) - x z + log(1 + e^-|x|)}, finite
 * for any finite logit. From probabilities, {@code p} is first clipped to
 * {@code [1e-7, 1 - 1e-7]} as Keras does, so 0 and 1 give a large but finite loss; the gradient
 * is zero where clipping took effect. Targets are usually 0/1 but may be any value in [0, 1];
 * gradients flow to them too when they require one.
 *
 * @param fromLogits whether predictions are logits (true) or probabilities (false)
 */
public record BinaryCrossentropy(boolean fromLogits) implements Loss {
    /** From probabilities, Keras' default. */
    public BinaryCrossentropy() {
        this(false);
    }

    @Override
    public Tensor compute(Tensor predictions, Tensor targets) {
        LossChecks.requireElementwise(name(), predictions, targets);
        // probabilities straight from a sigmoid: use its logits, exact where a probability saturates (as Keras does)
        Tensor logits = fromLogits ? null : predictions.logitsOf(Tensor.Squash.SIGMOID);
        if (logits != null) return new BinaryCrossentropy(true).compute(logits, targets);
        float[] x = predictions.toFloatArray(), z = targets.toFloatArray();
        int n = x.length;
        double sum = 0;
        for (int i = 0; i < n; i++) {
            if (fromLogits) {
                double xi = x[i];
                sum += Math.max(xi, 0) - xi * z[i] + Math.log1p(Math.exp(-Math.abs(xi)));
            } else {
                double c = clip(x[i]);
                sum -= z[i] * Math.log(c) + (1 - z[i]) * Math.log(1 - c);
            }
        }
        return Tensor.result(new float[] {(float) (sum / n)}, Shape.of(), g -> {
            float scale = g.item() / n;
            if (predictions.requiresGrad()) {
                float[] dx = new float[n];
                for (int i = 0; i < n; i++) {
                    if (fromLogits) {
                        dx[i] = scale * (sigmoid(x[i]) - z[i]);          // d/dx = sigmoid(x) - z
                    } else if (x[i] >= LossChecks.EPSILON && x[i] <= LossChecks.ONE_MINUS_EPSILON) {
                        double p = x[i];                                  // d/dp = (p - z) / (p (1 - p))
                        dx[i] = (float) (scale * (-z[i] / p + (1 - z[i]) / (1 - p)));
                    }
                }
                predictions.addToGrad(Tensor.of(dx, predictions.shape()));
            }
            if (targets.requiresGrad()) {
                float[] dz = new float[n];
                for (int i = 0; i < n; i++) {
                    // d/dz = -x from logits, log(1 - p) - log(p) from probabilities
                    dz[i] = fromLogits ? -scale * x[i] : (float) (scale * (Math.log(1 - clip(x[i])) - Math.log(clip(x[i]))));
                }
                targets.addToGrad(Tensor.of(dz, targets.shape()));
            }
        }, predictions, targets);
    }

    private static float clip(float p) {
        return Math.min(Math.max(p, LossChecks.EPSILON), LossChecks.ONE_MINUS_EPSILON);
    }

    private static float sigmoid(float x) {
        return x >= 0 ? (float) (1 / (1 + Math.exp(-x))) : (float) (Math.exp(x) / (1 + Math.exp(x)));
    }

    @Override
    public String name() {
        return "binary_crossentropy";
    }

    @Override
    public Map<String, Object> config() {
        Map<String, Object> c = Loss.super.config();
        c.put("from_logits", fromLogits);
        return c;
    }
}
