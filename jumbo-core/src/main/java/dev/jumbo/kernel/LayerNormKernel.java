package dev.jumbo.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Layer normalization of rows of length {@code d}: {@code y = (x - mean) * rstd * gamma + beta}
 * with {@code rstd = 1 / sqrt(var + eps)} (variance biased), and its gradient, each in one pass
 * or two over a row instead of the eight tensor operations it takes written out.
 *
 * <p>The forward keeps each row's mean and rstd for the backward. Rows split over the compute
 * threads; the gamma and beta gradients are summed over rows on the calling thread, in row order,
 * so every result is the same whatever the thread count. Row sums use a fixed lane order
 * ({@link VectorMath#lanesSum}), so results do not depend on whether the JIT has compiled the loop.
 */
public final class LayerNormKernel {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int V = S.length();
    /** Cost of one row element for {@link Parallel#forRange} (a few passes of a few flops). */
    private static final long COST_PER_ELEMENT = 8;

    private LayerNormKernel() {}

    /**
     * Normalizes {@code rows} rows of {@code x}; writes {@code y}, and each row's mean and rstd
     * to {@code mean[r]} and {@code rstd[r]}. All arrays start at 0; {@code gamma} and
     * {@code beta} hold {@code d} values.
     */
    public static void forward(float[] x, float[] gamma, float[] beta, float eps, float[] y, float[] mean, float[] rstd, int rows, int d) {
        Parallel.forRange(rows, COST_PER_ELEMENT * d, (r0, r1) -> {
            for (int r = r0; r < r1; r++) forwardRow(x, gamma, beta, eps, y, mean, rstd, r, d);
        });
    }

    private static void forwardRow(float[] x, float[] gamma, float[] beta, float eps, float[] y, float[] mean, float[] rstd, int r, int d) {
        int o = r * d;
        float m = (float) (VectorMath.sum(x, o, d) / d);
        FloatVector vm = FloatVector.broadcast(S, m), acc = FloatVector.zero(S);
        int j = 0;
        for (int bound = S.loopBound(d); j < bound; j += V) {
            FloatVector c = FloatVector.fromArray(S, x, o + j).sub(vm);
            acc = c.fma(c, acc);
        }
        double squares = VectorMath.lanesSum(acc);
        for (; j < d; j++) {
            float c = x[o + j] - m;
            squares += c * c;
        }
        float s = (float) (1 / Math.sqrt(squares / d + eps));
        mean[r] = m;
        rstd[r] = s;
        FloatVector vs = FloatVector.broadcast(S, s);
        j = 0;
        for (int bound = S.loopBound(d); j < bound; j += V)
            FloatVector.fromArray(S, x, o + j).sub(vm).mul(vs)
                    .fma(FloatVector.fromArray(S, gamma, j), FloatVector.fromArray(S, beta, j)).intoArray(y, o + j);
        for (; j < d; j++) y[o + j] = Math.fma((x[o + j] - m) * s, gamma[j], beta[j]);
    }

    /**
     * The gradient of {@link #forward} given {@code g} = d(loss)/dy: writes {@code dx} (when not
     * null) and adds into {@code dgamma} and {@code dbeta} (each skipped when null). With
     * {@code xhat = (x - mean) * rstd} and {@code h = g * gamma},
     * {@code dx = rstd * (h - mean(h) - xhat * mean(h * xhat))} per row,
     * {@code dgamma += sum over rows of g * xhat} and {@code dbeta += sum over rows of g}.
     */
    public static void backward(float[] x, float[] gamma, float[] mean, float[] rstd, float[] g,
                                float[] dx, float[] dgamma, float[] dbeta, int rows, int d) {
        if (dx != null) {
            Parallel.forRange(rows, COST_PER_ELEMENT * d, (r0, r1) -> {
                for (int r = r0; r < r1; r++) inputGradientRow(x, gamma, mean[r], rstd[r], g, dx, r * d, d);
            });
        }
        if (dgamma == null && dbeta == null) return;
        for (int r = 0; r < rows; r++) {
            int o = r * d;
            FloatVector vm = FloatVector.broadcast(S, mean[r]), vs = FloatVector.broadcast(S, rstd[r]);
            int j = 0;
            for (int bound = S.loopBound(d); j < bound; j += V) {
                FloatVector gj = FloatVector.fromArray(S, g, o + j);
                if (dgamma != null) {
                    FloatVector xhat = FloatVector.fromArray(S, x, o + j).sub(vm).mul(vs);
                    gj.fma(xhat, FloatVector.fromArray(S, dgamma, j)).intoArray(dgamma, j);
                }
                if (dbeta != null) gj.add(FloatVector.fromArray(S, dbeta, j)).intoArray(dbeta, j);
            }
            for (; j < d; j++) {
                if (dgamma != null) dgamma[j] = Math.fma(g[o + j], (x[o + j] - mean[r]) * rstd[r], dgamma[j]);
                if (dbeta != null) dbeta[j] += g[o + j];
            }
        }
    }

    private static void inputGradientRow(float[] x, float[] gamma, float m, float s, float[] g, float[] dx, int o, int d) {
        FloatVector vm = FloatVector.broadcast(S, m), vs = FloatVector.broadcast(S, s);
        FloatVector sumH = FloatVector.zero(S), sumHXhat = FloatVector.zero(S);
        int j = 0;
        for (int bound = S.loopBound(d); j < bound; j += V) {
            FloatVector h = FloatVector.fromArray(S, g, o + j).mul(FloatVector.fromArray(S, gamma, j));
            FloatVector xhat = FloatVector.fromArray(S, x, o + j).sub(vm).mul(vs);
            sumH = sumH.add(h);
            sumHXhat = h.fma(xhat, sumHXhat);
        }
        float a = VectorMath.lanesSum(sumH), b = VectorMath.lanesSum(sumHXhat);
        for (int t = j; t < d; t++) {
            float h = g[o + t] * gamma[t];
            a += h;
            b = Math.fma(h, (x[o + t] - m) * s, b);
        }
        a /= d;
        b /= d;
        FloatVector va = FloatVector.broadcast(S, a), vb = FloatVector.broadcast(S, b);
        for (int k = 0, bound = S.loopBound(d); k < bound; k += V) {
            FloatVector h = FloatVector.fromArray(S, g, o + k).mul(FloatVector.fromArray(S, gamma, k));
            FloatVector xhat = FloatVector.fromArray(S, x, o + k).sub(vm).mul(vs);
            h.sub(va).sub(xhat.mul(vb)).mul(vs).intoArray(dx, o + k);
        }
        for (int t = j; t < d; t++) {
            float h = g[o + t] * gamma[t], xhat = (x[o + t] - m) * s;
            dx[o + t] = (h - a - xhat * b) * s;
        }
    }
}
