package dev.jumbo.kernel;

import static dev.jumbo.kernel.GemmMicroKernel.SPECIES;
import static dev.jumbo.kernel.GemmMicroKernel.V;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

/**
 * The unpacked path of {@link Gemm}, for products where packing would cost about as much as the
 * arithmetic: tiny problems, and skinny ones (a few rows, as in a batch-1 dense layer or one
 * attention query; or a few columns). Two loop forms, both vectorised:
 * <ul>
 *   <li><b>row form</b> (op(B) = B, not too narrow): rows of C, four at a time, accumulate
 *       {@code A[i,p] * B[p, j..j+2V]} in registers while B's rows stream past once per group;</li>
 *   <li><b>dot form</b> (op(B) = B^T, or very few columns): each element of C is a dot product of
 *       a contiguous row of op(A) and a contiguous column of op(B); whichever is strided in
 *       memory is first gathered, {@link #K_CHUNK} values at a time, into a scratch array.</li>
 * </ul>
 */
final class GemmDirect {
    /** Below this many columns the row form cannot keep enough independent accumulators busy. */
    static final int ROW_FORM_MIN_N = 8;
    /** Gathered rows/columns cover at most this much of k, so the scratch stays small. */
    private static final int K_CHUNK = 2048;

    private GemmDirect() {}

    static void run(boolean transA, boolean transB, int m, int n, int k, float alpha,
                    float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                    float beta, float[] c, int cOff, int ldc) {
        if (m == 1 && !transB && n >= ROW_FORM_MIN_N && k > 0) {
            vectorTimesMatrix(k, n, alpha, a, aOff, transA ? lda : 1, b, bOff, ldb, beta, c, cOff);
            return;
        }
        boolean dotForm = transB || n < ROW_FORM_MIN_N;
        if (m >= n)
            Parallel.forRange(m, (long) n * k, (i0, i1) -> body(dotForm, transA, transB, i0, i1, 0, n, k, alpha,
                    a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc));
        else
            Parallel.forRange(n, (long) m * k, (j0, j1) -> body(dotForm, transA, transB, 0, m, j0, j1, k, alpha,
                    a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc));
    }

