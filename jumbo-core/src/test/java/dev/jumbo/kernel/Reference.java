package dev.jumbo.kernel;

import java.util.Arrays;

/**
 * Naive reference implementations of every kernel in this package: the plain loops the fast
 * kernels replaced, kept verbatim in meaning (same argument order, same semantics) so tests can
 * compare against them. Single-threaded, no blocking, no vectors: obviously right, slow.
 */
final class Reference {
    private Reference() {}

    // ---- Gemm ----------------------------------------------------------------------------------

    static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                      float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                      float beta, float[] c, int cOff, int ldc) {
        batched(1, transA, transB, m, n, k, alpha, a, aOff, lda, 0, b, bOff, ldb, 0, beta, c, cOff, ldc, 0);
    }

    static void batched(int batch, boolean transA, boolean transB, int m, int n, int k, float alpha,
                        float[] a, int aOff, int lda, int aStride, float[] b, int bOff, int ldb, int bStride,
                        float beta, float[] c, int cOff, int ldc, int cStride) {
        for (int row = 0; row < batch * m; row++) {
            int bi = row / m, i = row % m;
            int ao = aOff + bi * aStride, bo = bOff + bi * bStride, co = cOff + bi * cStride + i * ldc;
            for (int j = 0; j < n; j++) {
                float s = 0;
                for (int p = 0; p < k; p++) {
                    float av = transA ? a[ao + p * lda + i] : a[ao + i * lda + p];
                    float bv = transB ? b[bo + j * ldb + p] : b[bo + p * ldb + j];
                    s += av * bv;
                }
                c[co + j] = beta == 0 ? alpha * s : alpha * s + beta * c[co + j];
            }
        }
    }

    // ---- Conv2dKernel --------------------------------------------------------------------------

    static void convForward(ConvGeometry g, float[] x, float[] w, float[] bias, float[] y) {
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

    static void convBackwardInput(ConvGeometry g, float[] dy, float[] w, float[] dx) {
        Arrays.fill(dx, 0, g.n() * g.h() * g.w() * g.c(), 0f);
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

    static void convBackwardFilter(ConvGeometry g, float[] x, float[] dy, float[] dw, float[] dbias) {
        Arrays.fill(dw, 0, g.kh() * g.kw() * g.c() * g.outC(), 0f);
        if (dbias != null) Arrays.fill(dbias, 0, g.outC(), 0f);
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

    // ---- Pool2dKernel --------------------------------------------------------------------------

    static void maxPoolForward(ConvGeometry g, float[] x, float[] y, int[] argmax) {
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

    static void maxPoolBackward(ConvGeometry g, float[] dy, int[] argmax, float[] dx) {
        Arrays.fill(dx, 0, g.n() * g.h() * g.w() * g.c(), 0f);
        int outs = g.n() * g.outH() * g.outW() * g.c();
        for (int o = 0; o < outs; o++) if (argmax[o] >= 0) dx[argmax[o]] += dy[o]; // -1: an empty window, no winner
    }

    static void avgPoolForward(ConvGeometry g, float[] x, float[] y) {
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

    static void avgPoolBackward(ConvGeometry g, float[] dy, float[] dx) {
        Arrays.fill(dx, 0, g.n() * g.h() * g.w() * g.c(), 0f);
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

    // ---- VectorMath ----------------------------------------------------------------------------

    static void add(float[] a, int aOff, float[] b, int bOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) y[yOff + i] = a[aOff + i] + b[bOff + i];
    }

    static void mul(float[] a, int aOff, float[] b, int bOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) y[yOff + i] = a[aOff + i] * b[bOff + i];
    }

    static void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) y[yOff + i] += alpha * x[xOff + i];
    }

    static void scale(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) y[yOff + i] = alpha * x[xOff + i];
    }

    static double sum(float[] x, int off, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) s += x[off + i];
        return s;
    }

    static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        float s = 0;
        for (int i = 0; i < n; i++) s += a[aOff + i] * b[bOff + i];
        return s;
    }

    static void softmaxRows(float[] x, int xOff, float[] y, int yOff, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            int xo = xOff + r * cols, yo = yOff + r * cols;
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < cols; j++) max = Math.max(max, x[xo + j]);
            double s = 0;
            for (int j = 0; j < cols; j++) {
                float e = (float) Math.exp(x[xo + j] - max);
                y[yo + j] = e;
                s += e;
            }
            float inv = (float) (1.0 / s);
            for (int j = 0; j < cols; j++) y[yo + j] *= inv;
        }
    }

    static void logSoftmaxRows(float[] x, int xOff, float[] y, int yOff, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            int xo = xOff + r * cols, yo = yOff + r * cols;
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < cols; j++) max = Math.max(max, x[xo + j]);
            double s = 0;
            for (int j = 0; j < cols; j++) s += Math.exp(x[xo + j] - max);
            float lse = max + (float) Math.log(s);
            for (int j = 0; j < cols; j++) y[yo + j] = x[xo + j] - lse;
        }
    }

    // New in VectorMath (no plain-loop original; these are their definitions).

    static void sub(float[] a, int aOff, float[] b, int bOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) y[yOff + i] = a[aOff + i] - b[bOff + i];
    }

    static void div(float[] a, int aOff, float[] b, int bOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) y[yOff + i] = a[aOff + i] / b[bOff + i];
    }

    static void relu(float[] x, int xOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) y[yOff + i] = Math.max(x[xOff + i], 0f);
    }

    static void reluBackward(float[] x, int xOff, float[] g, int gOff, float[] dx, int dxOff, int n) {
        for (int i = 0; i < n; i++) dx[dxOff + i] = x[xOff + i] > 0 ? g[gOff + i] : 0f;
    }

    static void exp(float[] x, int xOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) y[yOff + i] = (float) Math.exp(x[xOff + i]);
    }

    static int maxIndex(float[] x, int off, int n) {
        int best = -1;
        for (int i = 0; i < n; i++) {
            float v = x[off + i];
            if (best < 0 || !Float.isNaN(x[off + best]) && (v > x[off + best] || Float.isNaN(v))) best = i;
        }
        return best;
    }

    /** RMSNorm in double: {@code w * x / sqrt(mean(x^2) + eps)}. */
    static void rmsNorm(float[] x, int xOff, float[] w, int wOff, float eps, float[] y, int yOff, int n) {
        double ss = 0;
        for (int i = 0; i < n; i++) ss += (double) x[xOff + i] * x[xOff + i];
        double inv = 1 / Math.sqrt(ss / n + eps);
        for (int i = 0; i < n; i++) y[yOff + i] = (float) (w[wOff + i] * (x[xOff + i] * inv));
    }

    /** {@code silu(gate) * up} in double. */
    static void siluMul(float[] gate, int gOff, float[] up, int uOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) {
            double g = gate[gOff + i];
            y[yOff + i] = (float) (g / (1 + Math.exp(-g)) * up[uOff + i]);
        }
    }
}
