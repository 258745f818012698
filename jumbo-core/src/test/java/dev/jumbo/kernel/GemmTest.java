package dev.jumbo.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/**
 * {@link Gemm} against {@link Reference#sgemm} on fresh random operands. The sizes are picked to
 * reach every path: tiny (unpacked), few rows, few columns, and the blocked path with partial
 * edge tiles, several k passes ({@code k > KC}), several column panels ({@code n > NC}) and a
 * split over threads.
 */
class GemmTest {
    /** {m, n, k}: tiny, odd, few rows (single and 4-row groups), few columns, edges in every dimension, k > KC, n > NC. */
    private static final int[][] SIZES = {
        {1, 1, 1}, {2, 3, 4}, {7, 33, 65}, {65, 7, 33}, {33, 65, 7}, {1, 1023, 17}, {3, 300, 200}, {5, 300, 200},
        {300, 5, 200}, {6, 32, 256}, {61, 67, 300}, {130, 150, 257}, {7, 4100, 9}, {1023, 33, 65}, {1, 37, 3 * GemmDirect.VXM_ROWS + 3}, {1, 8, 1000},
        {13, 70, GemmBlocked.KC + 77}, {40, 2 * GemmMicroKernel.NR + 3, 2 * GemmBlocked.KC + 1},
    };

    @Test
    void allTransposeCombinationsMatchReference() {
        for (int[] s : SIZES)
            for (int t = 0; t < 4; t++) check(new Fixture(), t >= 2, (t & 1) == 1, s[0], s[1], s[2], 1f, 0f, false);
    }

    @Test
    void leadingDimensionsAndOffsetsLeaveGapsUntouched() {
        for (int[] s : SIZES)
            for (int t = 0; t < 4; t++) check(new Fixture(), t >= 2, (t & 1) == 1, s[0], s[1], s[2], 0.75f, 0f, true);
    }

    @Test
    void betaZeroOverwritesNanFilledC() {
        // check() prefills C with NaN whenever beta == 0; the reference never reads it, neither may the kernel.
        for (int[] s : SIZES) check(new Fixture(), false, false, s[0], s[1], s[2], -1.5f, 0f, true);
    }

    @Test
    void nonZeroBetaScalesAndAccumulates() {
        for (float beta : new float[] {1f, 0.5f, -2f})
            for (int[] s : SIZES)
                for (int t = 0; t < 4; t++) check(new Fixture(), t >= 2, (t & 1) == 1, s[0], s[1], s[2], 1.25f, beta, true);
    }

    @Test
    void parallelSplitsMatchReference() {
        // Large enough to be split over threads: square, tall (many M blocks), wide (N slices).
        int[][] sizes = {{300, 300, 300}, {700, 20, 64}, {8, 2000, 300}, {250, 1100, 70}};
        for (int[] s : sizes)
            for (int t = 0; t < 4; t++) check(new Fixture(), t >= 2, (t & 1) == 1, s[0], s[1], s[2], 1f, 0.5f, true);
    }

    @Test
    void oneRowTimesAMatrixGivesTheSameBitsOnAnyThreadCount() {
        // decoding a token: bands of B's rows summed in a fixed order, however many threads ran them
        Fixture f = new Fixture();
        int k = 768 + 5, n = 2304 + 3;
        float[] a = f.floats(k), b = f.floats(k * n), one = new float[n], two = new float[n], expected = new float[n];
        Reference.sgemm(false, false, 1, n, k, 1f, a, 0, k, b, 0, n, 0f, expected, 0, n);
        Parallel.withThreads(1, () -> {
            Gemm.sgemm(false, false, 1, n, k, 1f, a, 0, k, b, 0, n, 0f, one, 0, n);
            return null;
        });
        Gemm.sgemm(false, false, 1, n, k, 1f, a, 0, k, b, 0, n, 0f, two, 0, n);
        f.assertClose(expected, two, tolerance(k), "1 x " + n + " x " + k);
        assertThat(two).containsExactly(one);
    }

    @Test
    void inPlaceAndPackedAMatchReference() {
        // Either side of the width where A stops being read in place, with ragged last micro-panels
        // (m not a multiple of MR), several k passes, and alpha 1 (in place) or not (packed).
        int w = GemmBlocked.IN_PLACE_MAX_N;
        int[][] sizes = {{61, w, 300}, {100, w + 1, 70}, {1021, 64, 288}, {289, 64, 600}, {7, 32, 513}};
        for (int[] s : sizes)
            for (float alpha : new float[] {1f, 0.5f})
                for (int t = 0; t < 4; t++) check(new Fixture(), t >= 2, (t & 1) == 1, s[0], s[1], s[2], alpha, 0f, true);
    }

    @Test
    void zeroDepthOrZeroAlphaOnlyScalesC() {
        Fixture f = new Fixture();
        float[] c = f.floats(12), expected = c.clone();
        for (int i = 0; i < 12; i++) expected[i] *= 0.5f;
        Gemm.sgemm(false, false, 3, 4, 0, 1f, new float[0], 0, 1, new float[0], 0, 4, 0.5f, c, 0, 4);
        f.assertClose(expected, c, 0, "k == 0");
        float[] nanC = f.nans(12);
        Gemm.sgemm(true, true, 3, 4, 5, 0f, f.floats(15), 0, 3, f.floats(20), 0, 5, 0f, nanC, 0, 4);
        f.assertClose(new float[12], nanC, 0, "alpha == 0, beta == 0");
    }

