package dev.jumbo.kernel;

import static dev.jumbo.kernel.GemmMicroKernel.SPECIES;
import static dev.jumbo.kernel.GemmMicroKernel.V;

import java.util.Arrays;
import java.util.function.Consumer;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

/**
 * Convolution forward pass and filter gradient computed straight from the NHWC input, without
 * {@link Im2Col}'s patch matrix, for filters with a short patch ({@code K = kh*kw*c}).
 *
 * <p>Why: with K = 9 (a 3x3 filter on one channel) the patch matrix is nine times the input,
 * and the products over it are too thin in K for {@link Gemm}'s packed tiles to pay; the first
 * layer of a small CNN spent most of its time copying patches and packing. Here each input
 * value is read where it lies. Both passes hold a block of {@link #TAPS} filter taps by
 * {@link #BLOCK} output channels in registers and stream the output pixels past it, so a pixel
 * costs one broadcast per tap and {@code 2 * TAPS} independent multiply-adds, with no filter
 * loads:
 * <ul>
 *   <li><b>forward</b>: the block holds filter rows {@code w[t, oc0..oc0+BLOCK]}, and each pixel
 *       of an output row gets {@code y[pixel, oc0..] += sum over t of x[pixel, tap t] * w[t, ..]}.
 *       The bias starts the sum; a filter longer than one block adds its blocks onto y, and its
 *       last few taps (fewer than a block) go one pixel at a time. Output rows are split over
 *       {@link Parallel}'s threads.</li>
 *   <li><b>backwardFilter</b>: the block holds the gradient {@code dw[t, oc0..oc0+BLOCK]} and
 *       the bias sums, and each pixel adds {@code x[pixel, tap t] * dy[pixel, oc0..]}; taps past
 *       K in the last block read a real input value and sum into scratch rows. The output rows
 *       are cut into a fixed number of {@link #SLOTS}, each summed into its own partial
 *       gradient, and the partials are added in slot order: the result depends neither on
 *       timing nor on the thread count.</li>
 * </ul>
 * Keeping the filter block in registers measured twice as fast as the usual alternative of
 * keeping several output pixels there, where the per-tap filter loads and the short tap loop
 * set the pace. The blocks are sized for 32 vector registers (AVX-512); with AVX2's 16 the
 * gradient block spills (measured 20 GFLOPS a core against 55 for the forward pass), which
 * {@link Conv2dKernel}'s threshold allows for.
 *
 * <p>Where windows reach into the padding, the images are first copied, {@link #PADDED_BUDGET}
 * floats at a time, into a zero-padded scratch in which every window is inside, so the register
 * loops have no edge cases (the copy costs little next to the output, which is outC/c times
 * larger). Output channels go {@link #BLOCK} at a time with masks on the last
 * block, so any {@code outC} works; a block that needs only one vector still computes two
 * (cheap for the small layers this serves). The last few pixels of the batch, where a block's
 * vectors would reach past the end of y or dy, take a scalar loop (see {@link #wholePixels}).
 */
final class Conv2dDirect {
    /** Filter taps per register block: 9 taps x 2 vectors = 18 accumulators, a whole 3x3 single-channel filter. */
    static final int TAPS = 9;
    /** Output channels per register block: two vectors. */
    static final int BLOCK = 2 * V;
    /** Partial filter gradients; fixed so the summation order is the same on every machine. */
    static final int SLOTS = 16;
    /** Floats of dy that the gradient's register blocks pass over in turn (16 KB, half a level-1 cache). */
    static final int DY_GROUP = 1 << 12;
    /** Floats of zero-padded input per chunk of images (4 MB). */
    static final int PADDED_BUDGET = 1 << 20;

    private Conv2dDirect() {}

