package dev.jumbo.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import dev.jumbo.kernel.QuantBlocks.Format;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Every weight kernel's gemv and gemm against naive loops over the decoded weights, on fresh random
 * blocks: odd row counts, row counts that do not split evenly over the threads, 1 to 5 activation
 * rows. Kernels that quantize the activations to 8 bits are checked against the same naive loop
 * over the reference quantization of x (tight), and against the F32 product (loose).
 */
class QuantKernelsTest {
    private final Fixture fx = new Fixture();

    private record Case(WeightKernel kernel, Format format, boolean int8) {}

    private static final List<Case> CASES = List.of(
            new Case(WeightKernel.F32, Format.F32, false),
            new Case(WeightKernel.F16, Format.F16, false),
            new Case(WeightKernel.BF16, Format.BF16, false),
            new Case(WeightKernel.Q8_0, Format.Q8_0, false), // F32 activations up to 3072 columns
            new Case(WeightKernel.Q8_0_INT8_ACTIVATIONS, Format.Q8_0, true),
            new Case(WeightKernel.Q8_0_F32_ACTIVATIONS, Format.Q8_0, false),
            new Case(WeightKernel.Q4_0, Format.Q4_0, true),
            new Case(WeightKernel.Q4_0_F32_ACTIVATIONS, Format.Q4_0, false),
            new Case(WeightKernel.Q4_K, Format.Q4_K, true),
            new Case(WeightKernel.Q4_K_F32_ACTIVATIONS, Format.Q4_K, false),
            new Case(WeightKernel.Q6_K, Format.Q6_K, false));

    @Test
    void productsMatchNaiveLoopsOverTheDecodedWeights() {
        for (Case c : CASES) {
            for (int trial = 0; trial < 4; trial++) {
                int blockCols = c.format.block == 1 ? 1 : c.format.block;
                int cols = c.format.block == 1 ? fx.between(1, 100) : blockCols * fx.between(1, 300 / blockCols + 1);
                int rows = 2 * fx.between(0, 40) + 1; // odd, and rarely a multiple of the thread count
                int n = fx.between(1, 5);
                check(c, rows, cols, n);
            }
        }
    }

    @Test
    void largeMatricesSplitOverTheThreads() {
        // Enough work per call that Parallel really splits the rows (cost rows * cols above its threshold).
        for (Case c : CASES) check(c, 301, c.format.block == 1 ? 515 : 512, 1 + fx.random.nextInt(5));
    }

    @Test
    void prefillPanelsMatchNaiveLoopsForAnyActivationCount() {
        // gemm from PANEL_MIN_N activation rows: row counts that leave a short last panel, activation
        // counts that are not multiples of the sgemm's tiles
        for (Case c : CASES)
            for (int n : new int[] {WeightKernel.PANEL_MIN_N, 17, 130})
                check(c, WeightKernel.PANEL_ROWS + 3, c.format.block == 1 ? 97 : 256, n);
    }

    @Test
    void panelsOfAnySizeMatchNaiveLoops() {
        for (Case c : CASES) {
            int rows = 23, cols = c.format.block == 1 ? 45 : 256;
            float[] w = new float[rows * cols];
            MemorySegment seg = QuantBlocks.matrix(fx.random, c.format, rows, cols, w);
            for (int panelRows : new int[] {1, 5, 64})
                for (int n : new int[] {1, 3, 17, 130}) {
                    float[] x = fx.floats(n * cols + 2), y = fx.nans(n * rows + 1);
                    c.kernel.panelMultiply(seg, 0, rows, cols, x, 2, n, y, 1, panelRows);
                    assertThat(y[0]).isNaN();
                    for (int r = 0; r < rows; r++)
                        for (int i = 0; i < n; i++) {
                            double s = 0, abs = 0;
                            for (int k = 0; k < cols; k++) {
                                s += (double) w[r * cols + k] * x[2 + i * cols + k];
                                abs += Math.abs((double) w[r * cols + k] * x[2 + i * cols + k]);
                            }
                            near(c.kernel + " panels of " + panelRows + ", n " + n + " y[" + i + ", " + r + "]",
                                    y[1 + i * rows + r], s, 1e-5 * abs + 1e-30);
                        }
                }
        }
    }

