package dev.jumbo.kernel;

import java.util.Arrays;

/**
 * 2-D convolution over NHWC inputs with a {@code [kh, kw, c, outC]} filter, forward and both
 * backward passes. Out-of-range (padding) input positions read as zero.
 *
 * <p>All three passes are matrix products over the patch matrix P ({@link Im2Col}: one row of
 * {@code K = kh*kw*c} values per output pixel), with the filter read as a {@code K x outC}
 * matrix W, exactly as it is stored:
 * <pre>
 * forward         y  = P  x W   (+ bias per row)
 * backwardFilter  dW = P^T x dy  (dbias = column sums of dy)
 * backwardInput   dP = dy x W^T, then scattered back onto dx (col2im)
 * </pre>
 * The output pixels are cut into chunks of about {@link #TASK_BUDGET} patch floats, sized so a
 * chunk's patches stay in one core's L2 cache between being gathered and being multiplied; each
 * chunk is one task on {@link Parallel} (gather, then a single-threaded product), so no thread
 * waits for another inside a pass. The filter gradient sums one partial per thread, in a fixed
 * order (results do not depend on timing). When one image's patches exceed a chunk, the input
 * gradient falls back to chunks of {@link #PATCH_BUDGET} multiplied in parallel and scattered
 * by channel. A 1x1, stride-1, unpadded convolution is already a product on x itself and skips
 * the patch matrix. Filters with a short patch (K up to {@link #DIRECT_MAX_PATCH}, such as a
 * first layer's 3x3 over one or three channels) skip it too: their forward pass and filter
 * gradient go to {@link Conv2dDirect}, which reads x in place; their input gradient still takes
 * the patches.
 */
public final class Conv2dKernel {
    /** Floats of patch matrix per chunk in the fallback (4 MB). */
    static final int PATCH_BUDGET = 1 << 20;
    /** Floats of patch matrix per task (512 KB): half of a core's L2 on current x86 and ARM server cores. */
    static final int TASK_BUDGET = 1 << 17;
    /**
     * Longest patch sent to {@link Conv2dDirect}: three of its register blocks, a 3x3 filter over
     * up to three channels or a 5x5 over one. Up to here it measured 2.5-9x faster than the patch
     * matrix with AVX-512 (which also wins beyond, by less), and faster or level with AVX2, whose
     * 16 vector registers cannot hold the gradient block: there its filter gradient fell 30%
     * behind at K = 36.
     */
    static final int DIRECT_MAX_PATCH = 3 * Conv2dDirect.TAPS;

    private Conv2dKernel() {}

    /** {@code y[n,oh,ow,oc] = bias[oc] + sum x[n,ih,iw,c] * w[kh,kw,c,oc]}; bias may be null. */
    public static void forward(ConvGeometry g, float[] x, float[] w, float[] bias, float[] y) {
        int rows = rows(g), k = patchLength(g), oc = g.outC();
        require(x, inputSize(g), "x", g);
        require(w, filterSize(g), "w", g);
        require(y, (long) rows * oc, "y", g);
        if (bias != null) require(bias, oc, "bias", g);
        if (rows == 0) return;
        if (isDirect(g)) Conv2dDirect.forward(g, x, w, bias, y);
        else forwardByPatches(g, x, w, bias, y);
    }

    /** {@link #forward} over the patch matrix (or over x itself when pointwise); sizes are already checked. */
    static void forwardByPatches(ConvGeometry g, float[] x, float[] w, float[] bias, float[] y) {
        int rows = rows(g), k = patchLength(g), oc = g.outC();
        if (isPointwise(g)) {
            Gemm.sgemm(false, false, rows, oc, g.c(), 1f, x, 0, g.c(), w, 0, oc, 0f, y, 0, oc);
            if (bias != null)
                Parallel.forRange(rows, oc, (r0, r1) -> addBias(bias, y, r0, r1, oc));
            return;
        }
        int chunk = taskRows(g, false);
        Parallel.forTasks(Math.ceilDiv(rows, chunk), t -> {
            int r0 = t * chunk, r1 = Math.min(rows, r0 + chunk);
            Workspace ws = Workspace.acquire();
            try {
                float[] patches = ws.a((r1 - r0) * k);
                Im2Col.gather(g, x, r0, r1, patches, 0);
                Gemm.sgemm(false, false, r1 - r0, oc, k, 1f, patches, 0, k, w, 0, oc, 0f, y, r0 * oc, oc);
                if (bias != null) addBias(bias, y, r0, r1, oc);
            } finally {
                Workspace.release(ws);
            }
        });
    }

