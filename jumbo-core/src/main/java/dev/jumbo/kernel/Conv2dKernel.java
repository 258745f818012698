package dev.jumbo.kernel;

/**
 * 2-D convolution over NHWC inputs with a {@code [kh, kw, c, outC]} filter, forward and both
 * backward passes. Out-of-range (padding) input positions read as zero.
 */
public final class Conv2dKernel {
    private Conv2dKernel() {}

    /** {@code y[n,oh,ow,oc] = bias[oc] + sum x[n,ih,iw,c] * w[kh,kw,c,oc]}; bias may be null. */
    public static void forward(ConvGeometry g, float[] x, float[] w, float[] bias, float[] y) {
        for (int b = 0; b < g.n(); b++)
            for (int oh = 0; oh < g.outH(); oh++)
                for (int ow = 0; ow < g.outW(); ow++)
                    for (int oc = 0; oc < g.outC(); oc++) {
                        float s = bias == null ? 0 : bias[oc];
                        for (int i = 0; i < g.kh(); i++) {
                            int ih = oh * g.strideH() - g.padTop() + i;
                            if (ih < 0 || ih >= g.h()) continue;
                            for (int j = 0; j < g.kw(); j++) {
                                int iw = ow * g.strideW() - g.padLeft() + j;
                                if (iw < 0 || iw >= g.w()) continue;
                                for (int c = 0; c < g.c(); c++)
                                    s += x[((b * g.h() + ih) * g.w() + iw) * g.c() + c]
                                            * w[((i * g.kw() + j) * g.c() + c) * g.outC() + oc];
                            }
                        }
                        y[((b * g.outH() + oh) * g.outW() + ow) * g.outC() + oc] = s;
                    }
    }

    /** Overwrites {@code dx} with the gradient of the loss with respect to the input. */
    public static void backwardInput(ConvGeometry g, float[] dy, float[] w, float[] dx) {
        java.util.Arrays.fill(dx, 0, g.n() * g.h() * g.w() * g.c(), 0f);
        for (int b = 0; b < g.n(); b++)
            for (int oh = 0; oh < g.outH(); oh++)
                for (int ow = 0; ow < g.outW(); ow++)
                    for (int oc = 0; oc < g.outC(); oc++) {
                        float d = dy[((b * g.outH() + oh) * g.outW() + ow) * g.outC() + oc];
                        for (int i = 0; i < g.kh(); i++) {
                            int ih = oh * g.strideH() - g.padTop() + i;
                            if (ih < 0 || ih >= g.h()) continue;
                            for (int j = 0; j < g.kw(); j++) {
                                int iw = ow * g.strideW() - g.padLeft() + j;
                                if (iw < 0 || iw >= g.w()) continue;
                                for (int c = 0; c < g.c(); c++)
                                    dx[((b * g.h() + ih) * g.w() + iw) * g.c() + c] +=
                                            d * w[((i * g.kw() + j) * g.c() + c) * g.outC() + oc];
                            }
                        }
                    }
    }

    /** Overwrites {@code dw} (and {@code dbias} unless null) with the filter and bias gradients. */
    public static void backwardFilter(ConvGeometry g, float[] x, float[] dy, float[] dw, float[] dbias) {
        java.util.Arrays.fill(dw, 0, g.kh() * g.kw() * g.c() * g.outC(), 0f);
        if (dbias != null) java.util.Arrays.fill(dbias, 0, g.outC(), 0f);
        for (int b = 0; b < g.n(); b++)
            for (int oh = 0; oh < g.outH(); oh++)
                for (int ow = 0; ow < g.outW(); ow++)
                    for (int oc = 0; oc < g.outC(); oc++) {
                        float d = dy[((b * g.outH() + oh) * g.outW() + ow) * g.outC() + oc];
                        if (dbias != null) dbias[oc] += d;
                        for (int i = 0; i < g.kh(); i++) {
                            int ih = oh * g.strideH() - g.padTop() + i;
                            if (ih < 0 || ih >= g.h()) continue;
                            for (int j = 0; j < g.kw(); j++) {
                                int iw = ow * g.strideW() - g.padLeft() + j;
                                if (iw < 0 || iw >= g.w()) continue;
                                for (int c = 0; c < g.c(); c++)
                                    dw[((i * g.kw() + j) * g.c() + c) * g.outC() + oc] +=
                                            d * x[((b * g.h() + ih) * g.w() + iw) * g.c() + c];
                            }
                        }
                    }
    }
}