    /**
     * The images {@code first .. end} as the windows read them: {@code data} is x itself when no
     * window reaches outside the input, else a zero-padded copy in which every window is inside;
     * either way the window of output pixel (b, oh, ow) starts at {@link #origin}. Tap t of a
     * window sits {@code offsets[t]} further on.
     */
    private record Input(float[] data, int first, int end, int imageSize, int rowSize, int[] offsets) {
        int origin(ConvGeometry g, int b, int oh, int ow) {
            return (b - first) * imageSize + oh * g.strideH() * rowSize + ow * g.strideW() * g.c();
        }
    }

    /** {@code y[n,oh,ow,oc] = bias[oc] + sum x[n,ih,iw,c] * w[kh,kw,c,oc]}; bias may be null. Sizes are not checked. */
    static void forward(ConvGeometry g, float[] x, float[] w, float[] bias, float[] y) {
        int k = patchLength(g), outC = g.outC(), width = roundUp(outC, BLOCK), outH = g.outH();
        if (g.n() == 0) return;
        Workspace ws = Workspace.acquire();
        try {
            // Filter rows padded to whole blocks, then the bias as row k: the kernels load them without masks.
            float[] wp = ws.a((k + 1) * width);
            for (int t = 0; t < k; t++) {
                System.arraycopy(w, t * outC, wp, t * width, outC);
                Arrays.fill(wp, t * width + outC, (t + 1) * width, 0f);
            }
            if (bias != null) System.arraycopy(bias, 0, wp, k * width, outC);
            else Arrays.fill(wp, k * width, k * width + outC, 0f);
            Arrays.fill(wp, k * width + outC, (k + 1) * width, 0f);
            int whole = wholePixels(g);
            forEachChunk(g, x, k, ws, in -> Parallel.forRange((in.end() - in.first()) * outH, (long) g.outW() * outC * k,
                    (r0, r1) -> {
                        for (int r = r0; r < r1; r++) forwardRow(g, in, wp, width, y, in.first() * outH + r, whole);
                    }));
        } finally {
            Workspace.release(ws);
        }
    }

    /** Output row {@code r = b*outH + oh}: register blocks over its first pixels, the scalar loop after {@code whole}. */
    private static void forwardRow(ConvGeometry g, Input in, float[] wp, int width, float[] y, int r, int whole) {
        int k = in.offsets().length, outW = g.outW(), outC = g.outC(), step = g.strideW() * g.c();
        int xo = in.origin(g, r / g.outH(), r % g.outH(), 0), yo = r * outW * outC;
        int vectorPixels = (int) Math.clamp(whole - (long) r * outW, 0, outW);
        for (int oc0 = 0; oc0 < outC; oc0 += BLOCK) {
            int t = 0;
            for (; t + TAPS <= k; t += TAPS)
                forwardTaps(in.data(), xo, step, in.offsets(), t, wp, width, oc0, y, yo, outC, vectorPixels, t == 0);
            if (t < k) forwardRest(in.data(), xo, step, in.offsets(), t, wp, width, oc0, y, yo, outC, vectorPixels, t == 0);
        }
        for (int ow = vectorPixels; ow < outW; ow++)
            forwardScalar(in.data(), xo + ow * step, in.offsets(), wp, width, y, yo + ow * outC, outC);
    }

