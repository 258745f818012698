package dev.jumbo.kernel;

/**
 * Max and average pooling over NHWC inputs ({@link ConvGeometry} with {@code outC == c}).
 * Padding positions are skipped: they never win a max and are not counted in an average
 * (Keras and PyTorch's {@code count_include_pad=False}).
 */
public final class Pool2dKernel {
    private Pool2dKernel() {}

    /** Writes each window's maximum to {@code y} and the flat input index of the winner to {@code argmax}. */
    public static void maxForward(ConvGeometry g, float[] x, float[] y, int[] argmax) {
        for (int b = 0; b < g.n(); b++)
            for (int oh = 0; oh < g.outH(); oh++)
                for (int ow = 0; ow < g.outW(); ow++)
                    for (int c = 0; c < g.c(); c++) {
                        float best = Float.NEGATIVE_INFINITY;
                        int at = -1;
                        for (int i = 0; i < g.kh(); i++) {
                            int ih = oh * g.strideH() - g.padTop() + i;
                            if (ih < 0 || ih >= g.h()) continue;
                            for (int j = 0; j < g.kw(); j++) {
                                int iw = ow * g.strideW() - g.padLeft() + j;
                                if (iw < 0 || iw >= g.w()) continue;
                                int idx = ((b * g.h() + ih) * g.w() + iw) * g.c() + c;
                                if (at < 0 || x[idx] > best || Float.isNaN(x[idx])) {
                                    best = x[idx];
                                    at = idx;
                                }
                            }
                        }
                        int o = ((b * g.outH() + oh) * g.outW() + ow) * g.c() + c;
                        y[o] = best;
                        argmax[o] = at;
                    }
    }

    /** Overwrites {@code dx} with the max-pool input gradient: each output's gradient goes to its winner. */
    public static void maxBackward(ConvGeometry g, float[] dy, int[] argmax, float[] dx) {
        java.util.Arrays.fill(dx, 0, g.n() * g.h() * g.w() * g.c(), 0f);
        int outs = g.n() * g.outH() * g.outW() * g.c();
        for (int o = 0; o < outs; o++) dx[argmax[o]] += dy[o];
    }

    /** Writes each window's mean over its in-range positions to {@code y}. */
    public static void avgForward(ConvGeometry g, float[] x, float[] y) {
        for (int b = 0; b < g.n(); b++)
            for (int oh = 0; oh < g.outH(); oh++)
                for (int ow = 0; ow < g.outW(); ow++)
                    for (int c = 0; c < g.c(); c++) {
                        float s = 0;
                        int count = 0;
                        for (int i = 0; i < g.kh(); i++) {
                            int ih = oh * g.strideH() - g.padTop() + i;
                            if (ih < 0 || ih >= g.h()) continue;
                            for (int j = 0; j < g.kw(); j++) {
                                int iw = ow * g.strideW() - g.padLeft() + j;
                                if (iw < 0 || iw >= g.w()) continue;
                                s += x[((b * g.h() + ih) * g.w() + iw) * g.c() + c];
                                count++;
                            }
                        }
                        y[((b * g.outH() + oh) * g.outW() + ow) * g.c() + c] = s / count;
                    }
    }

    /** Overwrites {@code dx} with the average-pool input gradient. */
    public static void avgBackward(ConvGeometry g, float[] dy, float[] dx) {
        java.util.Arrays.fill(dx, 0, g.n() * g.h() * g.w() * g.c(), 0f);
        for (int b = 0; b < g.n(); b++)
            for (int oh = 0; oh < g.outH(); oh++)
                for (int ow = 0; ow < g.outW(); ow++) {
                    int h0 = Math.max(0, oh * g.strideH() - g.padTop()), h1 = Math.min(g.h(), oh * g.strideH() - g.padTop() + g.kh());
                    int w0 = Math.max(0, ow * g.strideW() - g.padLeft()), w1 = Math.min(g.w(), ow * g.strideW() - g.padLeft() + g.kw());
                    int count = (h1 - h0) * (w1 - w0);
                    for (int c = 0; c < g.c(); c++) {
                        float d = dy[((b * g.outH() + oh) * g.outW() + ow) * g.c() + c] / count;
                        for (int ih = h0; ih < h1; ih++)
                            for (int iw = w0; iw < w1; iw++)
                                dx[((b * g.h() + ih) * g.w() + iw) * g.c() + c] += d;
                    }
                }
    }
}
