package dev.jumbo.explain;

import dev.jumbo.nn.Activation;
import dev.jumbo.nn.Conv2D;
import dev.jumbo.nn.Dense;
import dev.jumbo.nn.Flatten;
import dev.jumbo.nn.Init;
import dev.jumbo.tensor.Shape;
import dev.jumbo.train.Sequential;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SaliencyTest {

    /** Smooth models (tanh, softmax: no ReLU kinks), so central differences are a fair reference: a CNN on [5, 5, 2] and an MLP on [7]. */
    static Sequential[] smoothModels(long seed) {
        Init.seed(seed);
        Sequential cnn = new Sequential(Shape.of(5, 5, 2), new Conv2D(3, 3, Activation.TANH), new Flatten(),
                new Dense(6, Activation.TANH), new Dense(4, Activation.SOFTMAX));
        Sequential mlp = new Sequential(Shape.of(7), new Dense(5, Activation.TANH), new Dense(3, Activation.SOFTMAX));
        return new Sequential[] {cnn, mlp};
    }

    static float[] uniform(Random r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = r.nextFloat();
        return x;
    }

    /** d f_target / d x_i by central differences of the model's own outputs. */
    static double[] finiteDifferences(ModelFunction f, float[] x, int target, float eps) {
        double[] g = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            float[] plus = x.clone(), minus = x.clone();
            plus[i] += eps;
            minus[i] -= eps;
            float[] out = Gradients.outputs(f, concat(plus, minus), 2, 2);
            g[i] = ((double) out[target] - out[f.outputs() + target]) / ((double) plus[i] - minus[i]);
        }
        return g;
    }

    static float[] concat(float[] a, float[] b) {
        float[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    static void assertClose(float[] actual, double[] expected, String what) {
        double scale = 0;
        for (double e : expected) scale = Math.max(scale, Math.abs(e));
        assertThat(scale).as("%s: the reference gradient is not all zeros", what).isGreaterThan(1e-4);
        for (int i = 0; i < actual.length; i++)
            assertThat(Math.abs(actual[i] - expected[i])).as("%s element %d: %s vs %s", what, i, actual[i], expected[i])
                    .isLessThanOrEqualTo(2e-3 * scale + 1e-5);
    }

    @Test
    void saliencyIsTheAbsoluteFiniteDifferenceGradient() {
        Random r = new Random(System.nanoTime());
        for (Sequential model : smoothModels(r.nextLong()))
            for (ModelFunction.Output output : ModelFunction.Output.values()) {
                ModelFunction f = ModelFunction.of(model, output);
                float[] x = uniform(r, f.inputShape().size());
                int target = r.nextInt(f.outputs());
                double[] reference = finiteDifferences(f, x, target, 1e-2f);
                for (int i = 0; i < reference.length; i++) reference[i] = Math.abs(reference[i]);
                Explanation e = Saliency.explain(f, x, target);
                assertThat(e.method()).isEqualTo("saliency");
                assertThat(e.shape()).isEqualTo(f.inputShape());
                assertThat(e.prediction()).containsExactly(Gradients.outputs(f, x, 1, 1));
                assertClose(e.attributions(), reference, "saliency " + output + " on " + f.inputShape());
                assertThat(model.parameters()).allSatisfy(p -> {
                    assertThat(p.value().requiresGrad()).isTrue();
                    assertThat(p.value().grad()).isNull();
                });
            }
    }

    @Test
    void aWrongTargetOrShapeIsAClearError() {
        ModelFunction f = ModelFunction.of(smoothModels(1)[1], ModelFunction.Output.AS_IS);
        assertThatThrownBy(() -> Saliency.explain(f, new float[7], 3)).hasMessageContaining("class 3 does not exist: the model has 3 outputs");
        assertThatThrownBy(() -> Saliency.explain(f, new float[6], 0)).hasMessageContaining("saliency needs an input of shape [7]");
        assertThatThrownBy(() -> InputXGradient.explain(f, new float[8], 0)).hasMessageContaining("gradxinput needs an input of shape [7]");
    }
}
