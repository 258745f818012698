package dev.jumbo.optim;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jumbo.loss.MeanSquaredError;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.testing.GradCheck;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** Every optimizer, driven by autograd, fits a small noiseless linear regression. */
class OptimizerConvergenceTest {
    private final Random rnd = GradCheck.random();

    private void fits(Supplier<Optimizer> make, int steps) {
        Tensor x = Tensor.randn(rnd, 32, 3);
        Tensor trueW = Tensor.of(new float[] {1.5f, -2f, 0.5f}, 3, 1);
        Tensor y = x.matmul(trueW).add(0.7f);
        Tensor w = Tensor.zeros(3, 1).requiresGrad(true), b = Tensor.zeros(1).requiresGrad(true);
        Optimizer opt = make.get().bind(List.of(w, b));
        MeanSquaredError mse = new MeanSquaredError();
        double first = Double.NaN, last = Double.NaN;
        for (int i = 0; i < steps; i++) {
            Tensor loss = mse.compute(x.matmul(w).add(b), y);
            if (i == 0) first = loss.item();
            last = loss.item();
            loss.backward();
            opt.step();
            opt.zeroGrad();
        }
        assertThat(last).as("%s: loss from %s to %s", opt, first, last).isLessThan(1e-3 * first);
    }

    @Test
    void sgdFits() {
        fits(() -> new SGD(0.1), 300);
    }

    @Test
    void sgdWithNesterovMomentumFits() {
        fits(() -> new SGD(0.02, 0.9, true), 300);
    }

    @Test
    void adaGradFits() {
        fits(() -> new AdaGrad(0.5), 400);
    }

    @Test
    void rmspropFits() {
        fits(() -> new RMSprop(0.02), 400);
    }

    @Test
    void adamFits() {
        fits(() -> new Adam(0.05), 400);
    }

    @Test
    void adamWFits() {
        fits(() -> new AdamW(0.05, 1e-4), 400);
    }

    @Test
    void adamWithCosineScheduleAndClippingFits() {
        fits(() -> new Adam(0.1).schedule(new CosineDecay(0.0, 400, 0.01, 0.1, 20)).clipNorm(1.0), 420);
    }
}
