package dev.jumbo.kernel;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Max and average pooling over NHWC inputs ({@link ConvGeometry} with {@code outC == c}).
 * Padding positions are skipped: they never win a max and are not counted in an average
 * (Keras and PyTorch's {@code count_include_pad=False}).
 *
 * <p>Channels are the innermost, contiguous axis, so every window position is one vector load
 * per {@code V} channels; the last partial vector is masked. Window bounds are clipped once per
 * output pixel instead of testing each position, and whole 2x2 windows (Keras' default pool)
 * are unrolled. Passes split over output rows, except the backward passes of average pooling
 * and of overlapping max windows, which split over images (each image's gradient lands only in
 * that image). Results are bit-identical to the plain loops: the same values are combined in
 * the same order.
 */
public final class Pool2dKernel {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Int lanes matching the float lanes one for one, for the winners' indices. */
    private static final VectorSpecies<Integer> IS = VectorSpecies.of(int.class, S.vectorShape());
    private static final int V = S.length();
    private static final FloatVector ZERO = FloatVector.zero(S);
    /** 0, 1, 2, ...: added to a position's flat index, the flat indices of its lanes. */
    private static final IntVector IOTA = IntVector.zero(IS).addIndex(1);

    private Pool2dKernel() {}

    /**
     * Writes each window's maximum to {@code y} and the flat input index of the winner to
     * {@code argmax}. The first in-range position starts as the winner; a later one takes over
     * if it is greater or NaN (so a NaN in the window always wins). A window entirely in the
     * padding yields -infinity with index -1.
     */
    public static void maxForward(ConvGeometry g, float[] x, float[] y, int[] argmax) {
        require(x.length, inputSize(g), "x", g);
        require(y.length, outputSize(g), "y", g);
        require(argmax.length, outputSize(g), "argmax", g);
        Parallel.forRange(g.n() * g.outH(), (long) g.outW() * g.c() * g.kh() * g.kw(), (row0, row1) -> {
            for (int row = row0; row < row1; row++) maxForwardRow(g, x, y, argmax, row);
        });
    }

    /** One output row: whole 2x2 windows unrolled for whole vectors, the rest (other pools, clipped windows, last channels) generic. */
    private static void maxForwardRow(ConvGeometry g, float[] x, float[] y, int[] argmax, int row) {
        int c = g.c(), full = S.loopBound(c);
        int b = row / g.outH(), top = row % g.outH() * g.strideH() - g.padTop();
        Whole2x2 whole = Whole2x2.of(g, top);
        int from = whole.from(), to = from + whole.count();
        if (whole.count() > 0)
            max2x2(x, windowStart(g, b, top, from), g.strideW() * c, g.w() * c, c, whole.count(), y, argmax, (row * g.outW() + from) * c);
        maxPixels(g, x, y, argmax, row, 0, from, 0);
        if (full < c) maxPixels(g, x, y, argmax, row, from, to, full);
        maxPixels(g, x, y, argmax, row, to, g.outW(), 0);
    }

    /** Output pixels {@code [ow0, ow1)} of one row, channels from {@code ch0}, a vector at a time; the last vector is masked. */
    private static void maxPixels(ConvGeometry g, float[] x, float[] y, int[] argmax, int row, int ow0, int ow1, int ch0) {
        int c = g.c(), rowStep = g.w() * c;
        int b = row / g.outH(), top = row % g.outH() * g.strideH() - g.padTop();
        int i0 = Math.max(0, -top), i1 = Math.min(g.kh(), g.h() - top);
        for (int ow = ow0; ow < ow1; ow++) {
            int left = ow * g.strideW() - g.padLeft(), j0 = Math.max(0, -left), j1 = Math.min(g.kw(), g.w() - left);
            int o = (row * g.outW() + ow) * c;
            if (i0 >= i1 || j0 >= j1) {
                Arrays.fill(y, o + ch0, o + c, Float.NEGATIVE_INFINITY);
                Arrays.fill(argmax, o + ch0, o + c, -1);
                continue;
            }
            int first = ((b * g.h() + top + i0) * g.w() + left + j0) * c;
            for (int ch = ch0; ch < c; ch += V)
                maxWindow(x, first + ch, i1 - i0, j1 - j0, rowStep, c, y, argmax, o + ch, S.indexInRange(ch, c));
        }
    }

    /**
     * One vector of channels of one window of {@code rows x cols} in-range positions, from
     * {@code first} (the flat index of its top-left one) in steps of {@code rowStep} and
     * {@code colStep}. The winner's offset from {@code first} is tracked; its index is added once.
     */
    private static void maxWindow(float[] x, int first, int rows, int cols, int rowStep, int colStep,
                                  float[] y, int[] argmax, int o, VectorMask<Float> lanes) {
        FloatVector best = FloatVector.fromArray(S, x, first, lanes);
        IntVector at = IntVector.zero(IS);
        for (int i = 0; i < rows; i++)
            for (int j = i == 0 ? 1 : 0; j < cols; j++) {
                int offset = i * rowStep + j * colStep;
                FloatVector v = FloatVector.fromArray(S, x, first + offset, lanes);
                VectorMask<Float> wins = takesOver(v, best);
                best = best.blend(v, wins);
                at = at.blend(offset, wins.cast(IS));
            }
        best.intoArray(y, o, lanes);
        at.add(IOTA.add(first)).intoArray(argmax, o, lanes.cast(IS));
    }

    /**
     * {@link #maxWindow} unrolled for {@code count} whole 2x2 windows (Keras' default pool),
     * {@code windowStep} apart, whole vectors of channels only. The generic loops' bookkeeping and
     * masks cost about as much as the comparisons: a 64x26x26x32 input takes about 160 us on one
     * thread this way, 240 us through {@link #maxWindow}.
     */
    private static void max2x2(float[] x, int first, int windowStep, int rowStep, int c, int count,
                               float[] y, int[] argmax, int o) {
        IntVector right = IntVector.broadcast(IS, c), below = IntVector.broadcast(IS, rowStep), diagonal = below.add(right);
        int full = S.loopBound(c);
        for (int k = 0; k < count; k++)
            for (int ch = 0; ch < full; ch += V) {
                int p = first + k * windowStep + ch, q = o + k * c + ch;
                FloatVector best = FloatVector.fromArray(S, x, p);
                IntVector at = IntVector.zero(IS);
                FloatVector v = FloatVector.fromArray(S, x, p + c);
                VectorMask<Float> wins = takesOver(v, best);
                best = best.blend(v, wins);
                at = at.blend(right, wins.cast(IS));
                v = FloatVector.fromArray(S, x, p + rowStep);
                wins = takesOver(v, best);
                best = best.blend(v, wins);
                at = at.blend(below, wins.cast(IS));
                v = FloatVector.fromArray(S, x, p + rowStep + c);
                wins = takesOver(v, best);
                best = best.blend(v, wins);
                at = at.blend(diagonal, wins.cast(IS));
                best.intoArray(y, q);
                at.add(IOTA.add(p)).intoArray(argmax, q);
            }
    }

    /** Where a later position takes over: greater, or NaN ({@code v != v}, one compare where IS_NAN takes three instructions). */
    private static VectorMask<Float> takesOver(FloatVector v, FloatVector best) {
        return v.compare(VectorOperators.GT, best).or(v.compare(VectorOperators.NE, v));
    }

    /**
     * Overwrites {@code dx} with the max-pool input gradient: each output's gradient goes to its
     * winner; an output whose window lies entirely in the padding (index -1) passes none.
     * {@code argmax} must come from {@link #maxForward} with the same geometry.
     *
     * <p>When windows do not overlap (stride at least the window) each input position lies in at
     * most one window, so every output row writes the input rows it owns directly, zeros
     * included, with no clearing pass. Overlapping windows clear each image, then add each
     * window's gradient in output order, as the plain loop does.
     *
     * @throws IllegalArgumentException if a winner index is not a position of its own window
     */
    public static void maxBackward(ConvGeometry g, float[] dy, int[] argmax, float[] dx) {
        require(dy.length, outputSize(g), "dy", g);
        require(argmax.length, outputSize(g), "argmax", g);
        require(dx.length, inputSize(g), "dx", g);
        long rowCost = (long) g.outW() * g.c() * g.kh() * g.kw();
        if (g.strideH() >= g.kh() && g.strideW() >= g.kw()) {
            Parallel.forRange(g.n() * g.outH(), rowCost, (row0, row1) -> {
                for (int row = row0; row < row1; row++) maxBackwardRow(g, dy, argmax, dx, row, false);
            });
        } else {
            int in = g.h() * g.w() * g.c();
            // Overlapping windows share input positions across output rows, never across images.
            Parallel.forRange(g.n(), rowCost * g.outH(), (b0, b1) -> {
                Arrays.fill(dx, b0 * in, b1 * in, 0f);
                for (int row = b0 * g.outH(); row < b1 * g.outH(); row++) maxBackwardRow(g, dy, argmax, dx, row, true);
            });
        }
    }

    /**
     * One output row's gradients into its windows: added to {@code dx} if {@code accumulate};
     * otherwise written, and the input positions this row owns that no window covers are zeroed.
     * A row owns the input rows from its windows' top to the next row's (the first and last rows
     * also own any rows before and after), and likewise each window the columns up to the next one.
     */
    private static void maxBackwardRow(ConvGeometry g, float[] dy, int[] argmax, float[] dx, int row, boolean accumulate) {
        int c = g.c(), full = S.loopBound(c), rowStep = g.w() * c;
        int b = row / g.outH(), oh = row % g.outH(), top = oh * g.strideH() - g.padTop();
        int i0 = Math.max(0, -top), i1 = Math.min(g.kh(), g.h() - top);
        if (!accumulate) {
            int own0 = oh == 0 ? 0 : Math.clamp(top, 0, g.h());
            int own1 = oh == g.outH() - 1 ? g.h() : Math.clamp(top + g.strideH(), 0, g.h());
            for (int ih = own0; ih < own1; ih++)
                if (ih < top + i0 || ih >= top + i1) Arrays.fill(dx, (b * g.h() + ih) * rowStep, (b * g.h() + ih + 1) * rowStep, 0f);
            // Columns between windows (a stride beyond the window) and after the last one.
            for (int ow = g.strideW() > g.kw() ? 0 : g.outW() - 1; ow < g.outW(); ow++) {
                int left = ow * g.strideW() - g.padLeft();
                int gap0 = Math.clamp(left + g.kw(), 0, g.w()), gap1 = ow == g.outW() - 1 ? g.w() : Math.clamp(left + g.strideW(), gap0, g.w());
                for (int ih = top + i0; ih < top + i1; ih++)
                    Arrays.fill(dx, ((b * g.h() + ih) * g.w() + gap0) * c, ((b * g.h() + ih) * g.w() + gap1) * c, 0f);
            }
        }
        Whole2x2 whole = Whole2x2.of(g, top);
        int from = whole.from(), to = from + whole.count();
        if (whole.count() > 0)
            route2x2(dy, argmax, (row * g.outW() + from) * c, windowStart(g, b, top, from), g.strideW() * c, rowStep, c,
                    whole.count(), dx, accumulate);
        routePixels(g, dy, argmax, dx, row, 0, from, 0, accumulate);
        if (full < c) routePixels(g, dy, argmax, dx, row, from, to, full, accumulate);
        routePixels(g, dy, argmax, dx, row, to, g.outW(), 0, accumulate);
    }

    /** {@link #maxPixels}' loop for the backward pass: output pixels {@code [ow0, ow1)} of one row, channels from {@code ch0}. */
    private static void routePixels(ConvGeometry g, float[] dy, int[] argmax, float[] dx, int row, int ow0, int ow1, int ch0,
                                    boolean accumulate) {
        int c = g.c(), rowStep = g.w() * c;
        int b = row / g.outH(), top = row % g.outH() * g.strideH() - g.padTop();
        int i0 = Math.max(0, -top), i1 = Math.min(g.kh(), g.h() - top);
        for (int ow = ow0; ow < ow1; ow++) {
            int left = ow * g.strideW() - g.padLeft(), j0 = Math.max(0, -left), j1 = Math.min(g.kw(), g.w() - left);
            if (i0 >= i1 || j0 >= j1) continue; // no winner, no gradient
            int first = ((b * g.h() + top + i0) * g.w() + left + j0) * c, o = (row * g.outW() + ow) * c;
            for (int ch = ch0; ch < c; ch += V)
                routeWindow(dy, argmax, o + ch, first + ch, i1 - i0, j1 - j0, rowStep, c, dx, accumulate, S.indexInRange(ch, c));
        }
    }

    /**
     * One vector of channels of one output: its gradient to the winner and zeros to the other
     * positions of the window (the layout of {@link #maxWindow}).
     */
    private static void routeWindow(float[] dy, int[] argmax, int o, int first, int rows, int cols, int rowStep, int colStep,
                                    float[] dx, boolean accumulate, VectorMask<Float> lanes) {
        FloatVector d = positiveZero(FloatVector.fromArray(S, dy, o, lanes));
        IntVector at = IntVector.fromArray(IS, argmax, o, lanes.cast(IS)).sub(IOTA.add(first));
        VectorMask<Float> routed = S.maskAll(false);
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) {
                int offset = i * rowStep + j * colStep;
                VectorMask<Float> here = at.compare(VectorOperators.EQ, offset).cast(S);
                routed = routed.or(here);
                put(dx, first + offset, d, here, accumulate, lanes);
            }
        if (!routed.and(lanes).equals(lanes)) throw notInWindow(argmax, o + lanes.andNot(routed).firstTrue());
    }

    /** {@link #routeWindow} unrolled for {@code count} whole 2x2 windows, whole vectors of channels (as {@link #max2x2}). */
    private static void route2x2(float[] dy, int[] argmax, int o, int first, int windowStep, int rowStep, int c, int count,
                                 float[] dx, boolean accumulate) {
        IntVector right = IntVector.broadcast(IS, c), below = IntVector.broadcast(IS, rowStep), diagonal = below.add(right);
        int full = S.loopBound(c);
        for (int k = 0; k < count; k++, first += windowStep, o += c)
            for (int ch = 0; ch < full; ch += V) {
                int p = first + ch;
                FloatVector d = positiveZero(FloatVector.fromArray(S, dy, o + ch));
                IntVector at = IntVector.fromArray(IS, argmax, o + ch).sub(IOTA.add(p));
                VectorMask<Integer> m0 = at.eq(0), m1 = at.eq(right), m2 = at.eq(below), m3 = at.eq(diagonal);
                VectorMask<Integer> routed = m0.or(m1).or(m2.or(m3));
                if (!routed.allTrue()) throw notInWindow(argmax, o + ch + routed.not().firstTrue());
                put(dx, p, d, m0.cast(S), accumulate, null);
                put(dx, p + c, d, m1.cast(S), accumulate, null);
                put(dx, p + rowStep, d, m2.cast(S), accumulate, null);
                put(dx, p + rowStep + c, d, m3.cast(S), accumulate, null);
            }
    }

    /** {@code dx[at..]} = (or +=, if accumulating) {@code d} in the lanes of {@code here}, 0 elsewhere; all of a vector if {@code lanes} is null. */
    private static void put(float[] dx, int at, FloatVector d, VectorMask<Float> here, boolean accumulate, VectorMask<Float> lanes) {
        FloatVector v = ZERO.blend(d, here);
        if (lanes == null) {
            if (accumulate) v = FloatVector.fromArray(S, dx, at).add(v);
            v.intoArray(dx, at);
        } else {
            if (accumulate) v = FloatVector.fromArray(S, dx, at, lanes).add(v);
            v.intoArray(dx, at, lanes);
        }
    }

    /** {@code d + 0}: -0 becomes +0, as the plain loop's {@code 0 + dy}, so a written gradient matches an accumulated one bit for bit. */
    private static FloatVector positiveZero(FloatVector d) {
        return d.add(0f);
    }

    private static IllegalArgumentException notInWindow(int[] argmax, int o) {
        return new IllegalArgumentException("argmax[" + o + "] = " + argmax[o] + " is not a position of its window");
    }

    /** Flat index of the first input position of window {@code ow} in the row of windows starting at input row {@code top}. */
    private static int windowStart(ConvGeometry g, int b, int top, int ow) {
        return ((b * g.h() + top) * g.w() + ow * g.strideW() - g.padLeft()) * g.c();
    }

    /**
     * The windows {@code [from, from + count)} of the output row whose windows start at input row
     * {@code top} that are whole 2x2 windows inside the image: none unless the pool is 2x2, the
     * rows lie inside and a whole vector of channels exists.
     */
    private record Whole2x2(int from, int count) {
        static Whole2x2 of(ConvGeometry g, int top) {
            if (g.kh() != 2 || g.kw() != 2 || top < 0 || top + 2 > g.h() || g.c() < V) return new Whole2x2(0, 0);
            int from = Math.ceilDiv(g.padLeft(), g.strideW());                                     // the first with left >= 0
            int to = Math.min(g.outW(), Math.floorDiv(g.w() - 2 + g.padLeft(), g.strideW()) + 1); // past the last with left + 2 <= w
            return new Whole2x2(from, Math.max(0, to - from));
        }
    }

    /** Writes each window's mean over its in-range positions to {@code y}. */
    public static void avgForward(ConvGeometry g, float[] x, float[] y) {
        require(x.length, inputSize(g), "x", g);
        require(y.length, outputSize(g), "y", g);
        int c = g.c();
        Parallel.forRange(g.n() * g.outH(), (long) g.outW() * c * g.kh() * g.kw(), (row0, row1) -> {
            for (int row = row0; row < row1; row++) {
                int b = row / g.outH(), oh = row % g.outH();
                int ih0 = oh * g.strideH() - g.padTop(), i0 = Math.max(0, -ih0), i1 = Math.min(g.kh(), g.h() - ih0);
                for (int ow = 0; ow < g.outW(); ow++) {
                    int iw0 = ow * g.strideW() - g.padLeft(), j0 = Math.max(0, -iw0), j1 = Math.min(g.kw(), g.w() - iw0);
                    // As the plain loop: 0/0 = NaN for a window entirely in the padding.
                    float count = Math.max(0, i1 - i0) * Math.max(0, j1 - j0);
                    int o = (row * g.outW() + ow) * c;
                    for (int ch = 0; ch < c; ch += V) {
                        VectorMask<Float> lanes = S.indexInRange(ch, c);
                        FloatVector s = FloatVector.broadcast(S, 0f);
                        for (int i = i0; i < i1; i++)
                            for (int j = j0; j < j1; j++)
                                s = s.add(FloatVector.fromArray(S, x, ((b * g.h() + ih0 + i) * g.w() + iw0 + j) * c + ch, lanes));
                        s.div(count).intoArray(y, o + ch, lanes);
                    }
                }
            }
        });
    }

    /** Overwrites {@code dx} with the average-pool input gradient. */
    public static void avgBackward(ConvGeometry g, float[] dy, float[] dx) {
        require(dy.length, outputSize(g), "dy", g);
        require(dx.length, inputSize(g), "dx", g);
        int c = g.c(), in = g.h() * g.w() * c;
        Parallel.forRange(g.n(), (long) g.outH() * g.outW() * c * g.kh() * g.kw(), (b0, b1) -> {
            for (int b = b0; b < b1; b++) {
                Arrays.fill(dx, b * in, (b + 1) * in, 0f);
                for (int oh = 0; oh < g.outH(); oh++)
                    for (int ow = 0; ow < g.outW(); ow++) {
                        int h0 = Math.max(0, oh * g.strideH() - g.padTop()), h1 = Math.min(g.h(), oh * g.strideH() - g.padTop() + g.kh());
                        int w0 = Math.max(0, ow * g.strideW() - g.padLeft()), w1 = Math.min(g.w(), ow * g.strideW() - g.padLeft() + g.kw());
                        if (h0 >= h1 || w0 >= w1) continue;
                        float count = (h1 - h0) * (w1 - w0);
                        int o = ((b * g.outH() + oh) * g.outW() + ow) * c;
                        for (int ch = 0; ch < c; ch += V) {
                            VectorMask<Float> lanes = S.indexInRange(ch, c);
                            FloatVector d = FloatVector.fromArray(S, dy, o + ch, lanes).div(count);
                            for (int ih = h0; ih < h1; ih++)
                                for (int iw = w0; iw < w1; iw++) {
                                    int xi = ((b * g.h() + ih) * g.w() + iw) * c + ch;
                                    FloatVector.fromArray(S, dx, xi, lanes).add(d).intoArray(dx, xi, lanes);
                                }
                        }
                    }
            }
        });
    }

    private static long inputSize(ConvGeometry g) {
        return (long) g.n() * g.h() * g.w() * g.c();
    }

    private static long outputSize(ConvGeometry g) {
        return (long) g.n() * g.outH() * g.outW() * g.c();
    }

    private static void require(int length, long needed, String name, ConvGeometry g) {
        if (length < needed)
            throw new IllegalArgumentException(name + " holds " + length + " values, needs " + needed + " for " + g);
    }
}
