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

class Conv2DTest {
    private final Random rnd = GradCheck.random();

    @Test
    void matchesNaiveConvolutionWithSamePaddingAndStride() {
        Conv2D conv = new Conv2D(3, 3, 2, 2, 1, "same", Activation.LINEAR);
        Tensor x = Tensor.randn(rnd, 2, 5, 4, 2);
        conv.build(Shape.of(5, 4, 2));
        conv.bias().set(Tensor.randn(rnd, 3));
        Tensor y = forwardWithDeclaredShape(conv, x);
        assertThat(y.shape()).isEqualTo(Shape.of(2, 3, 4, 3)); // ceil(5/2) x ceil(4/1)
        Tensor k = conv.kernel().value(), b = conv.bias().value();
        // 'same': total padding (out-1)*stride + k - in, the smaller half at the top/left
        int padTop = Math.max(0, (3 - 1) * 2 + 3 - 5) / 2, padLeft = Math.max(0, (4 - 1) + 2 - 4) / 2;
        float[] expected = new float[y.size()];
        int at = 0;
        for (int n = 0; n < 2; n++)
            for (int oh = 0; oh < 3; oh++)
                for (int ow = 0; ow < 4; ow++)
                    for (int f = 0; f < 3; f++) {
                        double s = b.get(f);
                        for (int i = 0; i < 3; i++)
                            for (int j = 0; j < 2; j++)
                                for (int c = 0; c < 2; c++) {
                                    int h = oh * 2 + i - padTop, w = ow + j - padLeft;
                                    if (h >= 0 && h < 5 && w >= 0 && w < 4) s += x.get(n, h, w, c) * k.get(i, j, c, f);
                                }
                        expected[at++] = (float) s;
                    }
        assertClose(y, expected, 1e-5);
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        LayerGradCheck.inputAndParameters(new Conv2D(2, 2, Activation.TANH), Tensor.randn(rnd, 2, 3, 4, 2));
        LayerGradCheck.inputAndParameters(new Conv2D(2, 3, 2, 2, 2, "same", Activation.LINEAR), Tensor.randn(rnd, 1, 4, 3, 2));
    }

    @Test
    void flopsCountEveryMultiplyAddOfTheOutput() {
        Conv2D conv = new Conv2D(8, 3, 3, 2, 2, "same", Activation.RELU);
        // output 4x4x8, each a 3x3x5 dot product
        assertThat(conv.flops(Shape.of(7, 7, 5))).isEqualTo(2L * 4 * 4 * 8 * 3 * 3 * 5);
        assertThat(new Conv2D(2, 3, Activation.LINEAR).flops(Shape.of(5, 6, 1))).isEqualTo(2L * 3 * 4 * 2 * 3 * 3 * 1);
    }

    @Test
    void kernelIsGlorotUniformOverReceptiveFields() {
        Conv2D conv = new Conv2D(4, 3, Activation.LINEAR);
        conv.build(Shape.of(5, 5, 2));
        double limit = Math.sqrt(6.0 / (3 * 3 * 2 + 3 * 3 * 4));
        assertThat(conv.kernel().value().shape()).isEqualTo(Shape.of(3, 3, 2, 4));
        for (float v : conv.kernel().value().toFloatArray()) assertThat(Math.abs(v)).isLessThanOrEqualTo((float) limit);
    }

    @Test
    void validatesArgumentsAndInputs() {
        assertThatThrownBy(() -> new Conv2D(0, 3, Activation.RELU)).hasMessage("Conv2D filters must be positive, got 0");
        assertThatThrownBy(() -> new Conv2D(4, 3, 3, 0, 1, "same", Activation.RELU)).hasMessage("Conv2D stride height must be positive, got 0");
        assertThatThrownBy(() -> new Conv2D(4, 3, 3, 1, 1, "full", Activation.RELU))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'full'");
        assertThatThrownBy(() -> new Conv2D(4, 3, Activation.RELU).build(Shape.of(5, 5)))
                .hasMessageContaining("conv2d").hasMessageContaining("[5, 5]");
        assertThatThrownBy(() -> new Conv2D(4, 3, Activation.RELU).build(Shape.of(2, 5, 1)))
                .hasMessageContaining("conv2d").hasMessageContaining("[2, 5, 1]").hasMessageContaining("valid");
    }
}