    /**
     * Taps {@code t0 .. t0+TAPS} of the row's pixels {@code 0 .. pixels} (window of pixel p at
     * {@code xo + p*step}, output at {@code yo + p*outC}), channels {@code oc0 .. oc0+BLOCK},
     * added onto the bias ({@code first}) or onto what y holds. {@code wp} holds the padded
     * filter rows and then the bias, at row {@code offsets.length}.
     */
    private static void forwardTaps(float[] x, int xo, int step, int[] offsets, int t0, float[] wp, int width, int oc0,
                                    float[] y, int yo, int outC, int pixels, boolean first) {
        int o0 = offsets[t0], o1 = offsets[t0 + 1], o2 = offsets[t0 + 2], o3 = offsets[t0 + 3], o4 = offsets[t0 + 4];
        int o5 = offsets[t0 + 5], o6 = offsets[t0 + 6], o7 = offsets[t0 + 7], o8 = offsets[t0 + 8];
        int wi = t0 * width + oc0;
        FloatVector w00 = FloatVector.fromArray(SPECIES, wp, wi), w01 = FloatVector.fromArray(SPECIES, wp, wi + V);
        FloatVector w10 = FloatVector.fromArray(SPECIES, wp, wi += width), w11 = FloatVector.fromArray(SPECIES, wp, wi + V);
        FloatVector w20 = FloatVector.fromArray(SPECIES, wp, wi += width), w21 = FloatVector.fromArray(SPECIES, wp, wi + V);
        FloatVector w30 = FloatVector.fromArray(SPECIES, wp, wi += width), w31 = FloatVector.fromArray(SPECIES, wp, wi + V);
        FloatVector w40 = FloatVector.fromArray(SPECIES, wp, wi += width), w41 = FloatVector.fromArray(SPECIES, wp, wi + V);
        FloatVector w50 = FloatVector.fromArray(SPECIES, wp, wi += width), w51 = FloatVector.fromArray(SPECIES, wp, wi + V);
        FloatVector w60 = FloatVector.fromArray(SPECIES, wp, wi += width), w61 = FloatVector.fromArray(SPECIES, wp, wi + V);
        FloatVector w70 = FloatVector.fromArray(SPECIES, wp, wi += width), w71 = FloatVector.fromArray(SPECIES, wp, wi + V);
        FloatVector w80 = FloatVector.fromArray(SPECIES, wp, wi += width), w81 = FloatVector.fromArray(SPECIES, wp, wi + V);
        VectorMask<Float> m0 = SPECIES.indexInRange(oc0, outC), m1 = SPECIES.indexInRange(oc0 + V, outC);
        // The sums start from the bias (the same for every pixel) or from y; lanes past outC are never stored.
        float[] from = first ? wp : y;
        int yi = yo + oc0, fromAt = first ? offsets.length * width + oc0 : yi, fromStep = first ? 0 : outC;
        for (int p = 0; p < pixels; p++, xo += step, yi += outC, fromAt += fromStep) {
            FloatVector a0 = FloatVector.fromArray(SPECIES, from, fromAt), a1 = FloatVector.fromArray(SPECIES, from, fromAt + V);
            FloatVector v = FloatVector.broadcast(SPECIES, x[xo + o0]);
            a0 = v.fma(w00, a0);
            a1 = v.fma(w01, a1);
            v = FloatVector.broadcast(SPECIES, x[xo + o1]);
            a0 = v.fma(w10, a0);
            a1 = v.fma(w11, a1);
            v = FloatVector.broadcast(SPECIES, x[xo + o2]);
            a0 = v.fma(w20, a0);
            a1 = v.fma(w21, a1);
            v = FloatVector.broadcast(SPECIES, x[xo + o3]);
            a0 = v.fma(w30, a0);
            a1 = v.fma(w31, a1);
            v = FloatVector.broadcast(SPECIES, x[xo + o4]);
            a0 = v.fma(w40, a0);
            a1 = v.fma(w41, a1);
            v = FloatVector.broadcast(SPECIES, x[xo + o5]);
            a0 = v.fma(w50, a0);
            a1 = v.fma(w51, a1);
            v = FloatVector.broadcast(SPECIES, x[xo + o6]);
            a0 = v.fma(w60, a0);
            a1 = v.fma(w61, a1);
            v = FloatVector.broadcast(SPECIES, x[xo + o7]);
            a0 = v.fma(w70, a0);
            a1 = v.fma(w71, a1);
            v = FloatVector.broadcast(SPECIES, x[xo + o8]);
            a0 = v.fma(w80, a0);
            a1 = v.fma(w81, a1);
            a0.intoArray(y, yi, m0);
            a1.intoArray(y, yi + V, m1);
        }
    }

