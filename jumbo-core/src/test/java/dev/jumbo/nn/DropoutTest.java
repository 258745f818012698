package dev.jumbo.nn;

import static dev.jumbo.nn.LayerGradCheck.forwardWithDeclaredShape;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.jumbo.tensor.Tensor;
import dev.jumbo.testing.GradCheck;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DropoutTest {
    private final Random rnd = GradCheck.random();

    @Test
    void trainingDropsAboutRateAndPreservesTheMean() {
        Dropout dropout = new Dropout(0.3);
        Tensor y = forwardWithDeclaredShape(dropout, Tensor.ones(4, 5000));
        int zeros = 0;
        double sum = 0;
        for (float v : y.toFloatArray()) {
            if (v == 0) zeros++;
            else assertThat(v).isCloseTo(1 / 0.7f, within(1e-6f)); // survivors are scaled up
            sum += v;
        }
        // 20000 Bernoulli draws: the standard error of the fraction is about 0.003
        assertThat(zeros / 20000.0).isCloseTo(0.3, within(0.02));
        assertThat(sum / 20000).isCloseTo(1.0, within(0.03));
    }

    @Test
    void isTheIdentityOutsideTrainingAndAtRateZero() {
        Tensor x = Tensor.randn(rnd, 3, 7);
        Dropout dropout = new Dropout(0.5);
        dropout.train(false);
        assertThat(dropout.forward(x).toFloatArray()).containsExactly(x.toFloatArray());
        assertThat(new Dropout(0).forward(x).toFloatArray()).containsExactly(x.toFloatArray());
    }

    @Test
    void masksFollowTheGlobalSeed() {
        Tensor x = Tensor.randn(rnd, 2, 50);
        Init.seed(7);
        float[] a = new Dropout(0.5).forward(x).toFloatArray();
        Init.seed(7);
        assertThat(new Dropout(0.5).forward(x).toFloatArray()).containsExactly(a);
    }

    @Test
    void gradientFlowsThroughTheKeptElementsOnly() {
        // reseeding before every evaluation keeps the mask fixed while the check perturbs inputs
        LayerGradCheck.check(new Dropout(0.4), Tensor.randn(rnd, 2, 6), true, () -> Init.seed(11));
    }

    @Test
    void rejectsRatesOutsideZeroToOne() {
        assertThatThrownBy(() -> new Dropout(1)).isInstanceOf(IllegalArgumentException.class).hasMessage("Dropout rate must be in [0.0, 1.0), got 1.0");
        assertThatThrownBy(() -> new Dropout(-0.1)).hasMessageContaining("got -0.1");
        assertThatThrownBy(() -> new Dropout(Double.NaN)).hasMessageContaining("got NaN");
    }
}