    /** Overwrites {@code dx} with the gradient of the loss with respect to the input. */
    public static void backwardInput(ConvGeometry g, float[] dy, float[] w, float[] dx) {
        int rows = rows(g), k = patchLength(g), oc = g.outC();
        require(dy, (long) rows * oc, "dy", g);
        require(w, filterSize(g), "w", g);
        require(dx, inputSize(g), "dx", g);
        if (isPointwise(g)) {
            if (rows > 0) Gemm.sgemm(false, true, rows, g.c(), oc, 1f, dy, 0, oc, w, 0, oc, 0f, dx, 0, g.c());
            return;
        }
        if (rows == 0) {
            Arrays.fill(dx, 0, (int) inputSize(g), 0f);
            return;
        }
        int pixels = g.outH() * g.outW(), chunk = taskRows(g, true), imageSize = g.h() * g.w() * g.c();
        if (chunk % pixels != 0) {
            backwardInputByChannel(g, dy, w, dx);
            return;
        }
        // Whole images per task: each task owns its images' part of dx, so it zeroes and scatters alone.
        Parallel.forTasks(Math.ceilDiv(rows, chunk), t -> {
            int r0 = t * chunk, r1 = Math.min(rows, r0 + chunk);
            Workspace ws = Workspace.acquire();
            try {
                float[] dPatches = ws.a((r1 - r0) * k);
                Gemm.sgemm(false, true, r1 - r0, k, oc, 1f, dy, r0 * oc, oc, w, 0, oc, 0f, dPatches, 0, k);
                Arrays.fill(dx, r0 / pixels * imageSize, r1 / pixels * imageSize, 0f);
                Im2Col.scatterAdd(g, dPatches, 0, r0, r1, 0, g.c(), dx);
            } finally {
                Workspace.release(ws);
            }
        });
    }

    /** The input gradient when one image's patches are larger than a task's chunk. */
    private static void backwardInputByChannel(ConvGeometry g, float[] dy, float[] w, float[] dx) {
        int rows = rows(g), k = patchLength(g), oc = g.outC();
        Arrays.fill(dx, 0, (int) inputSize(g), 0f);
        Workspace ws = Workspace.acquire();
        try {
            int chunk = Math.min(rows, Math.max(1, PATCH_BUDGET / k));
            float[] dPatches = ws.a(chunk * k);
            for (int r0 = 0; r0 < rows; r0 += chunk) {
                int r1 = Math.min(rows, r0 + chunk), from = r0;
                Gemm.sgemm(false, true, r1 - r0, k, oc, 1f, dy, r0 * oc, oc, w, 0, oc, 0f, dPatches, 0, k);
                // Windows of one image overlap, but different channels never do.
                Parallel.forRange(g.c(), (long) (r1 - r0) * g.kh() * g.kw(), (c0, c1) ->
                        Im2Col.scatterAdd(g, dPatches, 0, from, r1, c0, c1, dx));
            }
        } finally {
            Workspace.release(ws);
        }
    }

    /** Overwrites {@code dw} (and {@code dbias} unless null) with the filter and bias gradients. */
    public static void backwardFilter(ConvGeometry g, float[] x, float[] dy, float[] dw, float[] dbias) {
        int rows = rows(g), k = patchLength(g), oc = g.outC(), filterSize = (int) filterSize(g);
        require(x, inputSize(g), "x", g);
        require(dy, (long) rows * oc, "dy", g);
        require(dw, filterSize, "dw", g);
        if (dbias != null) require(dbias, oc, "dbias", g);
        if (isDirect(g)) Conv2dDirect.backwardFilter(g, x, dy, dw, dbias);
        else backwardFilterByPatches(g, x, dy, dw, dbias);
    }

    /**
     * Each example's filter and bias gradients (for DP-SGD): writes example b's
     * {@code patches_b^T dy_b} at {@code dw[b * filterSize ..]} and its column sums of
     * {@code dy_b} at {@code dbias[b * outC ..]} (skipped when null). Examples run in parallel,
     * each one gemm over its own patch rows.
     */
    public static void backwardFilterPerExample(ConvGeometry g, float[] x, float[] dy, float[] dw, float[] dbias) {
        int oc = g.outC(), k = patchLength(g), filterSize = (int) filterSize(g), per = g.outH() * g.outW();
        require(x, inputSize(g), "x", g);
        require(dy, (long) rows(g) * oc, "dy", g);
        require(dw, (long) g.n() * filterSize, "dw", g);
        if (dbias != null) require(dbias, (long) g.n() * oc, "dbias", g);
        boolean pointwise = isPointwise(g);
        Parallel.forEach(g.n(), 2L * per * k * oc, b -> {
            int r0 = b * per;
            if (dbias != null) {
                Arrays.fill(dbias, b * oc, (b + 1) * oc, 0f);
                for (int r = r0; r < r0 + per; r++) VectorMath.add(dbias, b * oc, dy, r * oc, dbias, b * oc, oc);
            }
            if (pointwise) {
                Gemm.sgemm(true, false, k, oc, per, 1f, x, r0 * k, k, dy, r0 * oc, oc, 0f, dw, b * filterSize, oc);
                return;
            }
            Workspace ws = Workspace.acquire();
            try {
                float[] patches = ws.a(per * k);
                Im2Col.gather(g, x, r0, r0 + per, patches, 0);
                Gemm.sgemm(true, false, k, oc, per, 1f, patches, 0, k, dy, r0 * oc, oc, 0f, dw, b * filterSize, oc);
            } finally {
                Workspace.release(ws);
            }
        });
    }

