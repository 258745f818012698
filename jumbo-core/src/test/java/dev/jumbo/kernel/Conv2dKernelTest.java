package dev.jumbo.kernel;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link Conv2dKernel} against the plain loops in {@link Reference} on fresh random data. The
 * geometries cover 'valid' and 'same' padding, strides 1 and 2, 1x1 (the patch-free path) and
 * strided 1x1, odd channel counts, a window lying wholly in the padding, and sizes whose patch
 * matrix needs several chunks (whole-image chunks and chunks inside one image). Short patches
 * (the direct path) come with output channel counts around the vector width, odd batches and
 * odd output widths. The forward pass and filter gradient are checked through the public entry
 * points and through both of their paths ({@link Conv2dDirect} and the patch matrix) on every
 * geometry, so both stay covered whichever one the dispatch picks.
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
        // Short patches: the first layer of the Fashion-MNIST CNN, and the same filter on other shapes.
        gs.add(ConvGeometry.of(64, 28, 28, 1, 3, 3, 1, 1, false, 32));
        gs.add(ConvGeometry.of(3, 12, 12, 1, 5, 5, 1, 1, false, 32));
        gs.add(ConvGeometry.of(2, 9, 9, 1, 3, 3, 1, 1, false, 1));
        gs.add(ConvGeometry.of(3, 7, 7, 1, 3, 3, 1, 1, true, 7));
        gs.add(ConvGeometry.of(1, 10, 35, 1, 3, 3, 1, 1, false, 33));
        gs.add(ConvGeometry.of(2, 11, 11, 1, 3, 3, 2, 2, true, 32));
        gs.add(ConvGeometry.of(1, 28, 28, 1, 5, 5, 2, 2, false, 16));
        gs.add(ConvGeometry.of(3, 3, 3, 1, 3, 3, 1, 1, false, 32));
        gs.add(ConvGeometry.of(1, 6, 33, 1, 5, 5, 1, 1, true, 32));
        gs.add(ConvGeometry.of(2, 8, 8, 1, 2, 2, 1, 1, false, 32));
        gs.add(ConvGeometry.of(2, 9, 9, 2, 3, 3, 1, 1, true, 17));
        gs.add(ConvGeometry.of(1, 2, 2, 1, 5, 5, 1, 1, true, 8));
        // Padded images larger than half of Conv2dDirect's padding budget: one image per chunk.
        gs.add(ConvGeometry.of(3, 130, 130, 32, 3, 3, 1, 1, true, 2));
        return gs;
    }

    /** A forward pass with {@link Conv2dKernel#forward}'s signature. */
    private interface Forward {
        void run(ConvGeometry g, float[] x, float[] w, float[] bias, float[] y);
    }

    /** A filter gradient with {@link Conv2dKernel#backwardFilter}'s signature. */
    private interface FilterGradient {
        void run(ConvGeometry g, float[] x, float[] dy, float[] dw, float[] dbias);
    }

    @Test
    void forwardMatchesReference() {
        checkForward(Conv2dKernel::forward, "forward");
    }

    @Test
    void directForwardMatchesReference() {
        checkForward(Conv2dDirect::forward, "direct forward");
    }

    @Test
    void forwardByPatchesMatchesReference() {
        checkForward(Conv2dKernel::forwardByPatches, "forward by patches");
    }

    private static void checkForward(Forward forward, String what) {
        for (ConvGeometry g : geometries())
            for (boolean withBias : new boolean[] {true, false}) {
                Fixture f = new Fixture();
                float[] x = f.floats(inputSize(g)), w = f.floats(filterSize(g));
                float[] bias = withBias ? f.floats(g.outC()) : null;
                float[] y = f.nans(outputSize(g)), expected = y.clone();
                Reference.convForward(g, x, w, bias, expected);
                forward.run(g, x, w, bias, y);
                f.assertClose(expected, y, tolerance(g), what + " " + g + (withBias ? " with bias" : ""));
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
        checkFilterGradient(Conv2dKernel::backwardFilter, "backwardFilter");
    }

    @Test
    void directBackwardFilterMatchesReference() {
        checkFilterGradient(Conv2dDirect::backwardFilter, "direct backwardFilter");
    }

    @Test
    void backwardFilterByPatchesMatchesReference() {
        checkFilterGradient(Conv2dKernel::backwardFilterByPatches, "backwardFilter by patches");
    }

    private static void checkFilterGradient(FilterGradient gradient, String what) {
        for (ConvGeometry g : geometries())
            for (boolean withBias : new boolean[] {true, false}) {
                Fixture f = new Fixture();
                float[] x = f.floats(inputSize(g)), dy = f.floats(outputSize(g));
                float[] dw = f.nans(filterSize(g)), expectedDw = dw.clone();
                float[] dbias = withBias ? f.nans(g.outC()) : null, expectedDbias = withBias ? dbias.clone() : null;
                Reference.convBackwardFilter(g, x, dy, expectedDw, expectedDbias);
                gradient.run(g, x, dy, dw, dbias);
                // dW sums over every output pixel, not over K.
                double tol = 2e-5 * Math.sqrt(g.n() * g.outH() * g.outW() + 1);
                f.assertClose(expectedDw, dw, tol, what + " dw " + g);
                if (withBias) f.assertClose(expectedDbias, dbias, tol, what + " dbias " + g);
            }
    }

    @Test
    void emptyBatchZeroesTheFilterGradient() {
        for (FilterGradient gradient : List.<FilterGradient>of(Conv2dKernel::backwardFilter, Conv2dDirect::backwardFilter,
                Conv2dKernel::backwardFilterByPatches)) {
            ConvGeometry g = ConvGeometry.of(0, 4, 4, 2, 3, 3, 1, 1, true, 3);
            Fixture f = new Fixture();
            float[] dw = f.nans(filterSize(g)), dbias = f.nans(3);
            gradient.run(g, new float[0], new float[0], dw, dbias);
            f.assertClose(new float[filterSize(g)], dw, 0, "dw of an empty batch");
            f.assertClose(new float[3], dbias, 0, "dbias of an empty batch");
        }
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
