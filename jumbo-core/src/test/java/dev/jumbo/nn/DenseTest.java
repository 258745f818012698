package dev.jumbo.nn;

import static dev.jumbo.nn.LayerGradCheck.assertClose;
import static dev.jumbo.nn.LayerGradCheck.forwardWithDeclaredShape;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.testing.GradCheck;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DenseTest {
    private final Random rnd = GradCheck.random();

    @Test
    void computesAffineMapThenActivationOnTheLastAxis() {
        Dense dense = new Dense(3, Activation.TANH);
        Tensor x = Tensor.randn(rnd, 2, 4, 5);
        dense.build(Shape.of(4, 5));
        dense.bias().value().buffer()[1] = 0.5f; // a non-zero bias, so its wiring is checked too
        Tensor y = forwardWithDeclaredShape(dense, x);
        float[] w = dense.kernel().value().toFloatArray(), b = dense.bias().value().toFloatArray(), xd = x.toFloatArray();
        float[] expected = new float[2 * 4 * 3];
        for (int r = 0; r < 8; r++)
            for (int u = 0; u < 3; u++) {
                double s = b[u];
                for (int k = 0; k < 5; k++) s += xd[r * 5 + k] * w[k * 3 + u];
                expected[r * 3 + u] = (float) Math.tanh(s);
            }
        assertClose(y, expected, 1e-5);
    }

    @Test
    void buildsGlorotUniformKernelAndZeroBias() {
        Dense dense = new Dense(6);
        dense.build(Shape.of(10));
        double limit = Math.sqrt(6.0 / (10 + 6));
        assertThat(dense.kernel().value().shape()).isEqualTo(Shape.of(10, 6));
        for (float v : dense.kernel().value().toFloatArray()) assertThat(Math.abs(v)).isLessThanOrEqualTo((float) limit);
        assertThat(dense.bias().value().toFloatArray()).containsOnly(0f);
        assertThat(dense.parameters()).extracting(Parameter::name).containsExactly("kernel", "bias");
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        LayerGradCheck.inputAndParameters(new Dense(3, Activation.SIGMOID), Tensor.randn(rnd, 2, 4));
        LayerGradCheck.inputAndParameters(new Dense(2), Tensor.randn(rnd, 2, 3, 4));
    }

    @Test
    void flopsAreTwoPerMultiplyAdd() {
        assertThat(new Dense(4).flops(Shape.of(5))).isEqualTo(2L * 5 * 4);
        assertThat(new Dense(4).flops(Shape.of(3, 5))).isEqualTo(2L * 3 * 5 * 4);
    }

    @Test
    void rejectsNonPositiveUnits() {
        assertThatThrownBy(() -> new Dense(0)).isInstanceOf(IllegalArgumentException.class).hasMessage("Dense units must be positive, got 0");
        assertThatThrownBy(() -> new Dense(-3, Activation.RELU)).hasMessageContaining("got -3");
        assertThatThrownBy(() -> new Dense(3, null)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("activation");
    }

    @Test
    void rejectsInputOfAnotherWidthOnceBuilt() {
        Dense dense = new Dense(2);
        dense.forward(Tensor.zeros(1, 4));
        assertThatThrownBy(() -> dense.forward(Tensor.zeros(1, 5)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("dense").hasMessageContaining("[5]").hasMessageContaining("last dimension 4");
        assertThatThrownBy(() -> new Dense(2).build(Shape.of()))
                .hasMessageContaining("dense expects rank >= 1").hasMessageContaining("[]");
    }
}
