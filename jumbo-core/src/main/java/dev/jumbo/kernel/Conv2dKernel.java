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
 * P is built {@link #PATCH_BUDGET} floats at a time, so memory stays bounded whatever the batch;
 * the copies and the products are split over {@link Parallel}'s threads. A 1x1, stride-1,
 * unpadded convolution is already a product on x itself and skips the patch matrix. Filters
 * with a short patch (K up to {@link #DIRECT_MAX_PATCH}, such as a first layer's 3x3 over one
 * or three channels) skip it too: their forward pass and filter gradient go to
 * {@link Conv2dDirect}, which reads x in place; their input gradient still takes the patches.
 */
public final class Conv2dKernel {
    /** Floats of patch matrix per chunk (4 MB): big enough for long products, small enough to stay in cache. */
    static final int PATCH_BUDGET = 1 << 20;
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
        } else {
            Workspace ws = Workspace.acquire();
            try {
                int chunk = rowsPerChunk(g, false);
                float[] patches = ws.a(chunk * k);
                for (int r0 = 0; r0 < rows; r0 += chunk) {
                    int r1 = Math.min(rows, r0 + chunk);
                    gather(g, x, r0, r1, patches);
                    Gemm.sgemm(false, false, r1 - r0, oc, k, 1f, patches, 0, k, w, 0, oc, 0f, y, r0 * oc, oc);
                }
            } finally {
                Workspace.release(ws);
            }
        }
        if (bias != null)
            Parallel.forRange(rows, oc, (r0, r1) -> {
                for (int r = r0; r < r1; r++) VectorMath.add(y, r * oc, bias, 0, y, r * oc, oc);
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
        Arrays.fill(dx, 0, (int) inputSize(g), 0f);
        if (rows == 0) return;
        int pixels = g.outH() * g.outW();
        Workspace ws = Workspace.acquire();
        try {
            int chunk = rowsPerChunk(g, true);
            float[] dPatches = ws.a(chunk * k);
            for (int r0 = 0; r0 < rows; r0 += chunk) {
                int r1 = Math.min(rows, r0 + chunk), from = r0;
                Gemm.sgemm(false, true, r1 - r0, k, oc, 1f, dy, r0 * oc, oc, w, 0, oc, 0f, dPatches, 0, k);
                int images = (r1 - r0) / pixels;
                if (r0 % pixels == 0 && (r1 - r0) % pixels == 0 && images > 1) {
                    // Different images write disjoint parts of dx.
                    Parallel.forRange(images, (long) pixels * k, (i0, i1) -> Im2Col.scatterAdd(g, dPatches,
                            i0 * pixels * k, from + i0 * pixels, from + i1 * pixels, 0, g.c(), dx));
                } else {
                    // Windows of one image overlap, but different channels never do.
                    Parallel.forRange(g.c(), (long) (r1 - r0) * g.kh() * g.kw(), (c0, c1) ->
                            Im2Col.scatterAdd(g, dPatches, 0, from, r1, c0, c1, dx));
                }
            }
        } finally {
            Workspace.release(ws);
        }
    }

    /** Overwrites {@code dw} (and {@code dbias} unless null) with the filter and bias gradients. */
    public static void backwardFilter(ConvGeometry g, float[] x, float[] dy, float[] dw, float[] dbias) {
        int rows = rows(g), k = patchLength(g), oc = g.outC();
        require(x, inputSize(g), "x", g);
        require(dy, (long) rows * oc, "dy", g);
        require(dw, filterSize(g), "dw", g);
        if (dbias != null) require(dbias, oc, "dbias", g);
        if (isDirect(g)) Conv2dDirect.backwardFilter(g, x, dy, dw, dbias);
        else backwardFilterByPatches(g, x, dy, dw, dbias);
    }

    /** {@link #backwardFilter} over the patch matrix (or over x itself when pointwise); sizes are already checked. */
    static void backwardFilterByPatches(ConvGeometry g, float[] x, float[] dy, float[] dw, float[] dbias) {
        int rows = rows(g), k = patchLength(g), oc = g.outC();
        if (dbias != null) {
            Arrays.fill(dbias, 0, oc, 0f);
            for (int r = 0; r < rows; r++) VectorMath.add(dbias, 0, dy, r * oc, dbias, 0, oc);
        }
        if (rows == 0) {
            Arrays.fill(dw, 0, (int) filterSize(g), 0f);
        } else if (isPointwise(g)) {
            Gemm.sgemm(true, false, g.c(), oc, rows, 1f, x, 0, g.c(), dy, 0, oc, 0f, dw, 0, oc);
        } else {
            Workspace ws = Workspace.acquire();
            try {
                int chunk = rowsPerChunk(g, false);
                float[] patches = ws.a(chunk * k);
                for (int r0 = 0; r0 < rows; r0 += chunk) {
                    int r1 = Math.min(rows, r0 + chunk);
                    gather(g, x, r0, r1, patches);
                    Gemm.sgemm(true, false, k, oc, r1 - r0, 1f, patches, 0, k, dy, r0 * oc, oc,
                            r0 == 0 ? 0f : 1f, dw, 0, oc);
                }
            } finally {
                Workspace.release(ws);
            }
        }
    }

    /** Patch rows {@code r0 .. r1} into {@code patches}, rows split over threads. */
    private static void gather(ConvGeometry g, float[] x, int r0, int r1, float[] patches) {
        int k = patchLength(g);
        Parallel.forRange(r1 - r0, k, (a, b) -> Im2Col.gather(g, x, r0 + a, r0 + b, patches, a * k));
    }

    /**
     * Patch rows per chunk within {@link #PATCH_BUDGET}. For the input gradient, a chunk holding
     * more than one image is rounded down to whole images so its scatter can split by image.
     */
    private static int rowsPerChunk(ConvGeometry g, boolean wholeImages) {
        int chunk = Math.max(1, PATCH_BUDGET / patchLength(g)), pixels = g.outH() * g.outW();
        if (wholeImages && chunk >= 2 * pixels) chunk = chunk / pixels * pixels;
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