    /** {@link #backwardFilter} over the patch matrix (or over x itself when pointwise); sizes are already checked. */
    static void backwardFilterByPatches(ConvGeometry g, float[] x, float[] dy, float[] dw, float[] dbias) {
        int rows = rows(g), k = patchLength(g), oc = g.outC(), filterSize = (int) filterSize(g);
        if (dbias != null) {
            Arrays.fill(dbias, 0, oc, 0f);
            for (int r = 0; r < rows; r++) VectorMath.add(dbias, 0, dy, r * oc, dbias, 0, oc);
        }
        if (rows == 0) {
            Arrays.fill(dw, 0, filterSize, 0f);
            return;
        }
        if (isPointwise(g)) {
            Gemm.sgemm(true, false, g.c(), oc, rows, 1f, x, 0, g.c(), dy, 0, oc, 0f, dw, 0, oc);
            return;
        }
        // One partial gradient per group of chunks, a group per thread, summed in group order:
        // the same thread count always adds the same numbers in the same order.
        int chunk = taskRows(g, false), chunks = Math.ceilDiv(rows, chunk);
        int groups = Math.min(chunks, Parallel.insideParallel() ? 1 : Parallel.threads());
        float[][] partials = new float[groups][];
        partials[0] = dw;
        Parallel.forTasks(groups, grp -> {
            float[] acc = grp == 0 ? dw : (partials[grp] = new float[filterSize]);
            Workspace ws = Workspace.acquire();
            try {
                int c0 = (int) ((long) chunks * grp / groups), c1 = (int) ((long) chunks * (grp + 1) / groups);
                for (int t = c0; t < c1; t++) {
                    int r0 = t * chunk, r1 = Math.min(rows, r0 + chunk);
                    float[] patches = ws.a((r1 - r0) * k);
                    Im2Col.gather(g, x, r0, r1, patches, 0);
                    Gemm.sgemm(true, false, k, oc, r1 - r0, 1f, patches, 0, k, dy, r0 * oc, oc,
                            t == c0 ? 0f : 1f, acc, 0, oc);
                }
            } finally {
                Workspace.release(ws);
            }
        });
        for (int grp = 1; grp < groups; grp++) VectorMath.add(dw, 0, partials[grp], 0, dw, 0, filterSize);
    }

    private static void addBias(float[] bias, float[] y, int r0, int r1, int oc) {
        for (int r = r0; r < r1; r++) VectorMath.add(y, r * oc, bias, 0, y, r * oc, oc);
    }

    /**
     * Patch rows per task within {@link #TASK_BUDGET}, at least {@link GemmMicroKernel#MR} so the
     * product has whole micro-panels; for the input gradient rounded down to whole images when
     * an image fits (the caller checks that it did).
     */
    private static int taskRows(ConvGeometry g, boolean wholeImages) {
        int chunk = Math.max(GemmMicroKernel.MR, TASK_BUDGET / patchLength(g)), pixels = g.outH() * g.outW();
        if (wholeImages && chunk >= pixels) chunk = chunk / pixels * pixels;
        return Math.min(chunk, rows(g));
    }

    /** Short patch, and not pointwise (which needs no patch matrix either). */
    private static boolean isDirect(ConvGeometry g) {
        return patchLength(g) <= DIRECT_MAX_PATCH && !isPointwise(g);
    }

    private static boolean isPointwise(ConvGeometry g) {
        return g.kh() == 1 && g.kw() == 1 && g.strideH() == 1 && g.strideW() == 1 && g.padTop() == 0
                && g.padLeft() == 0 && g.outH() == g.h() && g.outW() == g.w();
    }

    private static int rows(ConvGeometry g) {
        return Math.toIntExact((long) g.n() * g.outH() * g.outW());
    }

    private static int patchLength(ConvGeometry g) {
        return Math.toIntExact((long) g.kh() * g.kw() * g.c());
    }

    private static long inputSize(ConvGeometry g) {
        return (long) g.n() * g.h() * g.w() * g.c();
    }

    private static long filterSize(ConvGeometry g) {
        return (long) g.kh() * g.kw() * g.c() * g.outC();
    }

    private static void require(float[] a, long length, String name, ConvGeometry g) {
        if (a == null || a.length < length)
            throw new IllegalArgumentException(name + " holds " + (a == null ? "null" : a.length + " floats")
                    + ", needs " + length + " for " + g);
    }
}