    @Test
    void batchedWithStridesMatchesReference() {
        // {batch, m, n, k}: split inside each product, over batches, and with a shared (stride 0) A.
        int[][] cases = {{3, 130, 70, 90}, {5, 7, 9, 11}, {8, 40, 50, 60}, {2, 1, 300, 40}};
        for (int[] s : cases)
            for (int t = 0; t < 4; t++)
                for (boolean sharedA : new boolean[] {false, true}) {
                    Fixture f = new Fixture();
                    boolean ta = t >= 2, tb = (t & 1) == 1;
                    int batch = s[0], m = s[1], n = s[2], k = s[3];
                    int lda = (ta ? m : k) + f.between(0, 3), ldb = (tb ? k : n) + f.between(0, 3), ldc = n + f.between(0, 3);
                    int aSize = (ta ? k : m) * lda, bSize = (tb ? n : k) * ldb, cSize = m * ldc;
                    int aStride = sharedA ? 0 : aSize + f.between(0, 5), bStride = bSize + f.between(0, 5);
                    int cStride = cSize + f.between(0, 5);
                    int aOff = f.between(0, 4), bOff = f.between(0, 4), cOff = f.between(0, 4);
                    float[] a = f.floats(aOff + (batch - 1) * aStride + aSize);
                    float[] b = f.floats(bOff + (batch - 1) * bStride + bSize);
                    float[] c = f.floats(cOff + (batch - 1) * cStride + cSize), expected = c.clone();
                    Reference.batched(batch, ta, tb, m, n, k, 0.5f, a, aOff, lda, aStride, b, bOff, ldb, bStride,
                            1f, expected, cOff, ldc, cStride);
                    Gemm.batched(batch, ta, tb, m, n, k, 0.5f, a, aOff, lda, aStride, b, bOff, ldb, bStride,
                            1f, c, cOff, ldc, cStride);
                    f.assertClose(expected, c, tolerance(k), "batched " + label(ta, tb, m, n, k) + " batch " + batch
                            + (sharedA ? " shared A" : ""));
                }
    }

    @Test
    void rejectsOperandsOutsideTheirArrays() {
        float[] a = new float[6], b = new float[6], c = new float[4];
        assertThatThrownBy(() -> Gemm.sgemm(false, false, 2, 2, 3, 1f, a, 1, 3, b, 0, 2, 0f, c, 0, 2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("A");
        assertThatThrownBy(() -> Gemm.sgemm(false, true, 2, 2, 3, 1f, a, 0, 3, b, 0, 4, 0f, c, 0, 2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("B");
        assertThatThrownBy(() -> Gemm.sgemm(false, false, 2, 2, 3, 1f, a, 0, 3, b, 0, 2, 0f, c, 1, 2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("C");
        assertThatThrownBy(() -> Gemm.batched(2, false, false, 2, 2, 3, 1f, a, 0, 3, 0, b, 0, 2, 0, 0f, c, 0, 2, 4))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("C");
        assertThatThrownBy(() -> Gemm.sgemm(false, false, -1, 2, 3, 1f, a, 0, 3, b, 0, 2, 0f, c, 0, 2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("negative");
    }

    @Test
    void javadocExampleMultiplies() {
        float[] a = {1, 2, 3, 4}, b = {5, 6, 7, 8}, c = new float[4];
        Gemm.sgemm(false, false, 2, 2, 2, 1f, a, 0, 2, b, 0, 2, 0f, c, 0, 2);
        assertThat(c).containsExactly(19, 22, 43, 50);
    }

    /**
     * One product against the reference. With {@code padded}, leading dimensions exceed the row
     * and operands start at an offset, and C's gaps hold sentinels that must survive. With
     * {@code beta == 0} C starts as NaN everywhere.
     */
    private static void check(Fixture f, boolean ta, boolean tb, int m, int n, int k, float alpha, float beta, boolean padded) {
        int lda = (ta ? m : k) + (padded ? f.between(1, 5) : 0);
        int ldb = (tb ? k : n) + (padded ? f.between(1, 5) : 0);
        int ldc = n + (padded ? f.between(1, 5) : 0);
        int aOff = padded ? f.between(1, 7) : 0, bOff = padded ? f.between(1, 7) : 0, cOff = padded ? f.between(1, 7) : 0;
        float[] a = f.floats(aOff + (ta ? k : m) * lda);
        float[] b = f.floats(bOff + (tb ? n : k) * ldb);
        float[] c = beta == 0 ? f.nans(cOff + m * ldc) : f.floats(cOff + m * ldc);
        float[] expected = c.clone();
        Reference.sgemm(ta, tb, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, expected, cOff, ldc);
        Gemm.sgemm(ta, tb, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        f.assertClose(expected, c, tolerance(k), label(ta, tb, m, n, k) + " alpha " + alpha + " beta " + beta
                + (padded ? " lda " + lda + " ldb " + ldb + " ldc " + ldc : ""));
    }

    /** Float sums of k products drift like sqrt(k) ulps (both ours and the reference's). */
    static double tolerance(int k) {
        return 2e-5 * Math.sqrt(k + 1);
    }

    private static String label(boolean ta, boolean tb, int m, int n, int k) {
        return (ta ? "T" : "N") + (tb ? "T" : "N") + " " + m + "x" + n + "x" + k;
    }
}
