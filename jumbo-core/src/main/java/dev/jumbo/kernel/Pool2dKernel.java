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
 * are unrolled. Forward passes split over output rows, backward passes over images (each
 * image's gradient lands only in that image). Results are bit-identical to the plain loops:
 * the same values are combined in the same order.
 */
public final class Pool2dKernel {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Int lanes matching the float lanes one for one, for the winners' indices. */
    private static final VectorSpecies<Integer> IS = VectorSpecies.of(int.class, S.vectorShape());
    private static final int V = S.length();
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
     * winner. {@code argmax} must come from {@link #maxForward} with the same geometry.
     *
     * @throws IllegalArgumentException if a winner index lies outside its own image
     */
    public static void maxBackward(ConvGeometry g, float[] dy, int[] argmax, float[] dx) {
        require(dy.length, outputSize(g), "dy", g);
        require(argmax.length, outputSize(g), "argmax", g);
        require(dx.length, inputSize(g), "dx", g);
        int in = g.h() * g.w() * g.c(), out = g.outH() * g.outW() * g.c();
        Parallel.forRange(g.n(), out, (b0, b1) -> {
            for (int b = b0; b < b1; b++) {
                Arrays.fill(dx, b * in, (b + 1) * in, 0f);
                // The bounds check is what makes splitting by image safe: no two images write the same dx.
                for (int o = b * out; o < (b + 1) * out; o++) {
                    int at = argmax[o];
                    if (at < b * in || at >= (b + 1) * in)
                        throw new IllegalArgumentException("argmax[" + o + "] = " + at + " is outside image " + b);
                    dx[at] += dy[o];
                }
            }
        });
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
