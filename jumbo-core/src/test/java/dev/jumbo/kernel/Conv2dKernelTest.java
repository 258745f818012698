package dev.jumbo.kernel;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link Conv2dKernel} against the plain loops in {@link Reference} on fresh random data. The
 * geometries cover 'valid' and 'same' padding, strides 1 and 2, 1x1 (the patch-free path) and
 * strided 1x1, odd channel counts, a window lying wholly in the padding, and sizes whose patch
 * matrix needs several chunks (whole-image chunks and chunks inside one image).
 */
class Conv2dKernelTest {

    static List<ConvGeometry> geometries() {
        List<ConvGeometry> gs = new ArrayList<>();
        gs.add(ConvGeometry.of(1, 1, 1, 1, 1, 1, 1, 1, false, 1));
        gs.add(ConvGeometry.of(2, 7, 5, 3, 3, 3, 1, 1, true, 4));
        gs.add(ConvGeometry.of(2, 7, 7, 3, 3, 3, 2, 2, true, 5));
        gs.add(ConvGeometry.of(3, 8, 9, 2, 2, 3, 2, 1, false, 7));
        gs.add(ConvGeometry.of(2, 5, 5, 17, 1, 1, 1, 1, false, 33));
        gs.add(ConvGeometry.of(2, 6, 6, 4, 1, 1, 2, 2, true, 3));
        gs.add(ConvGeometry.of(2, 9, 9, 5, 5, 5, 1, 1, true, 6));
        gs.add(ConvGeometry.of(1, 33, 33, 3, 3, 3, 1, 1, true, 16));
        // Padding given directly: the bottom rows' windows lie entirely in the padding.
        gs.add(new ConvGeometry(2, 3, 4, 2, 2, 2, 1, 1, 1, 1, 5, 4, 3));
        // Patch matrix larger than the chunk budget: 3-image chunks plus a 1-image tail ...
        gs.add(ConvGeometry.of(4, 32, 32, 32, 3, 3, 1, 1, true, 8));
        // ... and one image larger than a chunk.
        gs.add(ConvGeometry.of(1, 64, 64, 32, 3, 3, 1, 1, true, 4));
        return gs;
    }

    @Test
    void forwardMatchesReference() {
        for (ConvGeometry g : geometries())
            for (boolean withBias : new boolean[] {true, false}) {
                Fixture f = new Fixture();
                float[] x = f.floats(inputSize(g)), w = f.floats(filterSize(g));
                float[] bias = withBias ? f.floats(g.outC()) : null;
                float[] y = f.nans(outputSize(g)), expected = y.clone();
                Reference.convForward(g, x, w, bias, expected);
                Conv2dKernel.forward(g, x, w, bias, y);
                f.assertClose(expected, y, tolerance(g), "forward " + g + (withBias ? " with bias" : ""));
            }
    }

    @Test
    void backwardInputMatchesReference() {
        for (ConvGeometry g : geometries()) {
            Fixture f = new Fixture();
            float[] dy = f.floats(outputSize(g)), w = f.floats(filterSize(g));
            float[] dx = f.nans(inputSize(g)), expected = dx.clone();
            Reference.convBackwardInput(g, dy, w, expected);
            Conv2dKernel.backwardInput(g, dy, w, dx);
            f.assertClose(expected, dx, tolerance(g), "backwardInput " + g);
        }
    }

    @Test
    void backwardFilterMatchesReference() {
        for (ConvGeometry g : geometries())
            for (boolean withBias : new boolean[] {true, false}) {
                Fixture f = new Fixture();
                float[] x = f.floats(inputSize(g)), dy = f.floats(outputSize(g));
                float[] dw = f.nans(filterSize(g)), expectedDw = dw.clone();
                float[] dbias = withBias ? f.nans(g.outC()) : null, expectedDbias = withBias ? dbias.clone() : null;
                Reference.convBackwardFilter(g, x, dy, expectedDw, expectedDbias);
                Conv2dKernel.backwardFilter(g, x, dy, dw, dbias);
                // dW sums over every output pixel, not over K.
                double tol = 2e-5 * Math.sqrt(g.n() * g.outH() * g.outW() + 1);
                f.assertClose(expectedDw, dw, tol, "backwardFilter dw " + g);
                if (withBias) f.assertClose(expectedDbias, dbias, tol, "backwardFilter dbias " + g);
            }
    }

    @Test
    void emptyBatchZeroesTheFilterGradient() {
        ConvGeometry g = ConvGeometry.of(0, 4, 4, 2, 3, 3, 1, 1, true, 3);
        Fixture f = new Fixture();
        float[] dw = f.nans(filterSize(g)), dbias = f.nans(3);
        Conv2dKernel.backwardFilter(g, new float[0], new float[0], dw, dbias);
        f.assertClose(new float[filterSize(g)], dw, 0, "dw of an empty batch");
        f.assertClose(new float[3], dbias, 0, "dbias of an empty batch");
    }

    @Test
    void rejectsArraysTooShortForTheGeometry() {
        ConvGeometry g = ConvGeometry.of(2, 4, 4, 2, 3, 3, 1, 1, true, 3);
        float[] x = new float[inputSize(g)], w = new float[filterSize(g)], y = new float[outputSize(g)];
        assertThatThrownBy(() -> Conv2dKernel.forward(g, new float[5], w, null, y))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("x holds 5");
        assertThatThrownBy(() -> Conv2dKernel.forward(g, x, w, new float[2], y))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bias");
        assertThatThrownBy(() -> Conv2dKernel.backwardInput(g, y, w, new float[3]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("dx");
    }

    private static double tolerance(ConvGeometry g) {
        return 2e-5 * Math.sqrt(g.kh() * g.kw() * Math.max(g.c(), g.outC()) + 1);
    }

    static int inputSize(ConvGeometry g) {
        return g.n() * g.h() * g.w() * g.c();
    }

    static int outputSize(ConvGeometry g) {
        return g.n() * g.outH() * g.outW() * g.outC();
    }

    private static int filterSize(ConvGeometry g) {
        return g.kh() * g.kw() * g.c() * g.outC();
    }
}
