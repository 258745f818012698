package dev.jumbo.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Elementwise and reduction loops over contiguous float ranges: the building blocks the tensor
 * layer uses once it has resolved shapes and broadcasting.
 *
 * <p>Each loop runs whole vectors of the preferred species and finishes with a scalar tail;
 * relu and its gradient split long ranges over the compute threads.
 * Elementwise results are bit-identical to the plain loop (one rounding per operation, except
 * {@link #axpy}, which may fuse the multiply-add, and {@link #exp}, which is within a couple of
 * ulps of {@link Math#exp}); reductions ({@link #dot}, {@link #sum}, the softmaxes) sum in a
 * different order, so they agree with a plain loop to rounding. Output ranges may coincide with
 * an input range (in-place) but must not otherwise overlap one.
 */
public final class VectorMath {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int V = S.length();
    /** {@link #sum} lets each float lane add this many values before the block total moves into a double. */
    private static final int SUM_LANE_TERMS = 64;
    private static final int SUM_BLOCK = SUM_LANE_TERMS * V;
    /** Row-wise work (in elements) below which a softmax stays on the calling thread. */
    private static final long ROW_COST = 8;
    /** Long elementwise ranges split over the compute threads in blocks of this many elements (whole vectors). */
    private static final int BLOCK = 4096;

    private VectorMath() {}

    /** {@code y[i] = a[i] + b[i]}. */
    public static void add(float[] a, int aOff, float[] b, int bOff, float[] y, int yOff, int n) {
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += V)
            FloatVector.fromArray(S, a, aOff + i).add(FloatVector.fromArray(S, b, bOff + i)).intoArray(y, yOff + i);
        for (; i < n; i++) y[yOff + i] = a[aOff + i] + b[bOff + i];
    }

    /** {@code y[i] = a[i] - b[i]}. */
    public static void sub(float[] a, int aOff, float[] b, int bOff, float[] y, int yOff, int n) {
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += V)
            FloatVector.fromArray(S, a, aOff + i).sub(FloatVector.fromArray(S, b, bOff + i)).intoArray(y, yOff + i);
        for (; i < n; i++) y[yOff + i] = a[aOff + i] - b[bOff + i];
    }

    /** {@code y[i] = a[i] * b[i]}. */
    public static void mul(float[] a, int aOff, float[] b, int bOff, float[] y, int yOff, int n) {
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += V)
            FloatVector.fromArray(S, a, aOff + i).mul(FloatVector.fromArray(S, b, bOff + i)).intoArray(y, yOff + i);
        for (; i < n; i++) y[yOff + i] = a[aOff + i] * b[bOff + i];
    }

    /** {@code y[i] = a[i] / b[i]} (IEEE division: {@code x/0} is an infinity or NaN, never an exception). */
    public static void div(float[] a, int aOff, float[] b, int bOff, float[] y, int yOff, int n) {
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += V)
            FloatVector.fromArray(S, a, aOff + i).div(FloatVector.fromArray(S, b, bOff + i)).intoArray(y, yOff + i);
        for (; i < n; i++) y[yOff + i] = a[aOff + i] / b[bOff + i];
    }

    /** {@code y[i] += alpha * x[i]} (the vector part uses a fused multiply-add). */
    public static void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        FloatVector va = FloatVector.broadcast(S, alpha);
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += V)
            FloatVector.fromArray(S, x, xOff + i).fma(va, FloatVector.fromArray(S, y, yOff + i)).intoArray(y, yOff + i);
        for (; i < n; i++) y[yOff + i] += alpha * x[xOff + i];
    }

    /** {@code y[i] = alpha * x[i]}. */
    public static void scale(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += V)
            FloatVector.fromArray(S, x, xOff + i).mul(alpha).intoArray(y, yOff + i);
        for (; i < n; i++) y[yOff + i] = alpha * x[xOff + i];
    }

    /** {@code y[i] = value}. */
    public static void fill(float value, float[] y, int yOff, int n) {
        java.util.Arrays.fill(y, yOff, yOff + n, value);
    }

    /** {@code y[i] = max(x[i], 0)}; NaN stays NaN. Long ranges split over the compute threads. */
    public static void relu(float[] x, int xOff, float[] y, int yOff, int n) {
        forBlocks(n, (from, to) -> {
            int i = from;
            for (int bound = from + S.loopBound(to - from); i < bound; i += V)
                FloatVector.fromArray(S, x, xOff + i).max(0f).intoArray(y, yOff + i);
            for (; i < to; i++) y[yOff + i] = Math.max(x[xOff + i], 0f);
        });
    }

    /**
     * The relu gradient: {@code dx[i] = x[i] > 0 ? g[i] : 0} (branch-free, so random signs cost
     * nothing). Long ranges split over the compute threads.
     */
    public static void reluBackward(float[] x, int xOff, float[] g, int gOff, float[] dx, int dxOff, int n) {
        forBlocks(n, (from, to) -> {
            int i = from;
            FloatVector zero = FloatVector.zero(S);
            for (int bound = from + S.loopBound(to - from); i < bound; i += V) {
                var positive = FloatVector.fromArray(S, x, xOff + i).compare(VectorOperators.GT, 0f);
                zero.blend(FloatVector.fromArray(S, g, gOff + i), positive).intoArray(dx, dxOff + i);
            }
            for (; i < to; i++) dx[dxOff + i] = x[xOff + i] > 0 ? g[gOff + i] : 0f;
        });
    }

    /**
     * Runs {@code body} over [0, n) in chunks of whole {@link #BLOCK}s, in parallel from 256K
     * elements: a block counts as {@code BLOCK / 2} of {@link Parallel#forRange}'s units. Two
     * threads first beat one there on relu (25 -> 19 us; at 128K, 13 -> 16 us), and halve 1.4M
     * elements (160 -> 95 us).
     */
    private static void forBlocks(int n, Parallel.RangeBody body) {
        Parallel.forRange(Math.ceilDiv(n, BLOCK), BLOCK / 2, (b0, b1) -> body.run(b0 * BLOCK, Math.min(n, b1 * BLOCK)));
    }

    /** {@code y[i] = e^x[i]}, within a few ulps of {@link Math#exp}. */
    public static void exp(float[] x, int xOff, float[] y, int yOff, int n) {
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += V)
            FloatVector.fromArray(S, x, xOff + i).lanewise(VectorOperators.EXP).intoArray(y, yOff + i);
        for (; i < n; i++) y[yOff + i] = (float) Math.exp(x[xOff + i]);
    }

    /**
     * Sum of {@code x[off .. off+n)}, accumulated so long sums keep their precision: each float
     * lane adds {@value #SUM_LANE_TERMS} values of a block, and the block totals are added in
     * double. The error is that of a 64-term float sum, whatever n and the vector width, rather
     * than the n-term one a plain float loop would have; close to, but not bit-identical with, a
     * sum accumulated entirely in double.
     */
    public static double sum(float[] x, int off, int n) {
        double total = 0;
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; ) {
            int end = Math.min(bound, i + SUM_BLOCK);
            FloatVector acc = FloatVector.zero(S);
            for (; i < end; i += V) acc = acc.add(FloatVector.fromArray(S, x, off + i));
            total += acc.reduceLanes(VectorOperators.ADD);
        }
        for (; i < n; i++) total += x[off + i];
        return total;
    }

    /** Dot product of two ranges (four vector accumulators, then a scalar tail). */
    public static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
        int i = 0;
        for (int bound = n - 4 * V; i <= bound; i += 4 * V) {
            s0 = FloatVector.fromArray(S, a, aOff + i).fma(FloatVector.fromArray(S, b, bOff + i), s0);
            s1 = FloatVector.fromArray(S, a, aOff + i + V).fma(FloatVector.fromArray(S, b, bOff + i + V), s1);
            s2 = FloatVector.fromArray(S, a, aOff + i + 2 * V).fma(FloatVector.fromArray(S, b, bOff + i + 2 * V), s2);
            s3 = FloatVector.fromArray(S, a, aOff + i + 3 * V).fma(FloatVector.fromArray(S, b, bOff + i + 3 * V), s3);
        }
        for (int bound = S.loopBound(n); i < bound; i += V)
            s0 = FloatVector.fromArray(S, a, aOff + i).fma(FloatVector.fromArray(S, b, bOff + i), s0);
        float s = s0.add(s1).add(s2.add(s3)).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) s += a[aOff + i] * b[bOff + i];
        return s;
    }

    /**
     * Index (0-based, relative to {@code off}) of the largest of {@code x[off .. off+n)}; the
     * first one on ties. A NaN counts as larger than everything, so the first NaN wins (as in
     * NumPy's {@code argmax}). Returns -1 when {@code n == 0}.
     */
    public static int maxIndex(float[] x, int off, int n) {
        if (n <= 0) return -1;
        // A vector pass finds the maximum value (max propagates NaN), a scalar pass finds where it is.
        float max = max(x, off, n);
        if (Float.isNaN(max)) {
            for (int j = 0; j < n; j++) if (Float.isNaN(x[off + j])) return j;
        }
        for (int j = 0; j < n; j++) if (x[off + j] == max) return j;
        return 0; // unreachable: max is one of the values
    }

    /** {@code idx[idxOff + r] = }{@link #maxIndex} of row r, for {@code rows} rows of length {@code cols}. */
    public static void maxIndexRows(float[] x, int xOff, int rows, int cols, int[] idx, int idxOff) {
        Parallel.forRange(rows, (long) cols, (r0, r1) -> {
            for (int r = r0; r < r1; r++) idx[idxOff + r] = maxIndex(x, xOff + r * cols, cols);
        });
    }

    /** Softmax of each of {@code rows} rows of length {@code cols}, numerically stable (max subtracted). */
    public static void softmaxRows(float[] x, int xOff, float[] y, int yOff, int rows, int cols) {
        Parallel.forRange(rows, ROW_COST * cols, (r0, r1) -> {
            for (int r = r0; r < r1; r++) softmaxRow(x, xOff + r * cols, y, yOff + r * cols, cols);
        });
    }

    /** Log-softmax of each row: {@code x - max - log(sum(exp(x - max)))}. */
    public static void logSoftmaxRows(float[] x, int xOff, float[] y, int yOff, int rows, int cols) {
        Parallel.forRange(rows, ROW_COST * cols, (r0, r1) -> {
            for (int r = r0; r < r1; r++) logSoftmaxRow(x, xOff + r * cols, y, yOff + r * cols, cols);
        });
    }

    private static void softmaxRow(float[] x, int xo, float[] y, int yo, int cols) {
        float max = max(x, xo, cols);
        FloatVector vmax = FloatVector.broadcast(S, max), acc = FloatVector.zero(S);
        int j = 0;
        for (int bound = S.loopBound(cols); j < bound; j += V) {
            FloatVector e = FloatVector.fromArray(S, x, xo + j).sub(vmax).lanewise(VectorOperators.EXP);
            e.intoArray(y, yo + j);
            acc = acc.add(e);
        }
        double s = acc.reduceLanes(VectorOperators.ADD);
        for (; j < cols; j++) {
            float e = (float) Math.exp(x[xo + j] - max);
            y[yo + j] = e;
            s += e;
        }
        scale((float) (1.0 / s), y, yo, y, yo, cols);
    }

    private static void logSoftmaxRow(float[] x, int xo, float[] y, int yo, int cols) {
        float max = max(x, xo, cols);
        FloatVector vmax = FloatVector.broadcast(S, max), acc = FloatVector.zero(S);
        int j = 0;
        for (int bound = S.loopBound(cols); j < bound; j += V)
            acc = acc.add(FloatVector.fromArray(S, x, xo + j).sub(vmax).lanewise(VectorOperators.EXP));
        double s = acc.reduceLanes(VectorOperators.ADD);
        for (; j < cols; j++) s += Math.exp(x[xo + j] - max);
        float lse = max + (float) Math.log(s);
        FloatVector vlse = FloatVector.broadcast(S, lse);
        j = 0;
        for (int bound = S.loopBound(cols); j < bound; j += V)
            FloatVector.fromArray(S, x, xo + j).sub(vlse).intoArray(y, yo + j);
        for (; j < cols; j++) y[yo + j] = x[xo + j] - lse;
    }

    /** Largest value of the range, NaN if any is NaN (as {@link Math#max}); -infinity when empty. */
    private static float max(float[] x, int off, int n) {
        FloatVector acc = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += V) acc = acc.max(FloatVector.fromArray(S, x, off + i));
        float max = acc.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) max = Math.max(max, x[off + i]);
        return max;
    }
}
