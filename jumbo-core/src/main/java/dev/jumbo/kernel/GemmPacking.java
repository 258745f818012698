package dev.jumbo.kernel;

import static dev.jumbo.kernel.GemmMicroKernel.MR;
import static dev.jumbo.kernel.GemmMicroKernel.NR;
import static dev.jumbo.kernel.GemmMicroKernel.SPECIES;
import static dev.jumbo.kernel.GemmMicroKernel.V;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

/**
 * Copies blocks of op(A) and op(B) into the layout {@link GemmMicroKernel} streams through:
 * A as micro-panels of {@code MR} rows (k step p at {@code p*MR}), B as micro-panels of
 * {@code NR} columns (k step p at {@code p*NR}), each padded with zeros to a full panel. This is
 * where the transposes are absorbed: the micro-kernel only ever sees one layout.
 */
final class GemmPacking {
    /** The first MR lanes: one k step of an A panel. Only usable when a vector holds MR floats. */
    private static final VectorMask<Float> MR_LANES = V >= MR ? VectorMask.fromLong(SPECIES, (1L << MR) - 1) : null;
    /** Scatter offsets that put V consecutive k values of one row (or column) MR (or NR) floats apart. */
    private static final int[] STRIDE_MR = new int[V], STRIDE_NR = new int[V];

    static {
        for (int l = 0; l < V; l++) {
            STRIDE_MR[l] = l * MR;
            STRIDE_NR[l] = l * NR;
        }
    }

    private GemmPacking() {}

    /**
     * Packs {@code alpha * op(A)[i0 .. i0+mc, p0 .. p0+kc]} into {@code dst}: panel {@code r/MR}
     * starts at {@code (r/MR) * MR * kc}; up to one vector past the packed block may be overwritten
     * too. Folding alpha in here keeps it out of the inner loop.
     * Packing is a measurable share of the time when n is small (each packed value is used n
     * times), hence the vector copies below rather than a scalar element-by-element loop.
     */
    static void packA(boolean transA, float[] a, int aOff, int lda, int i0, int mc, int p0, int kc,
                      float alpha, float[] dst) {
        for (int ir = 0; ir < mc; ir += MR) {
            int rows = Math.min(MR, mc - ir), d = ir * kc;
            if (transA && MR_LANES != null) {
                // op(A) row i is column i of the stored k x m matrix: each k step is a run of MR floats.
                VectorMask<Float> load = rows == MR ? MR_LANES : VectorMask.fromLong(SPECIES, (1L << rows) - 1);
                int p = 0, src = aOff + p0 * lda + i0 + ir;
                // Whole-vector loads and stores where they stay inside both arrays: the V - MR extra
                // lanes land on k steps (or the next panel) written after them, so they do no harm,
                // and masked accesses cost several times more here.
                if (rows == MR)
                    for (; p < kc && src + V <= a.length && d + p * MR + V <= dst.length; p++, src += lda)
                        FloatVector.fromArray(SPECIES, a, src).mul(alpha).intoArray(dst, d + p * MR);
                for (; p < kc; p++, src += lda)
                    FloatVector.fromArray(SPECIES, a, src, load).mul(alpha).intoArray(dst, d + p * MR, MR_LANES);
            } else if (transA) {
                for (int p = 0; p < kc; p++) {
                    int src = aOff + (p0 + p) * lda + i0 + ir, o = d + p * MR;
                    for (int r = 0; r < MR; r++) dst[o + r] = r < rows ? alpha * a[src + r] : 0f;
                }
            } else {
                // Each row is contiguous along k: read V steps at once and scatter them MR apart.
                for (int r = 0; r < MR; r++) {
                    if (r >= rows) {
                        for (int p = 0; p < kc; p++) dst[d + p * MR + r] = 0f;
                        continue;
                    }
                    int src = aOff + (i0 + ir + r) * lda + p0, p = 0;
                    for (; p + V <= kc; p += V)
                        FloatVector.fromArray(SPECIES, a, src + p).mul(alpha).intoArray(dst, d + p * MR + r, STRIDE_MR, 0);
                    for (; p < kc; p++) dst[d + p * MR + r] = alpha * a[src + p];
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
        packB(transB, b, bOff, ldb, p0, kc, j0, nc, panelFrom, panelTo, dst, 0);
    }

    /** {@link #packB} with panel {@code q} at {@code dstOff + q * NR * kc}. */
    static void packB(boolean transB, float[] b, int bOff, int ldb, int p0, int kc, int j0, int nc,
                      int panelFrom, int panelTo, float[] dst, int dstOff) {
        for (int q = panelFrom; q < panelTo; q++) {
            int jr = q * NR, cols = Math.min(NR, nc - jr), d = dstOff + q * NR * kc;
            if (transB) {
                // op(B) column j is row j of the stored n x k matrix: read V steps, scatter them NR apart.
                for (int col = 0; col < cols; col++) {
                    int src = bOff + (j0 + jr + col) * ldb + p0, p = 0;
                    for (; p + V <= kc; p += V)
                        FloatVector.fromArray(SPECIES, b, src + p).intoArray(dst, d + p * NR + col, STRIDE_NR, 0);
                    for (; p < kc; p++) dst[d + p * NR + col] = b[src + p];
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