    private static void body(boolean dotForm, boolean transA, boolean transB, int i0, int i1, int j0, int j1, int k,
                             float alpha, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                             float beta, float[] c, int cOff, int ldc) {
        if (dotForm) dotForm(transA, transB, i0, i1, j0, j1, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        else {
            int i = i0;
            for (; i + 4 <= i1; i += 4) rowForm4(transA, i, j0, j1, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
            for (; i < i1; i++) rowForm(transA, i, j0, j1, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        }
    }

    /** Rows of B per task of {@link #vectorTimesMatrix}: a whole number of its four-row steps. */
    static final int VXM_ROWS = 64;

    /**
     * {@code c[0..n) = alpha * a B + beta * c} for one row {@code a} (k values, {@code aStep} apart)
     * and B {@code [k, n]}: a layer's forward for a batch of one, as in decoding a token, where the
     * product is bound by reading B from memory. B is read as it lies, in contiguous bands of
     * {@link #VXM_ROWS} whole rows, one task each, and each task sums its band into its own partial
     * row; the partials are then added in band order. (Splitting the columns instead, as the row
     * form does, reads every row of B in short strided pieces and ran at half the bandwidth.) The
     * bands are fixed by k alone, so the result does not depend on the thread count.
     */
    private static void vectorTimesMatrix(int k, int n, float alpha, float[] a, int aOff, int aStep,
                                          float[] b, int bOff, int ldb, float beta, float[] c, int cOff) {
        int bands = Math.ceilDiv(k, VXM_ROWS);
        Workspace ws = Workspace.acquire();
        try {
            float[] partial = ws.c(Math.multiplyExact(bands, n));
            Parallel.forRange(bands, (long) VXM_ROWS * n, (t0, t1) -> {
                for (int t = t0; t < t1; t++) band(t * VXM_ROWS, Math.min(k, (t + 1) * VXM_ROWS), n, a, aOff, aStep, b, bOff, ldb, partial, t * n);
            });
            FloatVector va = FloatVector.broadcast(SPECIES, alpha), vb = FloatVector.broadcast(SPECIES, beta);
            for (int j = 0; j < n; j += V) {
                VectorMask<Float> mask = SPECIES.indexInRange(j, n);
                FloatVector s = FloatVector.fromArray(SPECIES, partial, j, mask);
                for (int t = 1; t < bands; t++) s = s.add(FloatVector.fromArray(SPECIES, partial, t * n + j, mask));
                s = s.mul(va);
                if (beta != 0) s = FloatVector.fromArray(SPECIES, c, cOff + j, mask).fma(vb, s);
                s.intoArray(c, cOff + j, mask);
            }
        } finally {
            Workspace.release(ws);
        }
    }

    /** {@code y[yOff .. yOff + n) = sum over p in [p0, p1) of a_p B[p, :]}, four rows of B per pass over y. */
    private static void band(int p0, int p1, int n, float[] a, int aOff, int aStep, float[] b, int bOff, int ldb, float[] y, int yOff) {
        java.util.Arrays.fill(y, yOff, yOff + n, 0f);
        int p = p0;
        for (; p + 4 <= p1; p += 4) {
            float x0 = a[aOff + p * aStep], x1 = a[aOff + (p + 1) * aStep], x2 = a[aOff + (p + 2) * aStep], x3 = a[aOff + (p + 3) * aStep];
            FloatVector a0 = FloatVector.broadcast(SPECIES, x0), a1 = FloatVector.broadcast(SPECIES, x1);
            FloatVector a2 = FloatVector.broadcast(SPECIES, x2), a3 = FloatVector.broadcast(SPECIES, x3);
            int r0 = bOff + p * ldb, r1 = r0 + ldb, r2 = r1 + ldb, r3 = r2 + ldb;
            int j = 0;
            for (int bound = SPECIES.loopBound(n); j < bound; j += V) {
                FloatVector s = FloatVector.fromArray(SPECIES, y, yOff + j);
                s = a0.fma(FloatVector.fromArray(SPECIES, b, r0 + j), s);
                s = a1.fma(FloatVector.fromArray(SPECIES, b, r1 + j), s);
                s = a2.fma(FloatVector.fromArray(SPECIES, b, r2 + j), s);
                s = a3.fma(FloatVector.fromArray(SPECIES, b, r3 + j), s);
                s.intoArray(y, yOff + j);
            }
            for (; j < n; j++) y[yOff + j] += x0 * b[r0 + j] + x1 * b[r1 + j] + x2 * b[r2 + j] + x3 * b[r3 + j];
        }
        for (; p < p1; p++) {
            float x = a[aOff + p * aStep];
            int r = bOff + p * ldb;
            for (int j = 0; j < n; j++) y[yOff + j] += x * b[r + j];
        }
    }

    /** Rows {@code i .. i+4} of C over columns {@code j0 .. j1}: each B vector loaded serves four rows. */
    private static void rowForm4(boolean transA, int i, int j0, int j1, int k, float alpha,
                                 float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                                 float beta, float[] c, int cOff, int ldc) {
        // A(i+r, p) sits at a0 + r*rowStep + p*aStep.
        int aStep = transA ? lda : 1, rowStep = transA ? 1 : lda;
        int a0 = transA ? aOff + i : aOff + i * lda, a1 = a0 + rowStep, a2 = a1 + rowStep, a3 = a2 + rowStep;
        int c0 = cOff + i * ldc, c1 = c0 + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
        VectorMask<Float> all = SPECIES.maskAll(true);
        int j = j0;
        for (; j + 2 * V <= j1; j += 2 * V) {
            FloatVector s00 = FloatVector.broadcast(SPECIES, 0f), s01 = s00, s10 = s00, s11 = s00;
            FloatVector s20 = s00, s21 = s00, s30 = s00, s31 = s00;
            for (int p = 0, ao = 0, bi = bOff + j; p < k; p++, ao += aStep, bi += ldb) {
                FloatVector b0 = FloatVector.fromArray(SPECIES, b, bi), b1 = FloatVector.fromArray(SPECIES, b, bi + V);
                FloatVector x = FloatVector.broadcast(SPECIES, a[a0 + ao]);
                s00 = x.fma(b0, s00);
                s01 = x.fma(b1, s01);
                x = FloatVector.broadcast(SPECIES, a[a1 + ao]);
                s10 = x.fma(b0, s10);
                s11 = x.fma(b1, s11);
                x = FloatVector.broadcast(SPECIES, a[a2 + ao]);
                s20 = x.fma(b0, s20);
                s21 = x.fma(b1, s21);
                x = FloatVector.broadcast(SPECIES, a[a3 + ao]);
                s30 = x.fma(b0, s30);
                s31 = x.fma(b1, s31);
            }
            storeRow(s00, alpha, beta, c, c0 + j, all);
            storeRow(s01, alpha, beta, c, c0 + j + V, all);
            storeRow(s10, alpha, beta, c, c1 + j, all);
            storeRow(s11, alpha, beta, c, c1 + j + V, all);
            storeRow(s20, alpha, beta, c, c2 + j, all);
            storeRow(s21, alpha, beta, c, c2 + j + V, all);
            storeRow(s30, alpha, beta, c, c3 + j, all);
            storeRow(s31, alpha, beta, c, c3 + j + V, all);
        }
        for (; j < j1; j += V) {
            VectorMask<Float> mask = SPECIES.indexInRange(j, j1);
            FloatVector s0 = FloatVector.broadcast(SPECIES, 0f), s1 = s0, s2 = s0, s3 = s0;
            for (int p = 0, ao = 0, bi = bOff + j; p < k; p++, ao += aStep, bi += ldb) {
                FloatVector bv = FloatVector.fromArray(SPECIES, b, bi, mask);
                s0 = FloatVector.broadcast(SPECIES, a[a0 + ao]).fma(bv, s0);
                s1 = FloatVector.broadcast(SPECIES, a[a1 + ao]).fma(bv, s1);
                s2 = FloatVector.broadcast(SPECIES, a[a2 + ao]).fma(bv, s2);
                s3 = FloatVector.broadcast(SPECIES, a[a3 + ao]).fma(bv, s3);
            }
            storeRow(s0, alpha, beta, c, c0 + j, mask);
            storeRow(s1, alpha, beta, c, c1 + j, mask);
            storeRow(s2, alpha, beta, c, c2 + j, mask);
            storeRow(s3, alpha, beta, c, c3 + j, mask);
        }
    }

    /** Row i of C over columns {@code j0 .. j1}, op(B) = B (row p of B contiguous). */
    private static void rowForm(boolean transA, int i, int j0, int j1, int k, float alpha,
                                float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                                float beta, float[] c, int cOff, int ldc) {
        int aBase = transA ? aOff + i : aOff + i * lda, aStep = transA ? lda : 1, co = cOff + i * ldc;
        int j = j0;
        for (; j + 4 * V <= j1; j += 4 * V) {
            FloatVector s0 = FloatVector.broadcast(SPECIES, 0f), s1 = s0, s2 = s0, s3 = s0;
            for (int p = 0, ai = aBase, bi = bOff + j; p < k; p++, ai += aStep, bi += ldb) {
                FloatVector av = FloatVector.broadcast(SPECIES, a[ai]);
                s0 = av.fma(FloatVector.fromArray(SPECIES, b, bi), s0);
                s1 = av.fma(FloatVector.fromArray(SPECIES, b, bi + V), s1);
                s2 = av.fma(FloatVector.fromArray(SPECIES, b, bi + 2 * V), s2);
                s3 = av.fma(FloatVector.fromArray(SPECIES, b, bi + 3 * V), s3);
            }
            storeRow(s0, alpha, beta, c, co + j, SPECIES.maskAll(true));
            storeRow(s1, alpha, beta, c, co + j + V, SPECIES.maskAll(true));
            storeRow(s2, alpha, beta, c, co + j + 2 * V, SPECIES.maskAll(true));
            storeRow(s3, alpha, beta, c, co + j + 3 * V, SPECIES.maskAll(true));
        }
        for (; j < j1; j += V) {
            // One vector at a time, the last one masked: no scalar tail for the columns.
            VectorMask<Float> mask = SPECIES.indexInRange(j, j1);
            FloatVector s = FloatVector.broadcast(SPECIES, 0f);
            for (int p = 0, ai = aBase, bi = bOff + j; p < k; p++, ai += aStep, bi += ldb)
                s = FloatVector.broadcast(SPECIES, a[ai]).fma(FloatVector.fromArray(SPECIES, b, bi, mask), s);
            storeRow(s, alpha, beta, c, co + j, mask);
        }
    }

    private static void storeRow(FloatVector s, float alpha, float beta, float[] c, int off, VectorMask<Float> mask) {
        FloatVector v = s.mul(alpha);
        if (beta != 0) v = FloatVector.fromArray(SPECIES, c, off, mask).fma(FloatVector.broadcast(SPECIES, beta), v);
        v.intoArray(c, off, mask);
    }

    /** C[i0..i1, j0..j1] as dot products, k in chunks; beta applies on the first chunk only. */
    private static void dotForm(boolean transA, boolean transB, int i0, int i1, int j0, int j1, int k, float alpha,
                                float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                                float beta, float[] c, int cOff, int ldc) {
        if (k == 0) {
            for (int i = i0; i < i1; i++)
                for (int j = j0; j < j1; j++) c[cOff + i * ldc + j] = beta == 0 ? 0f : beta * c[cOff + i * ldc + j];
            return;
        }
        Workspace ws = Workspace.acquire();
        try {
            for (int p0 = 0; p0 < k; p0 += K_CHUNK) {
                int kc = Math.min(K_CHUNK, k - p0);
                float passBeta = p0 == 0 ? beta : 1f;
                float[] cols = b;
                int colBase = bOff + p0, colStep = ldb;
                if (!transB) {
                    // Column j of B is strided by ldb: gather this chunk of every needed column once.
                    cols = ws.b((j1 - j0) * kc);
                    for (int j = j0; j < j1; j++)
                        for (int p = 0; p < kc; p++) cols[(j - j0) * kc + p] = b[bOff + (p0 + p) * ldb + j];
                    colBase = -j0 * kc;
                    colStep = kc;
                }
                for (int i = i0; i < i1; i++) {
                    float[] row = a;
                    int rowOff = aOff + i * lda + p0;
                    if (transA) {
                        row = ws.c(kc);
                        for (int p = 0; p < kc; p++) row[p] = a[aOff + (p0 + p) * lda + i];
                        rowOff = 0;
                    }
                    for (int j = j0; j < j1; j++) {
                        float s = alpha * VectorMath.dot(row, rowOff, cols, colBase + j * colStep, kc);
                        int o = cOff + i * ldc + j;
                        c[o] = passBeta == 0 ? s : s + passBeta * c[o];
                    }
                }
            }
        } finally {
            Workspace.release(ws);
        }
    }
}