    /** The taps from {@code t0} to the end (fewer than {@link #TAPS}), one pixel at a time; otherwise as {@link #forwardTaps}. */
    private static void forwardRest(float[] x, int xo, int step, int[] offsets, int t0, float[] wp, int width, int oc0,
                                    float[] y, int yo, int outC, int pixels, boolean first) {
        int k = offsets.length;
        VectorMask<Float> m0 = SPECIES.indexInRange(oc0, outC), m1 = SPECIES.indexInRange(oc0 + V, outC);
        float[] from = first ? wp : y;
        int yi = yo + oc0, fromAt = first ? k * width + oc0 : yi, fromStep = first ? 0 : outC;
        for (int p = 0; p < pixels; p++, xo += step, yi += outC, fromAt += fromStep) {
            FloatVector a0 = FloatVector.fromArray(SPECIES, from, fromAt), a1 = FloatVector.fromArray(SPECIES, from, fromAt + V);
            for (int t = t0, wi = t0 * width + oc0; t < k; t++, wi += width) {
                FloatVector v = FloatVector.broadcast(SPECIES, x[xo + offsets[t]]);
                a0 = v.fma(FloatVector.fromArray(SPECIES, wp, wi), a0);
                a1 = v.fma(FloatVector.fromArray(SPECIES, wp, wi + V), a1);
            }
            a0.intoArray(y, yi, m0);
            a1.intoArray(y, yi + V, m1);
        }
    }

    /** One pixel, every tap and channel, without vectors: for the pixels past {@link #wholePixels}. */
    private static void forwardScalar(float[] x, int xo, int[] offsets, float[] wp, int width, float[] y, int yo, int outC) {
        int k = offsets.length;
        for (int oc = 0; oc < outC; oc++) {
            float s = wp[k * width + oc];
            for (int t = 0; t < k; t++) s = Math.fma(x[xo + offsets[t]], wp[t * width + oc], s);
            y[yo + oc] = s;
        }
    }

    /** Overwrites {@code dw} (and {@code dbias} unless null) with the filter and bias gradients. Sizes are not checked. */
    static void backwardFilter(ConvGeometry g, float[] x, float[] dy, float[] dw, float[] dbias) {
        int k = patchLength(g), outC = g.outC(), outH = g.outH(), rows = g.n() * outH;
        if (rows == 0) {
            Arrays.fill(dw, 0, k * outC, 0f);
            if (dbias != null) Arrays.fill(dbias, 0, outC, 0f);
            return;
        }
        // A partial is `taps` rows of `width` floats (the rows past k are scratch), then the bias sums.
        int width = roundUp(outC, BLOCK), taps = roundUp(k, TAPS), size = (taps + 1) * width;
        int slots = Math.min(SLOTS, rows), wholeRows = wholePixels(g) / g.outW();
        Workspace ws = Workspace.acquire();
        try {
            float[] partials = ws.a(slots * size);
            Arrays.fill(partials, 0, slots * size, 0f);
            forEachChunk(g, x, taps, ws, in -> {
                int chunkRows = (in.end() - in.first()) * outH, first = in.first() * outH;
                long perSlot = (long) Math.ceilDiv(chunkRows, slots) * g.outW() * k * outC;
                Parallel.forRange(slots, perSlot, (s0, s1) -> {
                    for (int s = s0; s < s1; s++)
                        accumulate(g, in, dy, first + (int) ((long) chunkRows * s / slots),
                                first + (int) ((long) chunkRows * (s + 1) / slots), k, partials, s * size, width, wholeRows);
                });
            });
            for (int t = 0; t < k; t++) {
                System.arraycopy(partials, t * width, dw, t * outC, outC);
                for (int s = 1; s < slots; s++)
                    VectorMath.add(dw, t * outC, partials, s * size + t * width, dw, t * outC, outC);
            }
            if (dbias != null) {
                System.arraycopy(partials, taps * width, dbias, 0, outC);
                for (int s = 1; s < slots; s++)
                    VectorMath.add(dbias, 0, partials, s * size + taps * width, dbias, 0, outC);
            }
        } finally {
            Workspace.release(ws);
        }
    }

