package dev.jumbo.kernel;

import java.util.Arrays;

/**
 * The one matrix-multiply entry point: {@code C = alpha * op(A) * op(B) + beta * C} on row-major
 * float arrays with offsets and leading dimensions, where {@code op(X)} is X or its transpose.
 *
 * <pre>{@code
 * float[] a = {1, 2, 3, 4}, b = {5, 6, 7, 8}, c = new float[4];
 * Gemm.sgemm(false, false, 2, 2, 2, 1f, a, 0, 2, b, 0, 2, 0f, c, 0, 2); // c = a * b
 * }</pre>
 *
 * <p>How it runs: tiny and skinny products (fewer than {@link GemmMicroKernel#MR} rows, very
 * few columns, or under about 32k multiply-adds) take an unpacked vector loop
 * ({@link GemmDirect}); everything else is cache-blocked with packed panels and a
 * register-tiled Vector API micro-kernel ({@link GemmBlocked}), split over {@link Parallel}'s
 * threads. Transposes are absorbed by the packing, never copied by the caller. Results can
 * differ from a plain loop by rounding only (the summation order differs).
 */
public final class Gemm {
    /** Below this many multiply-adds, packing and blocking cost more than they save. */
    private static final long SMALL = 1 << 15;
    /** Below this many multiply-adds per product, a batch is better split over batches than inside each. */
    private static final long SPLIT_INSIDE = 1 << 22;

    private Gemm() {}

    /**
     * {@code C[m x n] = alpha * op(A)[m x k] * op(B)[k x n] + beta * C}. With {@code transA},
     * A is stored k x m (element (i,p) at {@code aOff + p*lda + i}); otherwise m x k (at
     * {@code aOff + i*lda + p}). Likewise for B. When {@code beta == 0}, C is overwritten
     * without being read (so NaNs in it do not propagate). When {@code alpha == 0} or
     * {@code k == 0}, A and B are not read and C becomes {@code beta * C}.
     *
     * @throws IllegalArgumentException if a size is negative or an operand reaches outside its array
     */
    public static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                             float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                             float beta, float[] c, int cOff, int ldc) {
        batched(1, transA, transB, m, n, k, alpha, a, aOff, lda, 0, b, bOff, ldb, 0, beta, c, cOff, ldc, 0);
    }

    /**
     * {@link #sgemm} for {@code batch} independent products, each operand advancing by its stride
     * (a stride of 0 reuses the same A or B for every product). The C blocks of different
     * products must not overlap.
     *
     * @throws IllegalArgumentException if a size is negative or an operand reaches outside its array
     */
    public static void batched(int batch, boolean transA, boolean transB, int m, int n, int k, float alpha,
                               float[] a, int aOff, int lda, int aStride, float[] b, int bOff, int ldb, int bStride,
                               float beta, float[] c, int cOff, int ldc, int cStride) {
        if (batch < 0 || m < 0 || n < 0 || k < 0)
            throw new IllegalArgumentException("negative gemm size: batch=" + batch + " m=" + m + " n=" + n + " k=" + k);
        if (batch == 0 || m == 0 || n == 0) return;
        checkOperand("C", c, cOff, ldc, cStride, batch, m, n);
        boolean readsAB = k > 0 && alpha != 0;
        if (readsAB) {
            checkOperand("A", a, aOff, lda, aStride, batch, transA ? k : m, transA ? m : k);
            checkOperand("B", b, bOff, ldb, bStride, batch, transB ? n : k, transB ? k : n);
        }
        long work = (long) m * n * k;
        int threads = Parallel.threads();
        boolean overBatches = batch > 1 && batch >= threads && batch * work >= SMALL
                && (batch % threads == 0 || batch >= 4 * threads || work < SPLIT_INSIDE);
        if (overBatches) {
            Parallel.forTasks(batch, bi -> one(transA, transB, m, n, k, alpha, a, aOff + bi * aStride, lda,
                    b, bOff + bi * bStride, ldb, beta, c, cOff + bi * cStride, ldc));
        } else {
            for (int bi = 0; bi < batch; bi++)
                one(transA, transB, m, n, k, alpha, a, aOff + bi * aStride, lda,
                        b, bOff + bi * bStride, ldb, beta, c, cOff + bi * cStride, ldc);
        }
    }

    private static void one(boolean transA, boolean transB, int m, int n, int k, float alpha,
                            float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                            float beta, float[] c, int cOff, int ldc) {
        if (k == 0 || alpha == 0) {
            scale(m, n, beta, c, cOff, ldc);
        } else if ((long) m * n * k < SMALL || m < GemmMicroKernel.MR || n < GemmDirect.ROW_FORM_MIN_N) {
            GemmDirect.run(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        } else {
            GemmBlocked.run(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        }
    }

    /** {@code C = beta * C}; with {@code beta == 0}, C is overwritten with zeros without being read. */
    private static void scale(int m, int n, float beta, float[] c, int cOff, int ldc) {
        for (int i = 0; i < m; i++) {
            int o = cOff + i * ldc;
            if (beta == 0) Arrays.fill(c, o, o + n, 0f);
            else if (beta != 1) VectorMath.scale(beta, c, o, c, o, n);
        }
    }

    /**
     * Checks, with exact arithmetic, that a rows x cols operand (row stride ld) lies inside the
     * array for the first and the last product of the batch, so a bad call fails up front
     * rather than half-way through, on some worker thread.
     */
    private static void checkOperand(String name, float[] x, int off, int ld, int stride, int batch, int rows, int cols) {
        if (rows == 0 || cols == 0) return;
        if (x == null) throw new IllegalArgumentException(name + " is null");
        if (ld < 0 || rows > 1 && ld < 1)
            throw new IllegalArgumentException("leading dimension of " + name + " is " + ld);
        long span = (long) (rows - 1) * ld + cols, lastStart = off + (long) (batch - 1) * stride;
        if (Math.min(off, lastStart) < 0 || Math.max(off, lastStart) + span > x.length)
            throw new IllegalArgumentException(name + " (" + rows + " x " + cols + ", ld " + ld + ", offset " + off
                    + ", batch stride " + stride + ", batch " + batch + ") reaches outside its array of " + x.length);
    }
}
