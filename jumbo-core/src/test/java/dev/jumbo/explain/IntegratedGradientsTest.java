package dev.jumbo.explain;

import dev.jumbo.nn.Activation;
import dev.jumbo.nn.Conv2D;
import dev.jumbo.nn.Dense;
import dev.jumbo.nn.Flatten;
import dev.jumbo.nn.MaxPool2D;
import dev.jumbo.tensor.Shape;
import dev.jumbo.train.Sequential;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class IntegratedGradientsTest {

    /** A small CNN of the Fashion-MNIST family's layers with He-normal weights and small random biases from the seed. */
    static Sequential cnn(long seed) {
        Sequential m = new Sequential(Shape.of(12, 12, 1),
                new Conv2D(4, 3, Activation.RELU), new MaxPool2D(2), new Conv2D(6, 3, Activation.RELU),
                new Flatten(), new Dense(16, Activation.RELU), new Dense(5, Activation.SOFTMAX));
        m.forward(dev.jumbo.tensor.Tensor.zeros(1, 12, 12, 1));
        Random r = new Random(seed);
        for (var p : m.parameters()) {
            float[] v = p.value().buffer();
            int fanIn = p.value().rank() == 1 ? 0 : p.value().size() / p.value().dim(p.value().rank() - 1);
            for (int i = 0; i < v.length; i++)
                v[i] = (float) (fanIn == 0 ? 0.1 * r.nextGaussian() : r.nextGaussian() * Math.sqrt(2.0 / fanIn));
        }
        return m;
    }

    static float[] image(Random r) {
        float[] x = new float[144];
        for (int i = 0; i < x.length; i++) x[i] = r.nextFloat();
        return x;
    }

    @Test
    void gaussLegendreIsExactForPolynomialsUpToDegreeTwoNMinusOne() {
        for (int n : new int[] {1, 2, 5, 50}) {
            Quadrature.Rule rule = Quadrature.GAUSS_LEGENDRE.points(n);
            for (int degree = 0; degree <= 2 * n - 1 && degree < 40; degree++) {
                double integral = 0;
                for (int i = 0; i < n; i++) integral += rule.weights()[i] * Math.pow(rule.alphas()[i], degree);
                assertThat(integral).as("n=%d degree %d", n, degree).isCloseTo(1.0 / (degree + 1), within(1e-12));
            }
        }
        for (Quadrature q : Quadrature.values()) {
            double sum = 0;
            for (double w : q.points(7).weights()) sum += w;
            assertThat(sum).as(q.name()).isCloseTo(1, within(1e-12));
        }
    }

    @Test
    void attributionsAddUpToTheOutputsDifferenceWithinOnePercentOnACnn() {
        Random r = new Random(System.nanoTime());
        Sequential model = cnn(r.nextLong());
        for (ModelFunction.Output output : ModelFunction.Output.values()) {
            ModelFunction f = ModelFunction.of(model, output);
            float[] x = image(r);
            for (int target = 0; target < 5; target++) {
                Explanation e = IntegratedGradients.defaults().refinedTo(0.01, 1600).explain(f, x, target);
                double difference = e.details().get("output") - e.details().get("baseline_output");
                // within 1% of the difference, or of 0.01 when the difference is smaller, or of a hundredth of the total
                // absolute attribution when large attributions of both signs cancel: a class at probability 1e-3 moves by
                // 8e-4 between baseline and input, a logit once by 0.0035, and the quadrature's error over the ReLUs' kinks
                // scales with the integrand, not with the net difference
                double total = 0;
                for (float a : e.attributions()) total += Math.abs(a);
                assertThat(Math.abs(e.completenessGap())).as("%s target %d: sum %s, f(x)-f(0) %s, sum |a| %s", output, target, e.sum(), difference, total)
                        .isLessThanOrEqualTo(0.01 * Math.max(Math.max(Math.abs(difference), 0.01), 0.01 * total));
                assertThat(e.shape()).isEqualTo(Shape.of(12, 12, 1));
            }
        }
        assertThat(model.parameters()).allSatisfy(p -> assertThat(p.value().requiresGrad()).isTrue());
    }

    @Test
    void theGapShrinksAsStepsGrow() {
        Random r = new Random(System.nanoTime());
        ModelFunction f = ModelFunction.of(cnn(r.nextLong()), ModelFunction.Output.LOGITS);
        float[][] images = {image(r), image(r), image(r)};
        for (Quadrature q : Quadrature.values()) {
            double[] gap = new double[3];
            int[] steps = {4, 32, 512};
            for (int s = 0; s < 3; s++)
                for (float[] x : images)
                    for (int target = 0; target < 5; target++)
                        gap[s] += Math.abs(IntegratedGradients.defaults().withRule(q).withSteps(steps[s]).explain(f, x, target).completenessGap());
            assertThat(gap[1]).as(q.name()).isLessThan(gap[0]);
            assertThat(gap[2]).as(q.name()).isLessThan(gap[1]);
        }
    }

    @Test
    void aWrongTargetOrShapeIsAClearError() {
        ModelFunction f = ModelFunction.of(cnn(1), ModelFunction.Output.AS_IS);
        assertThatThrownBy(() -> IntegratedGradients.defaults().explain(f, new float[144], 5))
                .hasMessageContaining("class 5 does not exist: the model has 5 outputs");
        assertThatThrownBy(() -> IntegratedGradients.defaults().explain(f, new float[100], 0))
                .hasMessageContaining("shape [12, 12, 1]");
    }
}
