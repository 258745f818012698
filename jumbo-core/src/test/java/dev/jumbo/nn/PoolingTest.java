package dev.jumbo.nn;

import static dev.jumbo.nn.LayerGradCheck.assertClose;
import static dev.jumbo.nn.LayerGradCheck.forwardWithDeclaredShape;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.testing.GradCheck;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** MaxPool2D, AvgPool2D and GlobalAveragePooling2D. */
class PoolingTest {
    private final Random rnd = GradCheck.random();

    /**
     * Random values at least 0.1 apart, so no two elements of a window are within the gradient
     * check's step of each other (max pooling is not differentiable at ties).
     */
    private Tensor separated(int... dims) {
        int n = Shape.of(dims).size();
        List<Float> v = new ArrayList<>();
        for (int i = 0; i < n; i++) v.add(i * 0.1f - n * 0.05f + rnd.nextFloat() * 0.02f);
        Collections.shuffle(v, rnd);
        float[] d = new float[n];
        for (int i = 0; i < n; i++) d[i] = v.get(i);
        return Tensor.of(d, dims);
    }

    @Test
    void maxPoolTakesTheLargestOfEachWindow() {
        Tensor x = Tensor.randn(rnd, 2, 4, 6, 3);
        Tensor y = forwardWithDeclaredShape(new MaxPool2D(2), x);
        float[] expected = new float[y.size()];
        int at = 0;
        for (int n = 0; n < 2; n++)
            for (int oh = 0; oh < 2; oh++)
                for (int ow = 0; ow < 3; ow++)
                    for (int c = 0; c < 3; c++) {
                        float m = Float.NEGATIVE_INFINITY;
                        for (int i = 0; i < 2; i++)
                            for (int j = 0; j < 2; j++) m = Math.max(m, x.get(n, oh * 2 + i, ow * 2 + j, c));
                        expected[at++] = m;
                    }
        assertClose(y, expected, 0);
    }

    @Test
    void avgPoolWithSamePaddingDoesNotCountPaddedPositions() {
        Tensor x = Tensor.randn(rnd, 1, 3, 3, 1);
        Tensor y = forwardWithDeclaredShape(new AvgPool2D(2, 2, 2, 2, "same"), x);
        assertThat(y.shape()).isEqualTo(Shape.of(1, 2, 2, 1));
        float tl = (x.get(0, 0, 0, 0) + x.get(0, 0, 1, 0) + x.get(0, 1, 0, 0) + x.get(0, 1, 1, 0)) / 4;
        assertThat(y.get(0, 0, 0, 0)).isCloseTo(tl, within(1e-6f));
        assertThat(y.get(0, 1, 1, 0)).isEqualTo(x.get(0, 2, 2, 0)); // a window holding one real pixel
        assertThat(y.get(0, 0, 1, 0)).isCloseTo((x.get(0, 0, 2, 0) + x.get(0, 1, 2, 0)) / 2, within(1e-6f));
    }

    @Test
    void globalAveragePoolingAveragesEachChannelOverThePlane() {
        Tensor x = Tensor.randn(rnd, 2, 3, 4, 5);
        Tensor y = forwardWithDeclaredShape(new GlobalAveragePooling2D(), x);
        float[] expected = new float[2 * 5];
        for (int n = 0; n < 2; n++)
            for (int c = 0; c < 5; c++) {
                double s = 0;
                for (int h = 0; h < 3; h++)
                    for (int w = 0; w < 4; w++) s += x.get(n, h, w, c);
                expected[n * 5 + c] = (float) (s / 12);
            }
        assertClose(y, expected, 1e-5);
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        LayerGradCheck.inputAndParameters(new MaxPool2D(2), separated(2, 4, 4, 2));
        LayerGradCheck.inputAndParameters(new MaxPool2D(3, 2, 2, 1, "same"), separated(1, 5, 3, 2));
        LayerGradCheck.inputAndParameters(new AvgPool2D(2), Tensor.randn(rnd, 2, 4, 5, 2));
        LayerGradCheck.inputAndParameters(new AvgPool2D(3, 3, 2, 2, "same"), Tensor.randn(rnd, 1, 4, 5, 2));
        LayerGradCheck.inputAndParameters(new GlobalAveragePooling2D(), Tensor.randn(rnd, 2, 3, 2, 3));
    }

    @Test
    void outputShapesFollowKerasRules() {
        assertThat(new MaxPool2D(2).outputShape(Shape.of(7, 7, 3))).isEqualTo(Shape.of(3, 3, 3));
        assertThat(new MaxPool2D(2, 2, 2, 2, "same").outputShape(Shape.of(7, 7, 3))).isEqualTo(Shape.of(4, 4, 3));
        assertThat(new AvgPool2D(3, 1, 1, 1, "valid").outputShape(Shape.of(5, 4, 2))).isEqualTo(Shape.of(3, 4, 2));
        assertThat(new GlobalAveragePooling2D().outputShape(Shape.of(5, 4, 2))).isEqualTo(Shape.of(2));
    }

    @Test
    void validatesArgumentsAndInputs() {
        assertThatThrownBy(() -> new MaxPool2D(0)).hasMessage("MaxPool2D pool height must be positive, got 0");
        assertThatThrownBy(() -> new AvgPool2D(2, 2, 2, -1, "valid")).hasMessage("AvgPool2D stride width must be positive, got -1");
        assertThatThrownBy(() -> new AvgPool2D(2, 2, 2, 2, "causal")).hasMessageContaining("'causal'");
        assertThatThrownBy(() -> new MaxPool2D(3).build(Shape.of(2, 2, 1))).hasMessageContaining("max_pool2d").hasMessageContaining("[2, 2, 1]");
        assertThatThrownBy(() -> new GlobalAveragePooling2D().build(Shape.of(4, 4))).hasMessageContaining("global_average_pooling2d").hasMessageContaining("[4, 4]");
    }
}
