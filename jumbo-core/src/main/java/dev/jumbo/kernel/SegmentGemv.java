package dev.jumbo.kernel;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Matrix-vector and matrix-matrix products whose weights lie in a {@link MemorySegment} (a
 * memory-mapped model file or a heap array wrapped as one), row-major {@code [rows, cols]},
 * against F32 activations in arrays. Rows are split across the pool's threads, so decoding one
 * token streams each weight matrix through the cores once.
 */
public final class SegmentGemv {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int V = S.length();
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);

    private SegmentGemv() {}

    /** {@code y[yOff + r] = sum_c w[r, c] x[xOff + c]} for F32 weights starting at byte {@code at}. */
    public static void f32(MemorySegment w, long at, int rows, int cols, float[] x, int xOff, float[] y, int yOff) {
        Parallel.forRange(rows, cols, (from, to) -> {
            for (int r = from; r < to; r++) y[yOff + r] = dotF32(w, at + 4L * r * cols, x, xOff, cols);
        });
    }

    /**
     * {@code y[i, r] = sum_c w[r, c] x[i, c]} for {@code n} activation rows {@code x [n, cols]} into
     * {@code y [n, rows]}: each weight row is read once for all n activations.
     */
    public static void f32Rows(MemorySegment w, long at, int rows, int cols, float[] x, int n, float[] y) {
        Parallel.forRange(rows, (long) cols * n, (from, to) -> {
            for (int r = from; r < to; r++)
                for (int i = 0; i < n; i++) y[i * rows + r] = dotF32(w, at + 4L * r * cols, x, i * cols, cols);
        });
    }

    /** One F32 weight row (from byte {@code at}) times {@code x[xOff .. xOff + n)}. */
    static float dotF32(MemorySegment w, long at, float[] x, int xOff, int n) {
        FloatVector s0 = FloatVector.zero(S), s1 = s0;
        int i = 0;
        for (int bound = n - 2 * V; i <= bound; i += 2 * V) {
            s0 = FloatVector.fromMemorySegment(S, w, at + 4L * i, LE).fma(FloatVector.fromArray(S, x, xOff + i), s0);
            s1 = FloatVector.fromMemorySegment(S, w, at + 4L * (i + V), LE).fma(FloatVector.fromArray(S, x, xOff + i + V), s1);
        }
        for (int bound = S.loopBound(n); i < bound; i += V)
            s0 = FloatVector.fromMemorySegment(S, w, at + 4L * i, LE).fma(FloatVector.fromArray(S, x, xOff + i), s0);
        float s = VectorMath.lanesSum(s0.add(s1));
        for (; i < n; i++) s += w.get(F32, at + 4L * i) * x[xOff + i];
        return s;
    }
}
