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

/** Flatten and ActivationLayer: layers without weights that only reshape or map elements. */
class SimpleLayersTest {
    private final Random rnd = GradCheck.random();

    @Test
    void flattenKeepsRowMajorOrderPerExample() {
        Tensor x = Tensor.randn(rnd, 2, 3, 4, 2);
        Tensor y = forwardWithDeclaredShape(new Flatten(), x);
        assertThat(y.shape()).isEqualTo(Shape.of(2, 24));
        assertThat(y.toFloatArray()).containsExactly(x.toFloatArray());
        assertThat(new Flatten().outputShape(Shape.of())).isEqualTo(Shape.of(1));
    }

    @Test
    void activationLayerAppliesItsFunction() {
        Tensor x = Tensor.randn(rnd, 3, 4);
        for (Activation a : Activation.values()) {
            Tensor y = forwardWithDeclaredShape(new ActivationLayer(a), x);
            assertClose(y, a.apply(x).toFloatArray(), 0);
        }
        assertThatThrownBy(() -> new ActivationLayer(null)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ActivationLayer");
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        LayerGradCheck.inputAndParameters(new Flatten(), Tensor.randn(rnd, 2, 2, 3));
        LayerGradCheck.inputAndParameters(new ActivationLayer(Activation.SOFTMAX), Tensor.randn(rnd, 2, 4));
        LayerGradCheck.inputAndParameters(new ActivationLayer(Activation.GELU), Tensor.randn(rnd, 2, 4));
        LayerGradCheck.inputAndParameters(new ActivationLayer(Activation.GELU_TANH), Tensor.randn(rnd, 2, 4));
    }
}