    /**
     * Adds output rows {@code r0 .. r1} ({@code r = b*outH + oh}, images inside the chunk) to the
     * partial at {@code p}: register blocks over rows before {@code wholeRows}, the scalar loop on the rest.
     */
    private static void accumulate(ConvGeometry g, Input in, float[] dy, int r0, int r1, int k,
                                   float[] part, int p, int width, int wholeRows) {
        int outH = g.outH(), outW = g.outW(), outC = g.outC(), taps = in.offsets().length;
        // Rows per group: every block passes over the group's dy, which should still be in L1 for the next block.
        int group = Math.max(1, DY_GROUP / (outW * outC));
        for (int r = r0; r < r1; ) {
            // This image's rows in the range, then the part of them the register blocks may take.
            int b = r / outH, end = Math.min(r1, (b + 1) * outH), ohA = r - b * outH, ohB = end - b * outH;
            int ohWhole = Math.clamp(wholeRows - b * outH, ohA, ohB);
            for (int oh0 = ohA; oh0 < ohWhole; oh0 += group) {
                int oh1 = Math.min(ohWhole, oh0 + group);
                for (int oc0 = 0; oc0 < outC; oc0 += BLOCK)
                    for (int t0 = 0; t0 < taps; t0 += TAPS)
                        accumulateTaps(g, in, dy, b, oh0, oh1, 0, outW, oc0, t0, part, p, width);
            }
            for (int oh = ohWhole; oh < ohB; oh++)
                for (int ow = 0; ow < outW; ow++)
                    accumulateScalar(in.data(), in.origin(g, b, oh, ow), in.offsets(), k, dy,
                            ((b * outH + oh) * outW + ow) * outC, outC, part, p, width);
            r = end;
        }
    }

