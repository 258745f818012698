package dev.jumbo.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;

/** The int8 kernels against naive integer references: the integer results must be exactly equal. */
class Int8KernelsTest {
    private static byte[] int8(Fixture f, int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) b[i] = (byte) f.between(-127, 127);
        return b;
    }

    private static int[] gemmReference(byte[] a, int m, byte[] b, int n, int k) {
        int[] c = new int[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) {
                int s = 0;
                for (int t = 0; t < k; t++) s += a[i * k + t] * b[j * k + t];
                c[i * n + j] = s;
            }
        return c;
    }

    @RepeatedTest(20)
    void gemmEqualsTheNaiveIntegerProductOnOddSizes() {
        Fixture f = new Fixture();
        int m = f.between(1, 37), n = f.between(1, 13), k = f.between(1, 300);
        byte[] a = int8(f, m * k), b = int8(f, n * k);
        int[] c = new int[m * n];
        Int8Kernels.gemm(a, m, b, n, k, c);
        int[] expected = gemmReference(a, m, b, n, k);
        f.assertEqual(expected, c, "gemm " + m + "x" + n + "x" + k);
        for (boolean byColumns : new boolean[] {false, true}) {
            int[] d = new int[m * n];
            new Int8Matrix(b, n, k, byColumns).multiply(a, m, d);
            f.assertEqual(expected, d, (byColumns ? "by columns " : "by pairs ") + m + "x" + n + "x" + k);
        }
    }

    @Test
    void int8MatrixChoosesColumnsForShortRows() {
        Fixture f = new Fixture();
        for (int k : new int[] {9, Int8Matrix.COLUMNS_BELOW - 1, Int8Matrix.COLUMNS_BELOW, 300}) {
            int m = 70, n = 37; // n: two vectors of int lanes and a tail on any width
            byte[] a = int8(f, m * k), b = int8(f, n * k);
            int[] c = new int[m * n];
            new Int8Matrix(b, n, k).multiply(a, m, c);
            f.assertEqual(gemmReference(a, m, b, n, k), c, "int8 matrix k=" + k);
        }
        assertThatThrownBy(() -> new Int8Matrix(new byte[5], 2, 3)).hasMessageContaining("2x3 needs 6 values, got 5");
    }

    @Test
    void gemmIsExactAtTheExtremesOfTheRange() {
        // every product +-127^2: the 16-bit pair sums are at their largest, and the int32 sums large
        int m = 5, n = 6, k = 4099;
        byte[] a = new byte[m * k], b = new byte[n * k];
        for (int i = 0; i < a.length; i++) a[i] = (byte) (i % 3 == 0 ? -127 : 127);
        for (int i = 0; i < b.length; i++) b[i] = (byte) (i % 5 == 0 ? -127 : 127);
        int[] c = new int[m * n];
        Int8Kernels.gemm(a, m, b, n, k, c);
        new Fixture(0).assertEqual(gemmReference(a, m, b, n, k), c, "gemm at +-127");
        byte[] ones = new byte[k];
        java.util.Arrays.fill(ones, (byte) 127);
        int[] byColumns = new int[m * n];
        new Int8Matrix(b, n, k, true).multiply(a, m, byColumns);
        new Fixture(0).assertEqual(gemmReference(a, m, b, n, k), byColumns, "gemm by columns at +-127");
        int[] one = new int[1];
        Int8Kernels.gemm(ones, 1, ones, 1, k, one);
        assertThat(one[0]).isEqualTo(127 * 127 * k);
    }

    @Test
    void gemmLargeEnoughToRunInParallelIsStillExact() {
        Fixture f = new Fixture();
        int m = 301, n = 35, k = 157;
        byte[] a = int8(f, m * k), b = int8(f, n * k);
        int[] c = new int[m * n];
        Int8Kernels.gemm(a, m, b, n, k, c);
        f.assertEqual(gemmReference(a, m, b, n, k), c, "gemm " + m + "x" + n + "x" + k);
    }

    @Test
    void gemmRejectsArraysTooShort() {
        assertThatThrownBy(() -> Int8Kernels.gemm(new byte[5], 2, new byte[6], 2, 3, new int[4]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("2x2x3");
    }

    @RepeatedTest(5)
    void quantizeRoundsToNearestAndSaturatesAtTheSymmetricRange() {
        Fixture f = new Fixture();
        int n = f.between(1, 500);
        float[] x = f.floats(n);
        for (int i = 0; i < n; i++) x[i] *= 3;
        float scale = 2f / 127; // values up to 3 saturate beyond 2
        byte[] q = new byte[n + 2];
        Int8Kernels.quantize(x, 0, n, scale, q, 1);
        assertThat(q[0]).isZero();
        assertThat(q[n + 1]).isZero();
        for (int i = 0; i < n; i++) {
            double exact = Math.rint(x[i] * (1 / scale));
            int expected = (int) Math.max(-127, Math.min(127, exact));
            assertThat((int) q[1 + i]).as("element %d of %s (seed %d)", i, x[i], f.seed).isEqualTo(expected);
        }
    }

    @Test
    void quantizeWithScaleZeroOrNaNWritesZeros() {
        byte[] q = {1, 2, 3};
        Int8Kernels.quantize(new float[] {0, 0, 0}, 0, 3, 0, q, 0);
        assertThat(q).containsExactly(0, 0, 0);
        Int8Kernels.quantize(new float[] {Float.NaN, 1, -1}, 0, 3, 1f / 127, q, 0);
        assertThat(q).containsExactly(0, 127, -127);
    }

    @Test
    void quantizeRoundsTiesToEvenAndMapsNaNToZeroAndInfinityToTheEnds() {
        float[] special = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 126.5f, 127.5f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0f};
        int[] expected = {0, 2, 2, 0, -2, -2, 126, 127, 0, 127, -127, 0};
        // at every position, so the vector loop and its scalar tail both meet each case
        for (int shift = 0; shift < 40; shift += 7) {
            float[] x = new float[64];
            for (int i = 0; i < special.length; i++) x[(shift + i) % 64] = special[i];
            byte[] q = new byte[64];
            Int8Kernels.quantize(x, 0, 61, 1f, q, 0);
            for (int i = 0; i < special.length; i++) {
                int at = (shift + i) % 64;
                assertThat((int) q[at]).as("%s at %d", special[i], at).isEqualTo(at < 61 ? expected[i] : 0);
            }
        }
    }

    @RepeatedTest(5)
    void maxAbsIsTheLargestMagnitude() {
        Fixture f = new Fixture();
        int n = f.between(1, 100), off = f.between(0, 5);
        float[] x = f.floats(n + off);
        float expected = 0;
        for (int i = off; i < off + n; i++) expected = Math.max(expected, Math.abs(x[i]));
        assertThat(Int8Kernels.maxAbs(x, off, n)).as("seed %d", f.seed).isEqualTo(expected);
        assertThat(Int8Kernels.maxAbs(x, 0, 0)).isZero();
        x[off + n - 1] = Float.NaN;
        assertThat(Int8Kernels.maxAbs(x, off, n)).isNaN();
    }

    @RepeatedTest(10)
    void im2colReadsEachPatchAsTheFilterLaysItOut() {
        Fixture f = new Fixture();
        boolean same = f.random.nextBoolean();
        int kh = f.between(1, 4), kw = f.between(1, 4);
        ConvGeometry g = ConvGeometry.of(f.between(1, 3), f.between(kh, 9), f.between(kw, 9), f.between(1, 5),
                kh, kw, f.between(1, 3), f.between(1, 3), same, 1);
        byte[] x = int8(f, g.n() * g.h() * g.w() * g.c());
        int rows = g.n() * g.outH() * g.outW(), k = kh * kw * g.c();
        byte[] expected = new byte[rows * k];
        for (int r = 0; r < rows; r++) {
            int ow = r % g.outW(), oh = r / g.outW() % g.outH(), b = r / (g.outW() * g.outH());
            for (int i = 0; i < kh; i++)
                for (int j = 0; j < kw; j++)
                    for (int ch = 0; ch < g.c(); ch++) {
                        int ih = oh * g.strideH() - g.padTop() + i, iw = ow * g.strideW() - g.padLeft() + j;
                        boolean inside = ih >= 0 && ih < g.h() && iw >= 0 && iw < g.w();
                        expected[r * k + (i * kw + j) * g.c() + ch] = inside ? x[((b * g.h() + ih) * g.w() + iw) * g.c() + ch] : 0;
                    }
        }
        // a band from the middle, into a destination with an offset, as QuantizedConv2D calls it
        int r0 = f.between(0, rows - 1), r1 = f.between(r0 + 1, rows);
        byte[] dst = new byte[3 + (r1 - r0) * k];
        java.util.Arrays.fill(dst, (byte) 99);
        Int8Kernels.im2col(g, x, r0, r1, dst, 3);
        assertThat(java.util.Arrays.copyOfRange(dst, 3, dst.length)).as("%s rows %d..%d (seed %d)", g, r0, r1, f.seed)
                .isEqualTo(java.util.Arrays.copyOfRange(expected, r0 * k, r1 * k));
        assertThat(dst[0]).isEqualTo((byte) 99);
    }

    @Test
    void rescaleMultipliesOnceAndAddsTheBias() {
        Fixture f = new Fixture();
        int m = 7, n = 37; // whole vectors of lanes and a tail
        int[] acc = new int[m * n];
        for (int i = 0; i < acc.length; i++) acc[i] = f.between(-100_000, 100_000);
        float[] ws = f.floats(n), bias = f.floats(n), y = new float[m * n + 2];
        float xs = 0.01f;
        for (boolean relu : new boolean[] {false, true}) {
            Int8Kernels.rescale(acc, m, n, xs, ws, bias, relu, y, 2);
            float[] expected = new float[m * n + 2];
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++) {
                    float v = (float) ((double) acc[i * n + j] * xs * ws[j] + bias[j]);
                    expected[2 + i * n + j] = relu ? Math.max(0, v) : v;
                }
            f.assertClose(expected, y, 1e-6, "rescale, relu " + relu);
        }
    }
}
