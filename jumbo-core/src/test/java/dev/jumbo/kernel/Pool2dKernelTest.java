package dev.jumbo.kernel;

import static dev.jumbo.kernel.Conv2dKernelTest.inputSize;
import static dev.jumbo.kernel.Conv2dKernelTest.outputSize;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link Pool2dKernel} against the plain loops in {@link Reference}. The fast kernels combine
 * the same values in the same order, so results must match exactly, winners' indices included.
 */
class Pool2dKernelTest {

    static List<ConvGeometry> geometries() {
        List<ConvGeometry> gs = new ArrayList<>();
        gs.add(pool(1, 1, 1, 1, 1, 1, false));
        gs.add(pool(2, 4, 4, 3, 2, 2, false));
        gs.add(pool(2, 5, 7, 17, 3, 2, true));
        gs.add(pool(3, 6, 6, 16, 3, 1, true));
        gs.add(ConvGeometry.of(2, 9, 9, 33, 2, 3, 3, 2, true, 33));
        gs.add(pool(1, 8, 8, 1, 2, 2, true));
        gs.add(pool(8, 32, 32, 64, 3, 2, true)); // large enough to split over threads
        // Padding given directly: the bottom rows' windows lie entirely in the padding.
        gs.add(new ConvGeometry(2, 3, 4, 5, 2, 2, 1, 1, 1, 1, 5, 4, 5));
        return gs;
    }

    private static ConvGeometry pool(int n, int h, int w, int c, int k, int stride, boolean same) {
        return ConvGeometry.of(n, h, w, c, k, k, stride, stride, same, c);
    }

    /** Small integers so windows often tie (the first winner must be kept), plus a few NaNs. */
    private static float[] input(Fixture f, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = f.random.nextInt(4) - 2;
        for (int i = 0; i < n / 50; i++) x[f.random.nextInt(n)] = Float.NaN;
        return x;
    }

    @Test
    void maxForwardMatchesReferenceIncludingTiesAndNans() {
        for (ConvGeometry g : geometries()) {
            Fixture f = new Fixture();
            float[] x = input(f, inputSize(g));
            float[] y = f.floats(outputSize(g)), expected = y.clone();
            int[] at = new int[outputSize(g)], expectedAt = new int[outputSize(g)];
            Reference.maxPoolForward(g, x, expected, expectedAt);
            Pool2dKernel.maxForward(g, x, y, at);
            f.assertClose(expected, y, 0, "maxForward " + g);
            f.assertEqual(expectedAt, at, "maxForward argmax " + g);
        }
    }

    @Test
    void maxBackwardMatchesReference() {
        for (ConvGeometry g : geometries()) {
            Fixture f = new Fixture();
            float[] x = input(f, inputSize(g)), y = new float[outputSize(g)];
            int[] at = new int[outputSize(g)];
            Reference.maxPoolForward(g, x, y, at);
            if (java.util.Arrays.stream(at).anyMatch(i -> i < 0)) continue; // an empty window has no winner to credit
            float[] dy = f.floats(outputSize(g)), dx = f.nans(inputSize(g)), expected = dx.clone();
            Reference.maxPoolBackward(g, dy, at, expected);
            Pool2dKernel.maxBackward(g, dy, at, dx);
            f.assertClose(expected, dx, 0, "maxBackward " + g);
        }
    }

    @Test
    void avgForwardMatchesReference() {
        for (ConvGeometry g : geometries()) {
            Fixture f = new Fixture();
            float[] x = f.floats(inputSize(g)), y = f.floats(outputSize(g)), expected = y.clone();
            Reference.avgPoolForward(g, x, expected);
            Pool2dKernel.avgForward(g, x, y);
            f.assertClose(expected, y, 0, "avgForward " + g);
        }
    }

    @Test
    void avgBackwardMatchesReference() {
        for (ConvGeometry g : geometries()) {
            Fixture f = new Fixture();
            float[] dy = f.floats(outputSize(g)), dx = f.nans(inputSize(g)), expected = dx.clone();
            Reference.avgPoolBackward(g, dy, expected);
            Pool2dKernel.avgBackward(g, dy, dx);
            f.assertClose(expected, dx, 0, "avgBackward " + g);
        }
    }

    @Test
    void maxBackwardRejectsAWinnerOutsideItsImage() {
        ConvGeometry g = pool(2, 2, 2, 1, 2, 2, false);
        int[] at = {0, 0}; // the second image's winner points into the first image
        assertThatThrownBy(() -> Pool2dKernel.maxBackward(g, new float[2], at, new float[8]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("outside image 1");
    }
}
