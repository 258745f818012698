package dev.jumbo.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The register-tiled inner loop of {@link Gemm}: an {@link #MR} x {@link #NR} block of C from
 * packed panels of A ({@code MR} values per k step) and B ({@code NR} values per k step).
 *
 * <p>{@code NR} is two vectors of the preferred species (32 floats with AVX-512, 16 with AVX2),
 * so each k step costs two vector loads of B, {@code MR} broadcasts of A and {@code 2*MR}
 * fused multiply-adds into accumulators that never leave registers. Six rows keep 12
 * independent accumulator chains: enough to hide FMA latency on one or two FMA pipes while
 * leaving registers free on 16-register (AVX2) machines as well as 32-register (AVX-512) ones.
 */
final class GemmMicroKernel {
    static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    static final int V = SPECIES.length();
    /** Rows of C per tile (broadcast side). */
    static final int MR = 6;
    /** Columns of C per tile (vector side). */
    static final int NR = 2 * V;
    /** Written (rarely) only so the JIT keeps the loads that touch C; never read. */
    @SuppressWarnings("unused")
    private static float sink;

    private GemmMicroKernel() {}

    /**
     * {@code C[0..MR, 0..NR] = acc} or, with {@code accumulate}, {@code C += acc}, where
     * {@code acc = sum_p A[p] (x) B[p]} over {@code kc} steps; row r of A's step p sits at
     * {@code a[aOff + r*aRow + p*aStep]}, B's step at {@code bp[bOff + p*NR ..]}. A packed panel
     * has {@code aRow = 1, aStep = MR}; A read in place has {@code aRow = lda, aStep = 1} (or,
     * transposed, {@code aRow = 1, aStep = lda}): broadcasts cost the same from any address, so
     * A need not be packed when each of its values is used against only a few B panels.
     * Without {@code accumulate} C is not read. The whole tile must be inside {@code c}.
     *
     * <p>The stores are written out inline on purpose: passing the accumulators to a helper
     * method made C2 box one of them on every k step (a 4x slowdown, seen in the GC log).
     */
    static void tile(int kc, float[] ap, int aOff, int aRow, int aStep, float[] bp, int bOff,
                     boolean accumulate, float[] c, int cOff, int ldc) {
        var S = SPECIES;
        FloatVector c00 = FloatVector.broadcast(S, 0f), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
        FloatVector c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
        int r1 = aRow, r2 = 2 * aRow, r3 = 3 * aRow, r4 = 4 * aRow, r5 = 5 * aRow;
        int o0 = cOff, o1 = o0 + ldc, o2 = o1 + ldc, o3 = o2 + ldc, o4 = o3 + ldc, o5 = o4 + ldc;
        // Touch C's lines before the k loop so their cache misses overlap the arithmetic instead
        // of stalling the stores at the end (a software prefetch; about 5% at n = 1024).
        float touch = c[o0] + c[o0 + NR - 1] + c[o1] + c[o1 + NR - 1] + c[o2] + c[o2 + NR - 1]
                + c[o3] + c[o3 + NR - 1] + c[o4] + c[o4 + NR - 1] + c[o5] + c[o5 + NR - 1];
        for (int p = 0; p < kc; p++) {
            int ai = aOff + p * aStep, bi = bOff + p * NR;
            FloatVector b0 = FloatVector.fromArray(S, bp, bi);
            FloatVector b1 = FloatVector.fromArray(S, bp, bi + V);
            FloatVector a = FloatVector.broadcast(S, ap[ai]);
            c00 = a.fma(b0, c00);
            c01 = a.fma(b1, c01);
            a = FloatVector.broadcast(S, ap[ai + r1]);
            c10 = a.fma(b0, c10);
            c11 = a.fma(b1, c11);
            a = FloatVector.broadcast(S, ap[ai + r2]);
            c20 = a.fma(b0, c20);
            c21 = a.fma(b1, c21);
            a = FloatVector.broadcast(S, ap[ai + r3]);
            c30 = a.fma(b0, c30);
            c31 = a.fma(b1, c31);
            a = FloatVector.broadcast(S, ap[ai + r4]);
            c40 = a.fma(b0, c40);
            c41 = a.fma(b1, c41);
            a = FloatVector.broadcast(S, ap[ai + r5]);
            c50 = a.fma(b0, c50);
            c51 = a.fma(b1, c51);
        }
        if (touch == 0x1p-149f) sink = touch; // a use of the touched values, so they are loaded at all
        if (accumulate) {
            c00.add(FloatVector.fromArray(S, c, o0)).intoArray(c, o0);
            c01.add(FloatVector.fromArray(S, c, o0 + V)).intoArray(c, o0 + V);
            c10.add(FloatVector.fromArray(S, c, o1)).intoArray(c, o1);
            c11.add(FloatVector.fromArray(S, c, o1 + V)).intoArray(c, o1 + V);
            c20.add(FloatVector.fromArray(S, c, o2)).intoArray(c, o2);
            c21.add(FloatVector.fromArray(S, c, o2 + V)).intoArray(c, o2 + V);
            c30.add(FloatVector.fromArray(S, c, o3)).intoArray(c, o3);
            c31.add(FloatVector.fromArray(S, c, o3 + V)).intoArray(c, o3 + V);
            c40.add(FloatVector.fromArray(S, c, o4)).intoArray(c, o4);
            c41.add(FloatVector.fromArray(S, c, o4 + V)).intoArray(c, o4 + V);
            c50.add(FloatVector.fromArray(S, c, o5)).intoArray(c, o5);
            c51.add(FloatVector.fromArray(S, c, o5 + V)).intoArray(c, o5 + V);
        } else {
            c00.intoArray(c, o0);
            c01.intoArray(c, o0 + V);
            c10.intoArray(c, o1);
            c11.intoArray(c, o1 + V);
            c20.intoArray(c, o2);
            c21.intoArray(c, o2 + V);
            c30.intoArray(c, o3);
            c31.intoArray(c, o3 + V);
            c40.intoArray(c, o4);
            c41.intoArray(c, o4 + V);
            c50.intoArray(c, o5);
            c51.intoArray(c, o5 + V);
        }
    }
}