    /**
     * Taps {@code t0 .. t0+TAPS} by channels {@code oc0 .. oc0+BLOCK} of the gradient over the
     * output pixels {@code [ohA, ohB) x [owA, owB)} of image b, added to the partial at
     * {@code p}. The bias sums are kept with the first tap block only.
     *
     * <p>The loop shape is measured, not incidental: written with the column loop starting at a
     * constant 0, or the window origin and dy offset carried from row to row, C2's loop
     * predication left this loop 2.5x slower (JDK 25).
     */
    private static void accumulateTaps(ConvGeometry g, Input in, float[] dy, int b, int ohA, int ohB, int owA, int owB,
                                       int oc0, int t0, float[] part, int p, int width) {
        float[] x = in.data();
        int[] offsets = in.offsets();
        int outC = g.outC(), step = g.strideW() * g.c();
        int o0 = offsets[t0], o1 = offsets[t0 + 1], o2 = offsets[t0 + 2], o3 = offsets[t0 + 3], o4 = offsets[t0 + 4];
        int o5 = offsets[t0 + 5], o6 = offsets[t0 + 6], o7 = offsets[t0 + 7], o8 = offsets[t0 + 8];
        FloatVector a00 = FloatVector.zero(SPECIES), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00;
        FloatVector a30 = a00, a31 = a00, a40 = a00, a41 = a00, a50 = a00, a51 = a00;
        FloatVector a60 = a00, a61 = a00, a70 = a00, a71 = a00, a80 = a00, a81 = a00, s0 = a00, s1 = a00;
        for (int oh = ohA; oh < ohB; oh++) {
            int xo = in.origin(g, b, oh, owA), d = ((b * g.outH() + oh) * g.outW() + owA) * outC + oc0;
            for (int ow = owA; ow < owB; ow++, xo += step, d += outC) {
                // Lanes past outC hold the next pixel's dy and sum into padding columns of the partial.
                FloatVector d0 = FloatVector.fromArray(SPECIES, dy, d), d1 = FloatVector.fromArray(SPECIES, dy, d + V);
                s0 = s0.add(d0);
                s1 = s1.add(d1);
                FloatVector v = FloatVector.broadcast(SPECIES, x[xo + o0]);
                a00 = v.fma(d0, a00);
                a01 = v.fma(d1, a01);
                v = FloatVector.broadcast(SPECIES, x[xo + o1]);
                a10 = v.fma(d0, a10);
                a11 = v.fma(d1, a11);
                v = FloatVector.broadcast(SPECIES, x[xo + o2]);
                a20 = v.fma(d0, a20);
                a21 = v.fma(d1, a21);
                v = FloatVector.broadcast(SPECIES, x[xo + o3]);
                a30 = v.fma(d0, a30);
                a31 = v.fma(d1, a31);
                v = FloatVector.broadcast(SPECIES, x[xo + o4]);
                a40 = v.fma(d0, a40);
                a41 = v.fma(d1, a41);
                v = FloatVector.broadcast(SPECIES, x[xo + o5]);
                a50 = v.fma(d0, a50);
                a51 = v.fma(d1, a51);
                v = FloatVector.broadcast(SPECIES, x[xo + o6]);
                a60 = v.fma(d0, a60);
                a61 = v.fma(d1, a61);
                v = FloatVector.broadcast(SPECIES, x[xo + o7]);
                a70 = v.fma(d0, a70);
                a71 = v.fma(d1, a71);
                v = FloatVector.broadcast(SPECIES, x[xo + o8]);
                a80 = v.fma(d0, a80);
                a81 = v.fma(d1, a81);
            }
        }
        // Written out rather than through a helper taking the accumulators, which C2 may box.
        int q = p + t0 * width + oc0;
        FloatVector.fromArray(SPECIES, part, q).add(a00).intoArray(part, q);
        FloatVector.fromArray(SPECIES, part, q + V).add(a01).intoArray(part, q + V);
        q += width;
        FloatVector.fromArray(SPECIES, part, q).add(a10).intoArray(part, q);
        FloatVector.fromArray(SPECIES, part, q + V).add(a11).intoArray(part, q + V);
        q += width;
        FloatVector.fromArray(SPECIES, part, q).add(a20).intoArray(part, q);
        FloatVector.fromArray(SPECIES, part, q + V).add(a21).intoArray(part, q + V);
        q += width;
        FloatVector.fromArray(SPECIES, part, q).add(a30).intoArray(part, q);
        FloatVector.fromArray(SPECIES, part, q + V).add(a31).intoArray(part, q + V);
        q += width;
        FloatVector.fromArray(SPECIES, part, q).add(a40).intoArray(part, q);
        FloatVector.fromArray(SPECIES, part, q + V).add(a41).intoArray(part, q + V);
        q += width;
        FloatVector.fromArray(SPECIES, part, q).add(a50).intoArray(part, q);
        FloatVector.fromArray(SPECIES, part, q + V).add(a51).intoArray(part, q + V);
        q += width;
        FloatVector.fromArray(SPECIES, part, q).add(a60).intoArray(part, q);
        FloatVector.fromArray(SPECIES, part, q + V).add(a61).intoArray(part, q + V);
        q += width;
        FloatVector.fromArray(SPECIES, part, q).add(a70).intoArray(part, q);
        FloatVector.fromArray(SPECIES, part, q + V).add(a71).intoArray(part, q + V);
        q += width;
        FloatVector.fromArray(SPECIES, part, q).add(a80).intoArray(part, q);
        FloatVector.fromArray(SPECIES, part, q + V).add(a81).intoArray(part, q + V);
        if (t0 == 0) {
            q = p + offsets.length * width + oc0;
            FloatVector.fromArray(SPECIES, part, q).add(s0).intoArray(part, q);
            FloatVector.fromArray(SPECIES, part, q + V).add(s1).intoArray(part, q + V);
        }
    }

    /** One pixel's terms (window at {@code xo}, dy row at {@code d}) added to the partial at {@code p}, without vectors. */
    private static void accumulateScalar(float[] x, int xo, int[] offsets, int k, float[] dy, int d, int outC,
                                         float[] part, int p, int width) {
        for (int t = 0; t < k; t++) {
            float v = x[xo + offsets[t]];
            for (int oc = 0, q = p + t * width; oc < outC; oc++) part[q + oc] = Math.fma(v, dy[d + oc], part[q + oc]);
        }
        for (int oc = 0, q = p + offsets.length * width; oc < outC; oc++) part[q + oc] += dy[d + oc];
    }

