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

    static void softmaxBackwardRows(float[] y, int yOff, float[] g, int gOff, float[] dx, int dxOff, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            double dot = 0;
            for (int j = 0; j < cols; j++) dot += (double) g[gOff + r * cols + j] * y[yOff + r * cols + j];
            for (int j = 0; j < cols; j++) dx[dxOff + r * cols + j] = (float) (y[yOff + r * cols + j] * (g[gOff + r * cols + j] - dot));
        }
    }

    static void logSoftmaxBackwardRows(float[] y, int yOff, float[] g, int gOff, float[] dx, int dxOff, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            double s = 0;
            for (int j = 0; j < cols; j++) s += g[gOff + r * cols + j];
            for (int j = 0; j < cols; j++) dx[dxOff + r * cols + j] = (float) (g[gOff + r * cols + j] - Math.exp(y[yOff + r * cols + j]) * s);
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

    /** GELU's tanh form by its definition, in double. */
    static void geluTanh(float[] x, int xOff, float[] y, int yOff, int n) {
        double c = Math.sqrt(2 / Math.PI);
        for (int i = 0; i < n; i++) {
            double v = x[xOff + i];
            y[yOff + i] = (float) (0.5 * v * (1 + Math.tanh(c * (v + 0.044715 * v * v * v))));
        }
    }

    /** Its derivative times g, by differentiating the definition by hand, in double. */
    static void geluTanhBackward(float[] x, int xOff, float[] g, int gOff, float[] dx, int dxOff, int n) {
        double c = Math.sqrt(2 / Math.PI);
        for (int i = 0; i < n; i++) {
            double v = x[xOff + i], t = Math.tanh(c * (v + 0.044715 * v * v * v));
            double d = 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * c * (1 + 3 * 0.044715 * v * v);
            dx[dxOff + i] = (float) (g[gOff + i] * d);
        }
    }

    // ---- LayerNormKernel -------------------------------------------------------------------------

    /** Layer norm of each row by its definition, in double; also writes each row's mean and rstd. */
    static void layerNormForward(float[] x, float[] gamma, float[] beta, float eps, float[] y, float[] mean, float[] rstd, int rows, int d) {
        for (int r = 0; r < rows; r++) {
            double m = 0, v = 0;
            for (int j = 0; j < d; j++) m += x[r * d + j];
            m /= d;
            for (int j = 0; j < d; j++) v += (x[r * d + j] - m) * (x[r * d + j] - m);
            double s = 1 / Math.sqrt(v / d + eps);
            mean[r] = (float) m;
            rstd[r] = (float) s;
            for (int j = 0; j < d; j++) y[r * d + j] = (float) ((x[r * d + j] - m) * s * gamma[j] + beta[j]);
        }
    }

    /**
     * Its gradient, by the chain rule through mean and variance written out term by term, in
     * double: dx (overwritten), dgamma and dbeta (added to).
     */
    static void layerNormBackward(float[] x, float[] gamma, float eps, float[] g, float[] dx, float[] dgamma, float[] dbeta, int rows, int d) {
        for (int r = 0; r < rows; r++) {
            double m = 0, v = 0;
            for (int j = 0; j < d; j++) m += x[r * d + j];
            m /= d;
            for (int j = 0; j < d; j++) v += (x[r * d + j] - m) * (x[r * d + j] - m);
            v /= d;
            double s = 1 / Math.sqrt(v + eps);
            // y_j = (x_j - m) s gamma_j + beta_j; dL/dv = sum_j h_j (x_j - m) (-1/2) s^3; dL/dm = -s sum_j h_j
            double dv = 0, dm = 0;
            for (int j = 0; j < d; j++) {
                double h = (double) g[r * d + j] * gamma[j];
                dv += h * (x[r * d + j] - m) * -0.5 * s * s * s;
                dm += -h * s;
            }
            for (int j = 0; j < d; j++) {
                double h = (double) g[r * d + j] * gamma[j], xj = x[r * d + j];
                dx[r * d + j] = (float) (h * s + dv * 2 * (xj - m) / d + dm / d);
                dgamma[j] += (float) (g[r * d + j] * (xj - m) * s);
                dbeta[j] += g[r * d + j];
            }
        }
    }

    // ---- AttentionKernel -------------------------------------------------------------------------

    /** Probabilities of head h for batch b, row by row, in double: softmax(scale q k^T + mask). */
    private static double[][] attentionProbs(AttentionKernel.Shape s, float scale, float[] q, AttentionKernel.Operand qo,
                                             float[] k, AttentionKernel.Operand ko, AttentionKernel.Mask m, int b, int h) {
        int hd = s.headDim();
        double[][] p = new double[s.tq()][s.tk()];
        for (int i = 0; i < s.tq(); i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < s.tk(); j++) {
                double dot = 0;
                for (int c = 0; c < hd; c++)
                    dot += (double) q[qo.offset() + b * qo.batchStride() + i * qo.rowStride() + h * hd + c]
                            * k[ko.offset() + b * ko.batchStride() + j * ko.rowStride() + h * hd + c];
                double score = scale * dot;
                if (m != null)
                    score += m.data()[m.offset() + b * m.batchStride() + h * m.headStride() + i * m.rowStride() + j * m.colStride()];
                p[i][j] = score;
                max = Math.max(max, score);
            }
            double sum = 0;
            for (int j = 0; j < s.tk(); j++) sum += p[i][j] = Math.exp(p[i][j] - max);
            for (int j = 0; j < s.tk(); j++) p[i][j] /= sum;
        }
        return p;
    }

    static void attentionForward(AttentionKernel.Shape s, float scale, float[] q, AttentionKernel.Operand qo, float[] k, AttentionKernel.Operand ko,
                                 float[] v, AttentionKernel.Operand vo, AttentionKernel.Mask m, float[] out) {
        int hd = s.headDim(), d = s.heads() * hd;
        for (int b = 0; b < s.batch(); b++)
            for (int h = 0; h < s.heads(); h++) {
                double[][] p = attentionProbs(s, scale, q, qo, k, ko, m, b, h);
                for (int i = 0; i < s.tq(); i++)
                    for (int c = 0; c < hd; c++) {
                        double acc = 0;
                        for (int j = 0; j < s.tk(); j++) acc += p[i][j] * v[vo.offset() + b * vo.batchStride() + j * vo.rowStride() + h * hd + c];
                        out[(b * s.tq() + i) * d + h * hd + c] = (float) acc;
                    }
            }
    }

    /** The gradients by the chain rule through softmax and the two products, in double. */
    static void attentionBackward(AttentionKernel.Shape s, float scale, float[] q, AttentionKernel.Operand qo, float[] k, AttentionKernel.Operand ko,
                                  float[] v, AttentionKernel.Operand vo, AttentionKernel.Mask m, float[] g, float[] dq, float[] dk, float[] dv) {
        int hd = s.headDim(), d = s.heads() * hd, tq = s.tq(), tk = s.tk();
        for (int b = 0; b < s.batch(); b++)
            for (int h = 0; h < s.heads(); h++) {
                double[][] p = attentionProbs(s, scale, q, qo, k, ko, m, b, h);
                double[][] ds = new double[tq][tk];
                for (int i = 0; i < tq; i++) {
                    double[] dp = new double[tk];
                    double dot = 0;
                    for (int j = 0; j < tk; j++) {
                        for (int c = 0; c < hd; c++)
                            dp[j] += (double) g[(b * tq + i) * d + h * hd + c] * v[vo.offset() + b * vo.batchStride() + j * vo.rowStride() + h * hd + c];
                        dot += dp[j] * p[i][j];
                    }
                    for (int j = 0; j < tk; j++) ds[i][j] = p[i][j] * (dp[j] - dot);
                }
                for (int c = 0; c < hd; c++) {
                    for (int i = 0; i < tq; i++) {
                        double acc = 0;
                        for (int j = 0; j < tk; j++) acc += ds[i][j] * k[ko.offset() + b * ko.batchStride() + j * ko.rowStride() + h * hd + c];
                        dq[(b * tq + i) * d + h * hd + c] = (float) (scale * acc);
                    }
                    for (int j = 0; j < tk; j++) {
                        double accK = 0, accV = 0;
                        for (int i = 0; i < tq; i++) {
                            accK += ds[i][j] * q[qo.offset() + b * qo.batchStride() + i * qo.rowStride() + h * hd + c];
                            accV += p[i][j] * g[(b * tq + i) * d + h * hd + c];
                        }
                        dk[(b * tk + j) * d + h * hd + c] = (float) (scale * accK);
                        dv[(b * tk + j) * d + h * hd + c] = (float) accV;
                    }
                }
            }
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
