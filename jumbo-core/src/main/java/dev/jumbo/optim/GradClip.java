package dev.jumbo.optim;

import dev.jumbo.tensor.Tensor;
import java.util.List;

/**
 * Gradient clipping, in place on the gradients of the given parameters (those whose
 * {@link Tensor#grad()} is null are skipped). Optimizers apply it in {@link Optimizer#step()}
 * when configured with {@link Optimizer#clipNorm} or {@link Optimizer#clipValue}.
 */
public final class GradClip {
    private GradClip() {}

    /**
     * Scales all gradients together so their joint L2 norm is at most {@code maxNorm} (Keras'
     * {@code global_clipnorm}, PyTorch's {@code clip_grad_norm_}); gradients already within it
     * are left alone.
     *
     * @return the global norm before clipping. When it is not finite (an overflowed or NaN
     *         gradient) nothing is scaled and the caller should skip the update.
     */
    public static double byGlobalNorm(List<Tensor> params, double maxNorm) {
        if (!(maxNorm > 0) || Double.isInfinite(maxNorm)) throw new IllegalArgumentException("clip norm must be positive and finite, got " + maxNorm);
        double sq = 0;
        for (Tensor p : params) {
            if (p.grad() == null) continue;
            for (float g : p.grad().buffer()) sq += (double) g * g;
        }
        double norm = Math.sqrt(sq);
        if (Double.isFinite(norm) && norm > maxNorm) {
            float scale = (float) (maxNorm / norm);
            for (Tensor p : params) {
                if (p.grad() == null) continue;
                float[] g = p.grad().buffer();
                for (int i = 0; i < g.length; i++) g[i] *= scale;
            }
        }
        return norm;
    }

    /** Clamps every gradient element to {@code [-limit, limit]} (Keras' {@code clipvalue}); NaN stays NaN. */
    public static void byValue(List<Tensor> params, double limit) {
        if (!(limit > 0) || Double.isInfinite(limit)) throw new IllegalArgumentException("clip value must be positive and finite, got " + limit);
        float hi = (float) limit, lo = -hi;
        for (Tensor p : params) {
            if (p.grad() == null) continue;
            float[] g = p.grad().buffer();
            for (int i = 0; i < g.length; i++) g[i] = g[i] > hi ? hi : g[i] < lo ? lo : g[i];
        }
    }
}