    /**
     * Runs {@code body} over the batch as {@link Input}s: all of x at once when no window
     * reaches outside the input, else {@link #PADDED_BUDGET}-sized chunks of zero-padded images.
     * {@code taps} offsets are listed; those past K repeat tap 0.
     */
    private static void forEachChunk(ConvGeometry g, float[] x, int taps, Workspace ws, Consumer<Input> body) {
        int c = g.c(), k = patchLength(g), tapsPerRow = g.kw() * c;
        // The rows and columns that the windows cover, from the top-left padding on.
        int paddedH = (g.outH() - 1) * g.strideH() + g.kh(), paddedW = (g.outW() - 1) * g.strideW() + g.kw();
        boolean pads = g.padTop() > 0 || g.padLeft() > 0 || paddedH > g.h() || paddedW > g.w();
        int rowSize = (pads ? paddedW : g.w()) * c, imageSize = (pads ? paddedH : g.h()) * rowSize;
        int[] offsets = new int[taps];
        for (int t = 0; t < k; t++) offsets[t] = t / tapsPerRow * rowSize + t % tapsPerRow;
        if (!pads) {
            body.accept(new Input(x, 0, g.n(), imageSize, rowSize, offsets));
            return;
        }
        int images = Math.clamp(PADDED_BUDGET / imageSize, 1, g.n());
        float[] padded = ws.b(images * imageSize);
        for (int b0 = 0; b0 < g.n(); b0 += images) {
            int first = b0, end = Math.min(g.n(), b0 + images);
            Parallel.forRange(end - first, imageSize, (i0, i1) -> {
                for (int b = first + i0; b < first + i1; b++) pad(g, x, b, padded, (b - first) * imageSize, paddedH, paddedW);
            });
            body.accept(new Input(padded, first, end, imageSize, rowSize, offsets));
        }
    }

    /** Image b of x, placed at {@code (padTop, padLeft)} in a {@code paddedH x paddedW} image of zeros at {@code dst[at..]}, cut to fit. */
    private static void pad(ConvGeometry g, float[] x, int b, float[] dst, int at, int paddedH, int paddedW) {
        int c = g.c(), rowSize = paddedW * c;
        int left = Math.min(g.padLeft(), paddedW), copied = Math.clamp(paddedW - g.padLeft(), 0, g.w());
        for (int i = 0; i < paddedH; i++, at += rowSize) {
            int ih = i - g.padTop();
            if (ih < 0 || ih >= g.h()) {
                Arrays.fill(dst, at, at + rowSize, 0f);
                continue;
            }
            Arrays.fill(dst, at, at + left * c, 0f);
            System.arraycopy(x, (b * g.h() + ih) * g.w() * c, dst, at + left * c, copied * c);
            Arrays.fill(dst, at + (left + copied) * c, at + rowSize, 0f);
        }
    }

    /**
     * Number of leading output pixels (over the whole batch) whose every channel block can be
     * loaded and stored as two whole vectors without reaching past the end of y or dy. A masked
     * access that would reach past an array's end leaves the intrinsic, and once C2 has seen one
     * it recompiles the register kernel several times slower; so those few last pixels (only
     * when outC is not a multiple of {@link #BLOCK}) take a scalar loop instead.
     */
    private static int wholePixels(ConvGeometry g) {
        long pixels = (long) g.n() * g.outH() * g.outW(), outC = g.outC(), lastBlock = (outC - 1) / BLOCK * BLOCK;
        return (int) Math.clamp(Math.floorDiv(pixels * outC - lastBlock - BLOCK, outC) + 1, 0, pixels);
    }

    private static int patchLength(ConvGeometry g) {
        return g.kh() * g.kw() * g.c();
    }

    private static int roundUp(int n, int multiple) {
        return Math.ceilDiv(n, multiple) * multiple;
    }
}
