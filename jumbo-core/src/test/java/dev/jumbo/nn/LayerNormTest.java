package dev.jumbo.nn;

import static dev.jumbo.nn.LayerGradCheck.assertClose;
import static dev.jumbo.nn.LayerGradCheck.forwardWithDeclaredShape;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.testing.GradCheck;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LayerNormTest {
    private final Random rnd = GradCheck.random();

    @Test
    void normalisesEachPositionOverTheLastAxisThenScalesAndShifts() {
        LayerNorm ln = new LayerNorm(1e-5);
        ln.build(Shape.of(3, 4));
        float[] gamma = Tensor.randn(rnd, 4).toFloatArray(), beta = Tensor.randn(rnd, 4).toFloatArray();
        System.arraycopy(gamma, 0, ln.stateDict().get("gamma").buffer(), 0, 4);
        System.arraycopy(beta, 0, ln.stateDict().get("beta").buffer(), 0, 4);
        Tensor x = Tensor.randn(rnd, 2, 3, 4);
        Tensor y = forwardWithDeclaredShape(ln, x);
        float[] d = x.toFloatArray(), expected = new float[d.length];
        for (int r = 0; r < 6; r++) {
            double mean = 0, var = 0;
            for (int j = 0; j < 4; j++) mean += d[r * 4 + j] / 4.0;
            for (int j = 0; j < 4; j++) var += Math.pow(d[r * 4 + j] - mean, 2) / 4;
            for (int j = 0; j < 4; j++) expected[r * 4 + j] = (float) (gamma[j] * (d[r * 4 + j] - mean) / Math.sqrt(var + 1e-5) + beta[j]);
        }
        assertClose(y, expected, 1e-4);
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        LayerGradCheck.inputAndParameters(new LayerNorm(), Tensor.randn(rnd, 2, 5));
        LayerGradCheck.inputAndParameters(new LayerNorm(), Tensor.randn(rnd, 2, 2, 3));
    }

    @Test
    void validatesArgumentsAndInputs() {
        assertThatThrownBy(() -> new LayerNorm(-1)).hasMessage("LayerNorm epsilon must be positive, got -1.0");
        LayerNorm ln = new LayerNorm();
        ln.build(Shape.of(4));
        assertThatThrownBy(() -> ln.build(Shape.of(5))).hasMessageContaining("layer_norm").hasMessageContaining("[5]");
    }
}
