package dev.jumbo.kernel;

import static dev.jumbo.kernel.GemmMicroKernel.MR;
import static dev.jumbo.kernel.GemmMicroKernel.NR;
import static dev.jumbo.kernel.GemmMicroKernel.SPECIES;
import static dev.jumbo.kernel.GemmMicroKernel.V;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;

/**
 * Copies blocks of op(A) and op(B) into the layout {@link GemmMicroKernel} streams through:
 * A as micro-panels of {@code MR} rows (k step p at {@code p*MR}), B as micro-panels of
 * {@code NR} columns (k step p at {@code p*NR}), each padded with zeros to a full panel. This is
 * where the transposes are absorbed: the micro-kernel only ever sees one layout.
 */
final class GemmPacking {
    private GemmPacking() {}

    /**
     * Packs {@code alpha * op(A)[i0 .. i0+mc, p0 .. p0+kc]} into {@code dst}: panel {@code r/MR}
     * starts at {@code (r/MR) * MR * kc}. Folding alpha in here keeps it out of the inner loop.
     */
    static void packA(boolean transA, float[] a, int aOff, int lda, int i0, int mc, int p0, int kc,
                      float alpha, float[] dst) {
        for (int ir = 0; ir < mc; ir += MR) {
            int rows = Math.min(MR, mc - ir), d = ir * kc;
            if (transA) {
                // op(A) row i is column i of the stored k x m matrix: each k step is a contiguous run.
                for (int p = 0; p < kc; p++) {
                    int src = aOff + (p0 + p) * lda + i0 + ir, o = d + p * MR;
                    for (int r = 0; r < rows; r++) dst[o + r] = alpha * a[src + r];
                    for (int r = rows; r < MR; r++) dst[o + r] = 0f;
                }
            } else if (rows == MR) {
                // Walk the MR rows side by side so the writes are sequential.
                int s = aOff + (i0 + ir) * lda + p0;
                for (int p = 0, o = d; p < kc; p++, o += MR) {
                    int src = s + p;
                    for (int r = 0; r < MR; r++) dst[o + r] = alpha * a[src + r * lda];
                }
            } else {
                for (int r = 0; r < MR; r++) {
                    if (r < rows) {
                        int src = aOff + (i0 + ir + r) * lda + p0;
                        for (int p = 0; p < kc; p++) dst[d + p * MR + r] = alpha * a[src + p];
                    } else {
                        for (int p = 0; p < kc; p++) dst[d + p * MR + r] = 0f;
                    }
                }
            }
        }
    }

    /**
     * Packs micro-panels {@code panelFrom .. panelTo} of {@code op(B)[p0 .. p0+kc, j0 .. j0+nc]}
     * into {@code dst}: panel {@code q} starts at {@code q * NR * kc}.
     */
    static void packB(boolean transB, float[] b, int bOff, int ldb, int p0, int kc, int j0, int nc,
                      int panelFrom, int panelTo, float[] dst) {
        for (int q = panelFrom; q < panelTo; q++) {
            int jr = q * NR, cols = Math.min(NR, nc - jr), d = q * NR * kc;
            if (transB) {
                // op(B) column j is row j of the stored n x k matrix: read it contiguously.
                for (int col = 0; col < cols; col++) {
                    int src = bOff + (j0 + jr + col) * ldb + p0;
                    for (int p = 0; p < kc; p++) dst[d + p * NR + col] = b[src + p];
                }
                if (cols < NR)
                    for (int p = 0; p < kc; p++) Arrays.fill(dst, d + p * NR + cols, d + (p + 1) * NR, 0f);
            } else if (cols == NR) {
                int src = bOff + p0 * ldb + j0 + jr;
                for (int p = 0; p < kc; p++, src += ldb) {
                    FloatVector.fromArray(SPECIES, b, src).intoArray(dst, d + p * NR);
                    FloatVector.fromArray(SPECIES, b, src + V).intoArray(dst, d + p * NR + V);
                }
            } else {
                int src = bOff + p0 * ldb + j0 + jr;
                for (int p = 0; p < kc; p++, src += ldb) {
                    System.arraycopy(b, src, dst, d + p * NR, cols);
                    Arrays.fill(dst, d + p * NR + cols, d + (p + 1) * NR, 0f);
                }
            }
        }
    }
}
