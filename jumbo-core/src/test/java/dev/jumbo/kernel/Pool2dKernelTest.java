package dev.jumbo.kernel;

import static dev.jumbo.kernel.Conv2dKernelTest.inputSize;
import static dev.jumbo.kernel.Conv2dKernelTest.outputSize;
import static org.assertj.core.api.Assertions.assertThat;
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
        // 2x2 windows, stride 2 (whole windows unrolled for whole vectors of channels): channel
        // counts below, at and around the vector width, odd sizes whose last row and column no
        // window covers ('valid') or whose last windows are cut by the padding ('same').
        for (int c : new int[] {1, 7, 16, 17, 32, 33, 64})
            for (boolean same : new boolean[] {false, true}) {
                gs.add(pool(2, 6, 6, c, 2, 2, same));
                gs.add(pool(1, 7, 33, c, 2, 2, same));
            }
        gs.add(pool(16, 26, 26, 32, 2, 2, false)); // Fashion-MNIST's first pool, split over threads
        gs.add(pool(4, 11, 11, 64, 2, 2, false));  // and its second: the last row and column are dropped
        // Widths of 1, 7 and 33 with pools 2 and 3 at stride 2, 'same' and 'valid'.
        for (int w : new int[] {1, 7, 33})
            for (int k : new int[] {2, 3})
                for (boolean same : new boolean[] {false, true})
                    if (same || k <= w) gs.add(ConvGeometry.of(2, 5, w, 17, Math.min(k, 5), k, 2, 2, same, 17));
        // Overlapping windows (pool 3 stride 2, pool 2 stride 1) and gaps between windows (pool 2 stride 3).
        gs.add(pool(1, 9, 9, 33, 3, 2, false));
        gs.add(pool(2, 8, 7, 32, 2, 1, false));
        gs.add(pool(2, 8, 8, 17, 2, 3, false));
        gs.add(pool(2, 8, 8, 17, 2, 3, true));
        // Non-overlapping windows with the first row and column of windows entirely in the padding.
        gs.add(new ConvGeometry(2, 3, 4, 5, 2, 2, 2, 2, 2, 2, 3, 3, 5));
        gs.add(new ConvGeometry(1, 5, 5, 16, 2, 2, 2, 2, 2, 2, 3, 3, 16));
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
            float[] dy = f.floats(outputSize(g)), dx = f.nans(inputSize(g)), expected = dx.clone();
            for (int i = 0; i < dy.length; i += 5) dy[i] = -0f; // the plain loop's 0 + (-0) is +0
            Reference.maxPoolBackward(g, dy, at, expected);
            Pool2dKernel.maxBackward(g, dy, at, dx);
            f.assertClose(expected, dx, 0, "maxBackward " + g);
            assertThat(dx).as("maxBackward %s, signs of zeros included (seed %d)", g, f.seed).isEqualTo(expected);
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
    void maxBackwardRejectsAWinnerOutsideItsWindow() {
        ConvGeometry g = pool(2, 2, 2, 1, 2, 2, false);
        int[] at = {0, 0}; // the second image's winner points into the first image
        assertThatThrownBy(() -> Pool2dKernel.maxBackward(g, new float[2], at, new float[8]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("argmax[1] = 0 is not a position of its window");
        // Unrolled 2x2 windows, generic windows (the last channels) and overlapping windows alike,
        // for a winner inside its own image but outside its window.
        for (ConvGeometry h : List.of(pool(2, 4, 4, 17, 2, 2, false), pool(2, 5, 5, 3, 3, 2, false))) {
            Fixture f = new Fixture();
            int[] winners = new int[outputSize(h)];
            Reference.maxPoolForward(h, f.floats(inputSize(h)), new float[outputSize(h)], winners);
            for (int o : new int[] {outputSize(h) - 1, outputSize(h) - h.c()}) {
                int[] bad = winners.clone();
                bad[o] = inputSize(h) / 2; // image 1's first position: in no window of image 1 but the first
                assertThatThrownBy(() -> Pool2dKernel.maxBackward(h, f.floats(outputSize(h)), bad, new float[inputSize(h)]))
                        .as("%s, output %d", h, o)
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("argmax[" + o + "] = " + bad[o]);
            }
        }
    }
}
