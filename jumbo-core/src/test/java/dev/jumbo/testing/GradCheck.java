package dev.jumbo.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jumbo.tensor.GradMode;
import dev.jumbo.tensor.Tensor;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Function;

/**
 * The one gradient check: compares every input's autograd gradient with central finite
 * differences. The output is reduced with fixed random weights, so every output element and
 * every path through the op is exercised, not only their sum.
 *
 * <pre>{@code
 * GradCheck.check(in -> in.get(0).tanh(), Tensor.randn(rnd, 3, 4));
 * }</pre>
 */
public final class GradCheck {
    private GradCheck() {}

    /** Checks {@code f} at the given inputs with default step and tolerances. */
    public static void check(Function<List<Tensor>, Tensor> f, Tensor... inputs) {
        check(f, 1e-2, 2e-2, 2e-3, inputs);
    }

    /**
     * Checks {@code f} with step {@code eps}; element i passes when
     * {@code |analytic - numeric| <= atol + rtol * max(|analytic|, |numeric|)}.
     */
    public static void check(Function<List<Tensor>, Tensor> f, double eps, double rtol, double atol, Tensor... inputs) {
        long seed = System.nanoTime();
        Random rnd = new Random(seed);
        List<Tensor> in = Arrays.stream(inputs).map(t -> Tensor.of(t.toFloatArray(), t.shape()).requiresGrad(true)).toList();
        Tensor out = f.apply(in);
        Tensor weights = Tensor.uniform(rnd, 0.5f, 1.5f, out.shape().toArray());
        out.mul(weights).sum().backward();
        for (int k = 0; k < in.size(); k++) {
            Tensor x = in.get(k);
            float[] analytic = x.grad() == null ? new float[x.size()] : x.grad().toFloatArray();
            float[] data = x.buffer();
            for (int i = 0; i < data.length; i++) {
                float keep = data[i];
                double plus, minus;
                try (var scope = GradMode.noGrad()) {
                    data[i] = (float) (keep + eps);
                    plus = weightedSum(f.apply(in), weights);
                    data[i] = (float) (keep - eps);
                    minus = weightedSum(f.apply(in), weights);
                } finally {
                    data[i] = keep;
                }
                double numeric = (plus - minus) / (2 * eps);
                double err = Math.abs(analytic[i] - numeric);
                assertThat(err)
                        .as("input %d element %d: analytic %s vs numeric %s (seed %d)", k, i, analytic[i], numeric, seed)
                        .isLessThanOrEqualTo(atol + rtol * Math.max(Math.abs(analytic[i]), Math.abs(numeric)));
            }
        }
    }

    private static double weightedSum(Tensor out, Tensor weights) {
        float[] o = out.toFloatArray(), w = weights.toFloatArray();
        double s = 0;
        for (int i = 0; i < o.length; i++) s += (double) o[i] * w[i];
        return s;
    }

    /** A fresh random generator whose seed is printed, so a failure can be replayed. */
    public static Random random() {
        long seed = System.nanoTime();
        System.out.println("random seed " + seed);
        return new Random(seed);
    }
}