    private void check(Case c, int rows, int cols, int n) {
        String what = c.kernel + " [" + rows + ", " + cols + "] x " + n;
        float[] w = new float[rows * cols];
        MemorySegment seg = QuantBlocks.matrix(fx.random, c.format, rows, cols, w);
        float[] x = fx.floats(n * cols);
        float[] xRef = c.int8 ? referenceInt8(x, n, cols) : x;
        // from PANEL_MIN_N rows, gemm decodes weight panels to F32 and keeps the activations in F32
        boolean gemmInt8 = c.int8 && n < WeightKernel.PANEL_MIN_N;

        float[] yn = fx.nans(n * rows);
        c.kernel.gemm(seg, 0, rows, cols, x, n, yn);
        float[] y1 = fx.nans(rows + 3);
        int i1 = n - 1;
        float[] xPadded = new float[cols + 2];
        System.arraycopy(x, i1 * cols, xPadded, 2, cols);
        c.kernel.gemv(seg, 0, rows, cols, xPadded, 2, y1, 3);

        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < n; i++) {
                double s = 0, abs = 0, exact = 0; // s: over x as the gemv sees it
                for (int k = 0; k < cols; k++) {
                    s += (double) w[r * cols + k] * xRef[i * cols + k];
                    abs += Math.abs((double) w[r * cols + k] * x[i * cols + k]);
                    exact += (double) w[r * cols + k] * x[i * cols + k];
                }
                // float rounding of a dot product stays well within 1e-5 of the sum of |terms| at these lengths
                double tol = 1e-5 * abs + 1e-30;
                near(what + " gemm y[" + i + ", " + r + "]", yn[i * rows + r], gemmInt8 ? s : exact, tol);
                if (i == i1) near(what + " gemv y[" + r + "]", y1[3 + r], s, tol);
                // 8-bit activations err by at most half a step (amax / 254) per value
                if (c.int8) near(what + " vs F32 activations", yn[i * rows + r], exact, abs / 127 + 1e-30);
            }
        }
        for (int k = 0; k < 3; k++) assertThat(y1[k]).as(what + " before yOff").isNaN();
    }

    private void near(String what, float actual, double expected, double tol) {
        if (!(Math.abs(actual - expected) <= tol)) fail("%s is %s, expected %s (tolerance %.3g, seed %d)", what, actual, expected, tol, fx.seed);
    }

    /** x rounded as the 8-bit activations are: per 32 values d = amax / 127, q = rint(x * (1 / d)), value q * d. */
    static float[] referenceInt8(float[] x, int n, int cols) {
        float[] out = new float[x.length];
        for (int b = 0; b < n * cols / 32; b++) {
            float amax = 0;
            for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[32 * b + j]));
            float d = amax / 127, inverse = d != 0 ? 1 / d : 0;
            for (int j = 0; j < 32; j++) out[32 * b + j] = (float) (Math.rint(x[32 * b + j] * inverse) * (double) d);
        }
        return out;
    }

    @Test
    void thePortablePathMatchesNaiveLoops() {
        // What runs on CPUs without 512-bit vectors: rows dequantized, then F32 dot products.
        for (Case c : CASES) {
            int rows = 37, cols = c.format.block == 1 ? 70 : 512, n = 3;
            float[] w = new float[rows * cols];
            MemorySegment seg = QuantBlocks.matrix(fx.random, c.format, rows, cols, w);
            float[] x = fx.floats(n * cols), y = fx.nans(n * rows);
            c.kernel.dequantizingMultiply(seg, 0, rows, cols, x, 0, n, y, 0);
            for (int r = 0; r < rows; r++)
                for (int i = 0; i < n; i++) {
                    double s = 0, abs = 0;
                    for (int k = 0; k < cols; k++) {
                        s += (double) w[r * cols + k] * x[i * cols + k];
                        abs += Math.abs((double) w[r * cols + k] * x[i * cols + k]);
                    }
                    near(c.kernel + " portable y[" + i + ", " + r + "]", y[i * rows + r], s, 1e-5 * abs + 1e-30);
                }
        }
    }

    @Test
    void q4_0ExtremeNibblesAndActivationsDoNotOverflow() {
        // Nibbles 0 and 15 against activations quantized to +-127: the largest 16-bit products and sums.
        byte[] patterns = {0x00, (byte) 0xFF, 0x0F, (byte) 0xF0, (byte) 0x8F, 0x78};
        for (int cols : new int[] {32, 64, 96, 160}) {
            int rows = patterns.length, blocks = cols / 32;
            MemorySegment seg = Arena.ofAuto().allocate((long) rows * blocks * Q4_0Kernel.BLOCK_BYTES);
            float[] w = new float[rows * cols];
            for (int r = 0; r < rows; r++)
                for (int b = 0; b < blocks; b++) {
                    long o = (long) (r * blocks + b) * Q4_0Kernel.BLOCK_BYTES;
                    seg.set(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), o, Float.floatToFloat16(0.5f));
                    for (int j = 0; j < 16; j++) seg.set(ValueLayout.JAVA_BYTE, o + 2 + j, patterns[r]);
                }
            for (int r = 0; r < rows; r++) WeightKernel.Q4_0.dequantize(seg, (long) r * blocks * Q4_0Kernel.BLOCK_BYTES, cols, w, r * cols);
            for (int signs = 0; signs < 4; signs++) { // each half block all +1 or all -1: every q is +-127
                float[] x = new float[cols];
                for (int k = 0; k < cols; k++) x[k] = ((k % 32 < 16 ? signs : signs >> 1) & 1) == 0 ? 1 : -1;
                float[] xRef = referenceInt8(x, 1, cols), y = fx.nans(rows);
                WeightKernel.Q4_0.gemv(seg, 0, rows, cols, x, 0, y, 0);
                for (int r = 0; r < rows; r++) {
                    double e = 0, abs = 0;
                    for (int k = 0; k < cols; k++) {
                        e += (double) w[r * cols + k] * xRef[k];
                        abs += Math.abs((double) w[r * cols + k] * xRef[k]);
                    }
                    near("Q4_0 extremes [" + r + "] of " + cols, y[r], e, 1e-5 * abs + 1e-30);
                }
            }
        }
    }

    @Test
    void q8_0TakesEightBitActivationsPastL1() {
        int rows = 5, cols = 4096;
        float[] w = new float[rows * cols];
        MemorySegment seg = QuantBlocks.matrix(fx.random, Format.Q8_0, rows, cols, w);
        float[] x = fx.floats(cols), auto = new float[rows], int8 = new float[rows];
        WeightKernel.Q8_0.gemv(seg, 0, rows, cols, x, 0, auto, 0);
        WeightKernel.Q8_0_INT8_ACTIVATIONS.gemv(seg, 0, rows, cols, x, 0, int8, 0);
        assertThat(auto).containsExactly(int8);
    }

    @Test
    void resultsDoNotDependOnTheThreadCount() {
        for (Case c : CASES) {
            int rows = 257, cols = 512;
            float[] w = new float[rows * cols];
            MemorySegment seg = QuantBlocks.matrix(fx.random, c.format, rows, cols, w);
            for (int n : new int[] {3, 17}) {
                float[] x = fx.floats(n * cols), many = new float[n * rows], one = new float[n * rows];
                c.kernel.gemm(seg, 0, rows, cols, x, n, many);
                Parallel.withThreads(1, () -> {
                    c.kernel.gemm(seg, 0, rows, cols, x, n, one);
                    return null;
                });
                assertThat(one).as(c.kernel + " x " + n).containsExactly(many);
            }
        }
    }

    @Test
    void kernelsReadMappedStyleOffHeapSegmentsAtAnOffset() {
        int rows = 33, cols = 256;
        for (Case c : CASES) {
            float[] w = new float[rows * cols];
            MemorySegment heap = QuantBlocks.matrix(fx.random, c.format, rows, cols, w);
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment off = arena.allocate(heap.byteSize() + 7);
                MemorySegment.copy(heap, 0, off, 7, heap.byteSize());
                float[] x = fx.floats(cols), a = new float[rows], b = new float[rows];
                c.kernel.gemv(heap, 0, rows, cols, x, 0, a, 0);
                c.kernel.gemv(off, 7, rows, cols, x, 0, b, 0);
                assertThat(b).as(c.kernel.toString()).containsExactly(a);
            }
        }
    }

    @Test
    void shortInputsAreRefused() {
        MemorySegment seg = MemorySegment.ofArray(new byte[34 * 2]);
        assertThatThrownBy(() -> WeightKernel.Q8_0.gemv(seg, 0, 3, 32, new float[32], 0, new float[3], 0))
                .isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> WeightKernel.Q8_0.gemv(seg, 0, 2, 32, new float[31], 0, new float[2], 0))
                .isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> WeightKernel.Q8_0.gemm(seg, 0, 2, 32, new float[64], 2, new float[3]))
                .isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> WeightKernel.Q4_K.gemv(seg, 0, 1, 32, new float[32], 0, new float[1], 0))
                .hasMessageContaining("not a whole number of blocks of 256");
    }
}
