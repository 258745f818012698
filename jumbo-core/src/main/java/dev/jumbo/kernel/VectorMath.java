package dev.jumbo.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Elementwise and reduction loops over contiguous float ranges: the building blocks the tensor
 * layer uses once it has resolved shapes and broadcasting.
 *
 * <p>Each loop runs whole vectors of the preferred species and finishes with a scalar tail;
 * relu, GELU's tanh form and their gradients split long ranges over the compute threads.
 * Elementwise results are bit-identical to the plain loop (one rounding per operation, except
 * {@link #axpy}, which may fuse the multiply-add, and {@link #exp}, which is within a couple of
 * ulps of {@link Math#exp}); reductions ({@link #dot}, {@link #sum}, the softmaxes) sum in a
 * different order, so they agree with a plain loop to rounding. Output ranges may coincide with
 * an input range (in-place) but must not otherwise overlap one.
 *
 * <p>Every result is the same whether the JIT has compiled the loop or not, so a training run
 * is bit-reproducible from its first step: the Vector API leaves the order of
 * {@code reduceLanes(ADD)} and the accuracy of {@code lanewise(EXP)} to the implementation, and
 * the interpreter and C2 do differ in both. Lanes are therefore summed in a fixed butterfly
 * ({@link #lanesSum}) and exp is computed here from exact operations ({@link #exp(FloatVector)}),
 * as is everything built on it (GELU's tanh form goes through exp, not {@code lanewise(TANH)}).
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

    static {
        // lanesSum halves vectors of at most 16 lanes (AVX-512); a wider machine needs another step there
        if (V > 16) throw new ExceptionInInitializerError("vectors of " + V + " floats are wider than lanesSum knows");
    }

    // exp: x = n ln2 + r with |r| <= ln2/2, exp(r) by a degree-7 polynomial (Cephes' expf
    // coefficients), times 2^n applied in two halves so that results down to the subnormals
    // come out right. Inputs are clamped first: exp(89) is already +infinity, exp(-104) rounds to 0.
    private static final float EXP_MAX = 89f, EXP_MIN = -104f, LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;
    /** 1.5 * 2^23: adding and subtracting it rounds a float below 2^22 to the nearest integer. */
    private static final float ROUNDER = 12582912f;
    private static final float P0 = 1.9875691500e-4f, P1 = 1.3981999507e-3f, P2 = 8.3334519073e-3f,
            P3 = 4.1665795894e-2f, P4 = 1.6666665459e-1f, P5 = 5.0000001201e-1f;
    private static final VectorSpecies<Integer> IS = IntVector.SPECIES_PREFERRED;

    private VectorMath() {}

    /**
     * The sum of v's lanes, always added in the same order (a butterfly), compiled or not. Up to 16
     * lanes the butterfly's lane 0 is computed by halving: lane i of each half-width step is lanes i
     * and i + half of the step before, the same additions in the same order; the halves are
     * register extracts (about 3 ns), where rearranging by shuffles loaded from arrays took 55 ns,
     * as much as a 768-wide dot product itself.
     */
    static float lanesSum(FloatVector v) {
        if (V == 16) v = ((FloatVector) v.reinterpretShape(FloatVector.SPECIES_256, 0)).add((FloatVector) v.reinterpretShape(FloatVector.SPECIES_256, 1));
        if (V >= 8) v = ((FloatVector) v.reinterpretShape(FloatVector.SPECIES_128, 0)).add((FloatVector) v.reinterpretShape(FloatVector.SPECIES_128, 1));
        if (V >= 4) v = ((FloatVector) v.reinterpretShape(FloatVector.SPECIES_64, 0)).add((FloatVector) v.reinterpretShape(FloatVector.SPECIES_64, 1));
        return V == 1 ? v.lane(0) : v.lane(0) + v.lane(1);
    }

    /** exp of each lane, from exact IEEE operations only (see the constants above). */
    static FloatVector exp(FloatVector x) {
        x = x.min(V_EXP_MAX).max(V_EXP_MIN); // NaN stays NaN
        FloatVector n = x.mul(V_LOG2E).add(V_ROUNDER).sub(V_ROUNDER);
        FloatVector r = n.fma(V_MINUS_LN2_HI, x);
        r = n.fma(V_MINUS_LN2_LO, r);
        FloatVector p = V_P0.fma(r, V_P1).fma(r, V_P2).fma(r, V_P3).fma(r, V_P4).fma(r, V_P5);
        p = p.fma(r.mul(r), r).add(V_ONE);
        IntVector ni = (IntVector) n.convertShape(VectorOperators.F2I, IS, 0);
        IntVector half = ni.lanewise(VectorOperators.ASHR, 1);
        FloatVector s1 = half.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector s2 = ni.sub(half).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return p.mul(s1).mul(s2);
    }

    // exp's constants as vectors made once: broadcast on every call, they were allocated wherever
    // the JIT ran out of inlining budget (a softmax or SwiGLU inlined into a large caller)
    private static final FloatVector V_EXP_MAX = c(EXP_MAX), V_EXP_MIN = c(EXP_MIN), V_LOG2E = c(LOG2E), V_ROUNDER = c(ROUNDER),
            V_MINUS_LN2_HI = c(-LN2_HI), V_MINUS_LN2_LO = c(-LN2_LO), V_P0 = c(P0), V_P1 = c(P1), V_P2 = c(P2), V_P3 = c(P3),
            V_P4 = c(P4), V_P5 = c(P5), V_ONE = c(1f);

    private static FloatVector c(float value) {
        return FloatVector.broadcast(S, value);
    }

    /** The same computation as {@link #exp(FloatVector)} for one value, so tails match the vector lanes. */
    static float exp(float x) {
        x = Math.max(Math.min(x, EXP_MAX), EXP_MIN);
        float n = x * LOG2E + ROUNDER - ROUNDER;
        float r = Math.fma(n, -LN2_HI, x);
        r = Math.fma(n, -LN2_LO, r);
        float p = Math.fma(Math.fma(Math.fma(Math.fma(Math.fma(P0, r, P1), r, P2), r, P3), r, P4), r, P5);
        p = Math.fma(p, r * r, r) + 1f;
        int ni = (int) n, half = ni >> 1;
        return p * Float.intBitsToFloat((half + 127) << 23) * Float.intBitsToFloat((ni - half + 127) << 23);
    }

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
        forBlocks(n, 1, body);
    }

    /** {@link #forBlocks(int, Parallel.RangeBody)} for a loop {@code cost} times as heavy per element as relu. */
    private static void forBlocks(int n, int cost, Parallel.RangeBody body) {
        Parallel.forRange(Math.ceilDiv(n, BLOCK), (long) cost * BLOCK / 2, (b0, b1) -> body.run(b0 * BLOCK, Math.min(n, b1 * BLOCK)));
    }

    // GELU, tanh form: 0.5 x (1 + tanh(u)) with u = sqrt(2/pi) (x + 0.044715 x^3). Since
    // 1 + tanh(u) = 2 sigmoid(2u), it is x / (1 + e) with e = exp(-2u) = exp(-x (G0 + G1 x^2)):
    // one exp and one division, and no cancellation near 0 (1 + tanh(u) is never formed).
    // Its derivative is s + x s (1 - s) (G0 + 3 G1 x^2) with s = 1 / (1 + e), and
    // s (1 - s) = 1 / (2 + e + 1/e) stays finite (and goes to 0) when e under- or overflows.
    private static final float G0 = (float) (2 * Math.sqrt(2 / Math.PI)), G1 = (float) (2 * Math.sqrt(2 / Math.PI) * 0.044715);
    /** Beyond this |x| the derivative is exactly 0 or 1; clamping keeps x^3 from overflowing into inf * 0. */
    private static final float GELU_FLAT = 1e6f;
    /** geluTanh's cost per element relative to relu, for splitting over threads (an exp, a division). */
    private static final int GELU_COST = 8;

    /** GELU's tanh form of one value: the same operations as the vector lanes of {@link #geluTanh(float[], int, float[], int, int)}. */
    public static float geluTanh(float x) {
        float e = exp(-x * Math.fma(G1, x * x, G0));
        return x / (1f + e);
    }

    /** The derivative of {@link #geluTanh(float)} at {@code x}: the same operations as the vector lanes of {@link #geluTanhBackward}. */
    public static float geluTanhDerivative(float x) {
        x = Math.max(Math.min(x, GELU_FLAT), -GELU_FLAT);
        float x2 = x * x;
        float e = exp(-x * Math.fma(G1, x2, G0));
        float s = 1f / (1f + e), q = 1f / (2f + e + 1f / e);
        return Math.fma(x * q, Math.fma(3 * G1, x2, G0), s);
    }

    /**
     * {@code y[i] = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))} for {@code x = x[i]}
     * (GPT-2's GELU), within a few ulps of the double-precision definition; the same bits
     * whether compiled or not, and in a vector lane or the tail. Long ranges split over the
     * compute threads.
     */
    public static void geluTanh(float[] x, int xOff, float[] y, int yOff, int n) {
        forBlocks(n, GELU_COST, (from, to) -> {
            int i = from;
            FloatVector g0 = c(G0), g1 = c(G1), one = c(1f);
            for (int bound = from + S.loopBound(to - from); i < bound; i += V) {
                FloatVector v = FloatVector.fromArray(S, x, xOff + i);
                FloatVector e = exp(v.neg().mul(v.mul(v).fma(g1, g0)));
                v.div(e.add(one)).intoArray(y, yOff + i);
            }
            for (; i < to; i++) y[yOff + i] = geluTanh(x[xOff + i]);
        });
    }

    /** The gradient of {@link #geluTanh(float[], int, float[], int, int)}: {@code dx[i] = g[i] * gelu'(x[i])}. */
    public static void geluTanhBackward(float[] x, int xOff, float[] g, int gOff, float[] dx, int dxOff, int n) {
        forBlocks(n, GELU_COST, (from, to) -> {
            int i = from;
            // Constants broadcast once, outside the loop: the loop body is large enough that C2
            // stops inlining there (NodeCountInliningCutoff), and a broadcast left as a call
            // allocates a vector on every iteration (6x slower).
            FloatVector one = c(1f), two = c(2f), g0 = c(G0), g1 = c(G1), g3 = c(3 * G1), hi = c(GELU_FLAT), lo = c(-GELU_FLAT);
            for (int bound = from + S.loopBound(to - from); i < bound; i += V) {
                FloatVector v = FloatVector.fromArray(S, x, xOff + i).min(hi).max(lo);
                FloatVector v2 = v.mul(v);
                FloatVector e = exp(v.neg().mul(v2.fma(g1, g0)));
                FloatVector s = one.div(e.add(one)), q = one.div(two.add(e).add(one.div(e)));
                FloatVector d = v.mul(q).fma(v2.fma(g3, g0), s);
                d.mul(FloatVector.fromArray(S, g, gOff + i)).intoArray(dx, dxOff + i);
            }
            for (; i < to; i++) dx[dxOff + i] = g[gOff + i] * geluTanhDerivative(x[xOff + i]);
        });
    }

    /** {@code y[i] = e^x[i]}, within a few ulps of {@link Math#exp}. */
    public static void exp(float[] x, int xOff, float[] y, int yOff, int n) {
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += V)
            exp(FloatVector.fromArray(S, x, xOff + i)).intoArray(y, yOff + i);
        for (; i < n; i++) y[yOff + i] = exp(x[xOff + i]);
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
            total += lanesSum(acc);
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
        float s = lanesSum(s0.add(s1).add(s2.add(s3)));
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

    /**
     * The softmax gradient for each of {@code rows} rows of length {@code cols}: given the
     * softmax output {@code y} and d(loss)/dy {@code g}, {@code dx = y * (g - sum(g * y))}.
     * {@code dx} may be {@code g} (in place).
     */
    public static void softmaxBackwardRows(float[] y, int yOff, float[] g, int gOff, float[] dx, int dxOff, int rows, int cols) {
        Parallel.forRange(rows, 2L * cols, (r0, r1) -> {
            for (int r = r0; r < r1; r++) softmaxBackwardRow(y, yOff + r * cols, g, gOff + r * cols, dx, dxOff + r * cols, cols);
        });
    }

    private static void softmaxBackwardRow(float[] y, int yo, float[] g, int go, float[] dx, int dxo, int cols) {
        FloatVector vdot = FloatVector.broadcast(S, dot(g, go, y, yo, cols));
        float d = vdot.lane(0);
        int j = 0;
        for (int bound = S.loopBound(cols); j < bound; j += V)
            FloatVector.fromArray(S, g, go + j).sub(vdot).mul(FloatVector.fromArray(S, y, yo + j)).intoArray(dx, dxo + j);
        for (; j < cols; j++) dx[dxo + j] = (g[go + j] - d) * y[yo + j];
    }

    /**
     * The log-softmax gradient for each row: given the log-softmax output {@code y} and
     * d(loss)/dy {@code g}, {@code dx = g - exp(y) * sum(g)}. {@code dx} may be {@code g}.
     */
    public static void logSoftmaxBackwardRows(float[] y, int yOff, float[] g, int gOff, float[] dx, int dxOff, int rows, int cols) {
        Parallel.forRange(rows, ROW_COST * cols, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int yo = yOff + r * cols, go = gOff + r * cols, dxo = dxOff + r * cols;
                float s = (float) sum(g, go, cols);
                FloatVector vs = FloatVector.broadcast(S, s);
                int j = 0;
                for (int bound = S.loopBound(cols); j < bound; j += V)
                    exp(FloatVector.fromArray(S, y, yo + j)).neg().fma(vs, FloatVector.fromArray(S, g, go + j)).intoArray(dx, dxo + j);
                for (; j < cols; j++) dx[dxo + j] = Math.fma(-exp(y[yo + j]), s, g[go + j]);
            }
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
            FloatVector e = exp(FloatVector.fromArray(S, x, xo + j).sub(vmax));
            e.intoArray(y, yo + j);
            acc = acc.add(e);
        }
        double s = lanesSum(acc);
        for (; j < cols; j++) {
            float e = exp(x[xo + j] - max);
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
            acc = acc.add(exp(FloatVector.fromArray(S, x, xo + j).sub(vmax)));
        double s = lanesSum(acc);
        for (; j < cols; j++) s += exp(x[xo + j] - max);
        float lse = max + (float) Math.log(s);
        FloatVector vlse = FloatVector.broadcast(S, lse);
        j = 0;
        for (int bound = S.loopBound(cols); j < bound; j += V)
            FloatVector.fromArray(S, x, xo + j).sub(vlse).intoArray(y, yo + j);
        for (; j < cols; j++) y[yo + j] = x[xo + j] - lse;
    }

    /**
     * Softmax of one range in place, on the calling thread (the per-head attention rows of a
     * decoder, already spread over the threads by their caller).
     */
    public static void softmax(float[] x, int off, int n) {
        softmaxRow(x, off, x, off, n);
    }

    /**
     * Root-mean-square normalisation (Llama's RMSNorm): {@code y[i] = w[i] * x[i] / sqrt(mean(x^2) + eps)},
     * the mean of squares taken by {@link #dot}. {@code y} may be {@code x}.
     */
    public static void rmsNorm(float[] x, int xOff, float[] w, int wOff, float eps, float[] y, int yOff, int n) {
        float inv = (float) (1 / Math.sqrt((double) dot(x, xOff, x, xOff, n) / n + eps));
        FloatVector vi = FloatVector.broadcast(S, inv);
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += V)
            FloatVector.fromArray(S, x, xOff + i).mul(vi).mul(FloatVector.fromArray(S, w, wOff + i)).intoArray(y, yOff + i);
        for (; i < n; i++) y[yOff + i] = x[xOff + i] * inv * w[wOff + i];
    }

    /**
     * The SwiGLU gate: {@code y[i] = silu(gate[i]) * up[i]} with {@code silu(g) = g / (1 + e^-g)}
     * (Llama's feed-forward between its two input projections and its output one). {@code y} may
     * be {@code gate} or {@code up}.
     */
    public static void siluMul(float[] gate, int gOff, float[] up, int uOff, float[] y, int yOff, int n) {
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += V) {
            FloatVector g = FloatVector.fromArray(S, gate, gOff + i);
            g.div(exp(g.neg()).add(1f)).mul(FloatVector.fromArray(S, up, uOff + i)).intoArray(y, yOff + i);
        }
        for (; i < n; i++) {
            float g = gate[gOff + i];
            y[yOff + i] = g / (exp(-g) + 1f) * up[uOff + i];
        }
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
