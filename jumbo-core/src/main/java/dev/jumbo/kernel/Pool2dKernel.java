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
 * output pixel instead of testing each position. Forward passes split over output rows, backward
 * passes over images (each image's gradient lands only in that image). Results are
 * bit-identical to the plain loops: the same values are combined in the same order.
 */
public final class Pool2dKernel {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Int lanes matching the float lanes one for one, for the winners' indices. */
    private static final VectorSpecies<Integer> IS = VectorSpecies.of(int.class, S.vectorShape());
    private static final int V = S.length();

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
        int c = g.c();
        Parallel.forRange(g.n() * g.outH(), (long) g.outW() * c * g.kh() * g.kw(), (row0, row1) -> {
            for (int row = row0; row < row1; row++) {
                int b = row / g.outH(), oh = row % g.outH();
                int ih0 = oh * g.strideH() - g.padTop(), i0 = Math.max(0, -ih0), i1 = Math.min(g.kh(), g.h() - ih0);
                for (int ow = 0; ow < g.outW(); ow++) {
                    int iw0 = ow * g.strideW() - g.padLeft(), j0 = Math.max(0, -iw0), j1 = Math.min(g.kw(), g.w() - iw0);
                    int o = (row * g.outW() + ow) * c;
                    if (i0 >= i1 || j0 >= j1) {
                        Arrays.fill(y, o, o + c, Float.NEGATIVE_INFINITY);
                        Arrays.fill(argmax, o, o + c, -1);
                        continue;
                    }
                    int first = ((b * g.h() + ih0 + i0) * g.w() + iw0 + j0) * c;
                    for (int ch = 0; ch < c; ch += V) {
                        VectorMask<Float> lanes = S.indexInRange(ch, c);
                        FloatVector best = FloatVector.fromArray(S, x, first + ch, lanes);
                        IntVector at = IntVector.broadcast(IS, first + ch).addIndex(1);
                        for (int i = i0; i < i1; i++)
                            for (int j = (i == i0 ? j0 + 1 : j0); j < j1; j++) {
                                int idx = ((b * g.h() + ih0 + i) * g.w() + iw0 + j) * c + ch;
                                FloatVector v = FloatVector.fromArray(S, x, idx, lanes);
                                VectorMask<Float> wins = v.compare(VectorOperators.GT, best).or(v.test(VectorOperators.IS_NAN));
                                best = best.blend(v, wins);
                                at = at.blend(IntVector.broadcast(IS, idx).addIndex(1), wins.cast(IS));
                            }
                        best.intoArray(y, o + ch, lanes);
                        at.intoArray(argmax, o + ch, lanes.cast(IS));
                    }
                }
            }
        });
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
