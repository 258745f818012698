package dev.jumbo.kernel;

/**
 * The one matrix-multiply entry point: {@code C = alpha * op(A) * op(B) + beta * C} on row-major
 * float arrays with offsets and leading dimensions, where {@code op(X)} is X or its transpose.
 *
 * <pre>{@code
 * float[] a = {1, 2, 3, 4}, b = {5, 6, 7, 8}, c = new float[4];
 * Gemm.sgemm(false, false, 2, 2, 2, 1f, a, 0, 2, b, 0, 2, 0f, c, 0, 2); // c = a * b
 * }</pre>
 */
public final class Gemm {
    private Gemm() {}

    /**
     * {@code C[m x n] = alpha * op(A)[m x k] * op(B)[k x n] + beta * C}. With {@code transA},
     * A is stored k x m (element (i,p) at {@code aOff + p*lda + i}); otherwise m x k (at
     * {@code aOff + i*lda + p}). Likewise for B. When {@code beta == 0}, C is overwritten
     * without being read (so NaNs in it do not propagate).
     */
    public static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                             float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                             float beta, float[] c, int cOff, int ldc) {
        batched(1, transA, transB, m, n, k, alpha, a, aOff, lda, 0, b, bOff, ldb, 0, beta, c, cOff, ldc, 0);
    }

    /** {@link #sgemm} for {@code batch} independent products, each operand advancing by its stride. */
    public static void batched(int batch, boolean transA, boolean transB, int m, int n, int k, float alpha,
                               float[] a, int aOff, int lda, int aStride, float[] b, int bOff, int ldb, int bStride,
                               float beta, float[] c, int cOff, int ldc, int cStride) {
        Parallel.forEach(batch * m, (long) n * k, row -> {
            int bi = row / m, i = row % m;
            int ao = aOff + bi * aStride, bo = bOff + bi * bStride, co = cOff + bi * cStride + i * ldc;
            for (int j = 0; j < n; j++) {
                float s = 0;
                for (int p = 0; p < k; p++) {
                    float av = transA ? a[ao + p * lda + i] : a[ao + i * lda + p];
                    float bv = transB ? b[bo + j * ldb + p] : b[bo + p * ldb + j];
                    s += av * bv;
                }
                c[co + j] = beta == 0 ? alpha * s : alpha * s + beta * c[co + j];
            }
        });
    }
}
