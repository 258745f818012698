package dev.jumbo.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.jumbo.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Clipping by global norm and by value, alone and inside an optimizer step. */
class GradClipTest {
    private static Tensor withGrad(float[] values, float[] grad) {
        Tensor p = Tensor.of(values, values.length).requiresGrad(true);
        p.addToGrad(Tensor.of(grad, grad.length));
        return p;
    }

    @Test
    void globalNormScalesAllGradientsTogether() {
        Tensor a = withGrad(new float[2], new float[] {3, 0}), b = withGrad(new float[1], new float[] {4});
        Tensor noGrad = Tensor.zeros(2).requiresGrad(true);
        double norm = GradClip.byGlobalNorm(List.of(a, b, noGrad), 1.0);
        assertThat(norm).isCloseTo(5.0, within(1e-9));
        assertThat(a.grad().toFloatArray()).containsExactly(new float[] {0.6f, 0}, within(1e-6f));
        assertThat(b.grad().toFloatArray()).containsExactly(new float[] {0.8f}, within(1e-6f));
        assertThat(GradClip.byGlobalNorm(List.of(a, b), 1.0)).isCloseTo(1.0, within(1e-6));
    }

    @Test
    void gradientsWithinTheNormAreUntouched() {
        Tensor a = withGrad(new float[2], new float[] {0.3f, -0.4f});
        assertThat(GradClip.byGlobalNorm(List.of(a), 1.0)).isCloseTo(0.5, within(1e-7));
        assertThat(a.grad().toFloatArray()).containsExactly(0.3f, -0.4f);
    }

    @Test
    void aNonFiniteNormIsReportedAndNothingIsScaled() {
        Tensor a = withGrad(new float[2], new float[] {Float.POSITIVE_INFINITY, 1});
        assertThat(GradClip.byGlobalNorm(List.of(a), 1.0)).isInfinite();
        assertThat(a.grad().toFloatArray()).containsExactly(Float.POSITIVE_INFINITY, 1f);
    }

    @Test
    void byValueClampsEachElement() {
        Tensor a = withGrad(new float[4], new float[] {-3, 0.2f, 0.5f, 7});
        GradClip.byValue(List.of(a), 0.5);
        assertThat(a.grad().toFloatArray()).containsExactly(-0.5f, 0.2f, 0.5f, 0.5f);
        assertThatThrownBy(() -> GradClip.byValue(List.of(a), -1)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("-1");
    }

    @Test
    void optimizersClipBeforeUpdating() {
        Tensor a = withGrad(new float[] {0, 0}, new float[] {3, 4});
        new SGD(1.0).clipNorm(1.0).bind(List.of(a)).step();
        assertThat(a.toFloatArray()).containsExactly(new float[] {-0.6f, -0.8f}, within(1e-6f));

        Tensor b = withGrad(new float[] {0, 0}, new float[] {3, -0.1f});
        new SGD(1.0).clipValue(0.5).bind(List.of(b)).step();
        assertThat(b.toFloatArray()).containsExactly(new float[] {-0.5f, 0.1f}, within(1e-7f));
    }
}
