package dev.jumbo.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.jumbo.testing.GradCheck;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Forward values of tensor operations against naive index arithmetic on random inputs. */
class TensorTest {
    private final Random rnd = GradCheck.random();

    @Test
    void broadcastAddMatchesIndexArithmetic() {
        Tensor a = Tensor.randn(rnd, 3, 1, 5), b = Tensor.randn(rnd, 4, 1);
        Tensor y = a.add(b);
        assertThat(y.shape()).isEqualTo(Shape.of(3, 4, 5));
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 4; j++)
                for (int k = 0; k < 5; k++)
                    assertThat(y.get(i, j, k)).isEqualTo(a.get(i, 0, k) + b.get(j, 0));
    }

    @Test
    void geluFormsMatchTheirDoublePrecisionDefinitions() {
        Tensor x = Tensor.randn(rnd, 257).mul(4f);
        float[] in = x.toFloatArray(), tanhForm = x.geluTanh().toFloatArray();
        for (int i = 0; i < in.length; i++) {
            double v = in[i], expected = 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));
            assertThat((double) tanhForm[i]).as("gelu_tanh(%s)", v).isCloseTo(expected, within(2e-6 * Math.max(1, Math.abs(expected))));
        }
    }

    @Test
    void elementwiseOnStridedViewsMatchesCopies() {
        Tensor a = Tensor.randn(rnd, 4, 6).transpose(0, 1).slice(0, 1, 5);
        Tensor b = Tensor.randn(rnd, 4, 4);
        Tensor viaViews = a.mul(b);
        Tensor viaCopies = Tensor.of(a.toFloatArray(), 4, 4).mul(Tensor.of(b.toFloatArray(), 4, 4));
        assertThat(viaViews.toFloatArray()).containsExactly(viaCopies.toFloatArray());
    }

    @Test
    void matmulMatchesNaiveLoopsIncludingBatchedAndTransposedViews() {
        for (int[] mkn : new int[][] {{1, 1, 1}, {7, 33, 5}, {17, 3, 65}}) {
            int m = mkn[0], k = mkn[1], n = mkn[2];
            Tensor a = Tensor.randn(rnd, 3, m, k), b = Tensor.randn(rnd, 3, k, n);
            Tensor c = a.matmul(b);
            for (int bi = 0; bi < 3; bi++)
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < n; j++) {
                        double s = 0;
                        for (int p = 0; p < k; p++) s += a.get(bi, i, p) * b.get(bi, p, j);
                        assertThat(c.get(bi, i, j)).isCloseTo((float) s, within(1e-4f * k));
                    }
            Tensor bt = Tensor.randn(rnd, n, k);
            Tensor viaView = a.slice(0, 0, 1).reshape(m, k).matmul(bt.transpose(0, 1));
            Tensor viaCopy = a.slice(0, 0, 1).reshape(m, k).matmul(Tensor.of(bt.transpose(0, 1).toFloatArray(), k, n));
            // the transposed view goes to gemm as a transposed operand; only rounding may differ
            assertThat(viaView.toFloatArray()).containsExactly(viaCopy.toFloatArray(), within(1e-5f * k));
        }
    }

    @Test
    void viewsShareStorage() {
        Tensor a = Tensor.zeros(2, 3);
        Tensor t = a.transpose(0, 1);
        a.buffer()[1] = 7f;
        assertThat(t.get(1, 0)).isEqualTo(7f);
        assertThat(a.reshape(3, 2).get(0, 1)).isEqualTo(7f);
        assertThat(t.isContiguous()).isFalse();
    }

    @Test
    void softmaxRowsSumToOneAndLogSoftmaxIsItsLog() {
        Tensor x = Tensor.randn(rnd, 4, 7).mul(30f);
        float[] p = x.softmax().toFloatArray(), lp = x.logSoftmax().toFloatArray();
        for (int r = 0; r < 4; r++) {
            double s = 0;
            for (int j = 0; j < 7; j++) {
                s += p[r * 7 + j];
                if (p[r * 7 + j] < Float.MIN_NORMAL) { // (partly) underflowed in float: the log must say it is tiny
                    assertThat(lp[r * 7 + j]).isLessThan(-80f);
                    continue;
                }
                assertThat(Math.log(p[r * 7 + j])).isCloseTo(lp[r * 7 + j], within(1e-3 + 1e-4 * Math.abs(lp[r * 7 + j])));
            }
            assertThat(s).isCloseTo(1.0, within(1e-5));
        }
    }

    @Test
    void gradientsAccumulateUntilZeroed() {
        Tensor w = Tensor.ones(3).requiresGrad(true);
        w.mul(2f).sum().backward();
        w.mul(3f).sum().backward();
        assertThat(w.grad().toFloatArray()).containsExactly(5f, 5f, 5f);
        w.zeroGrad();
        assertThat(w.grad()).isNull();
    }

    @Test
    void intermediateUsedTwiceSumsBothGradientsWithoutTouchingTheSeed() {
        // h's gradient first shares the seed's array, then the second use must sum into a fresh one.
        Tensor w = Tensor.of(new float[] {1f, 2f}, 2).requiresGrad(true);
        Tensor h = w.mul(3f), y = h.add(h);
        Tensor seed = Tensor.of(new float[] {1f, 10f}, 2);
        y.backward(seed);
        assertThat(seed.toFloatArray()).containsExactly(1f, 10f);
        assertThat(w.grad().toFloatArray()).containsExactly(6f, 60f);
    }

    @Test
    void noGradScopeRecordsNothing() {
        Tensor w = Tensor.ones(3).requiresGrad(true);
        Tensor y;
        try (var scope = GradMode.noGrad()) {
            y = w.mul(2f);
        }
        assertThat(y.requiresGrad()).isFalse();
        assertThat(w.mul(2f).requiresGrad()).isTrue();
    }

    @Test
    void sumOverTheLastAxisAddsEachRowInOrder() {
        Tensor x = Tensor.randn(rnd, 3, 4, 7).mul(100f);
        float[] d = x.toFloatArray(), y = x.sum(-1, false).toFloatArray();
        for (int r = 0; r < 12; r++) {
            float s = 0;
            for (int k = 0; k < 7; k++) s += d[r * 7 + k];
            assertThat(y[r]).isEqualTo(s);
        }
    }

    @Test
    void aLeafsGradientIsItsOwnArray() {
        // Gradients made fresh by a backward are adopted by a leaf without a copy; the leaf must
        // still own them: accumulating a second backward must not change the first one's values.
        Tensor w = Tensor.randn(rnd, 4, 3).requiresGrad(true), x = Tensor.randn(rnd, 2, 4);
        x.matmul(w).sum().backward();
        float[] first = w.grad().toFloatArray();
        x.matmul(w).sum().backward();
        float[] twice = w.grad().toFloatArray();
        for (int i = 0; i < first.length; i++) assertThat(twice[i]).isEqualTo(first[i] + first[i]);
        Tensor seed = Tensor.ones(2, 3);
        float[] seedBefore = seed.toFloatArray();
        Tensor v = Tensor.randn(rnd, 2, 3).requiresGrad(true);
        v.slice(1, 0, 2).tanh().sum().add(v.sum()).backward();
        v.mul(2f).backward(seed);
        assertThat(seed.toFloatArray()).containsExactly(seedBefore);
    }

    @Test
    void attentionEqualsSplittingIntoHeadsAndTheUnfusedOperations() {
        int b = 3, t = 13, heads = 4, hd = 8, d = heads * hd;
        float[] m = new float[t * t];
        for (int i = 0; i < t; i++) for (int j = i + 1; j < t; j++) m[i * t + j] = Float.NEGATIVE_INFINITY;
        Tensor mask = Tensor.of(m, t, t), seed = Tensor.randn(rnd, b, t, d);
        Tensor[] projections = {Tensor.randn(rnd, b, t, 3 * d).requiresGrad(true), Tensor.randn(rnd, b, t, 3 * d).requiresGrad(true)};
        // the same values in both
        System.arraycopy(projections[0].buffer(), 0, projections[1].buffer(), 0, b * t * 3 * d);
        Tensor qkv = projections[0];
        Tensor fused = qkv.slice(2, 0, d).attention(qkv.slice(2, d, 2 * d), qkv.slice(2, 2 * d, 3 * d), heads, mask);
        qkv = projections[1];
        Tensor q = heads(qkv.slice(2, 0, d), heads), k = heads(qkv.slice(2, d, 2 * d), heads), v = heads(qkv.slice(2, 2 * d, 3 * d), heads);
        Tensor unfused = q.matmul(k.transpose(2, 3)).mul((float) (1 / Math.sqrt(hd))).add(mask).softmax().matmul(v)
                .permute(0, 2, 1, 3).reshape(b, t, d);
        assertClose(fused.toFloatArray(), unfused.toFloatArray(), 1e-5, "attention output");
        fused.backward(seed);
        unfused.backward(seed);
        assertClose(projections[0].grad().toFloatArray(), projections[1].grad().toFloatArray(), 1e-5, "gradient of the fused projection");
    }

    private static Tensor heads(Tensor x, int heads) {
        return x.reshape(x.dim(0), x.dim(1), heads, x.dim(2) / heads).permute(0, 2, 1, 3);
    }

    private static void assertClose(float[] actual, float[] expected, double tol, String what) {
        assertThat(actual).hasSameSizeAs(expected);
        for (int i = 0; i < actual.length; i++)
            assertThat((double) actual[i]).as("%s element %d", what, i).isCloseTo(expected[i], within(tol * (1 + Math.abs(expected[i]))));
    }

    @Test
    void linearEqualsMatmulThenAddingTheBias() {
        for (int[] dims : new int[][] {{2, 7, 33}, {5, 16}, {1, 1}, {40}}) {
            int in = dims[dims.length - 1];
            Tensor x = Tensor.randn(rnd, dims), w = Tensor.randn(rnd, in, 19), bias = Tensor.randn(rnd, 19);
            Tensor x2 = dims.length == 1 ? x.reshape(1, in) : x;
            float[] expected = x2.matmul(w).add(bias).toFloatArray();
            assertClose(x.linear(w, bias).toFloatArray(), expected, 1e-5, "linear " + java.util.Arrays.toString(dims));
            assertClose(x.linear(w, null).toFloatArray(), x2.matmul(w).toFloatArray(), 1e-5, "linear without bias");
            Tensor wt = Tensor.randn(rnd, 19, in);
            assertClose(x.linear(wt.transpose(0, 1), bias).toFloatArray(), x2.matmul(wt.transpose(0, 1)).add(bias).toFloatArray(), 1e-5, "linear, transposed kernel");
        }
        assertThat(Tensor.randn(rnd, 2, 3, 4).linear(Tensor.zeros(4, 5), null).shape()).isEqualTo(Shape.of(2, 3, 5));
        assertThat(Tensor.zeros(3, 0).linear(Tensor.zeros(0, 2), Tensor.ones(2)).toFloatArray()).containsExactly(1, 1, 1, 1, 1, 1);
        assertThatThrownBy(() -> Tensor.zeros(2, 3).linear(Tensor.zeros(4, 5), null)).hasMessageContaining("[2, 3]").hasMessageContaining("[4, 5]");
        assertThatThrownBy(() -> Tensor.zeros(2, 4).linear(Tensor.zeros(4, 5), Tensor.zeros(4))).hasMessageContaining("[5]");
    }

    @Test
    void attentionNamesBadShapesAndRejectsAMaskWithAGradient() {
        Tensor q = Tensor.zeros(2, 3, 8);
        assertThatThrownBy(() -> q.attention(Tensor.zeros(2, 4, 8), Tensor.zeros(2, 5, 8), 2, null)).hasMessageContaining("[2, 4, 8]").hasMessageContaining("[2, 5, 8]");
        assertThatThrownBy(() -> q.attention(q, q, 3, null)).hasMessageContaining("3 heads").hasMessageContaining("8");
        assertThatThrownBy(() -> q.attention(q, q, 2, Tensor.zeros(4, 4))).hasMessageContaining("[4, 4]");
        assertThatThrownBy(() -> q.attention(q, q, 2, Tensor.zeros(3, 3).requiresGrad(true))).hasMessageContaining("mask");
    }

    @Test
    void badShapesAreNamedInTheError() {
        assertThatThrownBy(() -> Tensor.zeros(2, 3).add(Tensor.zeros(4)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("[2, 3]").hasMessageContaining("[4]");
        assertThatThrownBy(() -> Tensor.zeros(2, 3).matmul(Tensor.zeros(2, 3)))
                .hasMessageContaining("do not agree");
        assertThatThrownBy(() -> Tensor.zeros(2, 3).reshape(4, -1)).hasMessageContaining("cannot reshape");
        assertThatThrownBy(() -> Tensor.of(new float[5], 2, 3)).hasMessageContaining("needs 6 values");
        assertThatThrownBy(() -> Tensor.zeros(2, 3).layerNorm(Tensor.ones(4), Tensor.zeros(3), 1e-5f))
                .hasMessageContaining("[3]").hasMessageContaining("[4]");
        assertThatThrownBy(() -> Tensor.zeros(2, 3).layerNorm(Tensor.ones(3), Tensor.zeros(3), -1f))
                .hasMessageContaining("-1.0");
    }

    @Test
    void layerNormEqualsItsDefinitionWrittenAsTensorOperations() {
        Tensor x = Tensor.randn(rnd, 3, 4, 37).mul(3f).add(1f), gamma = Tensor.randn(rnd, 37), beta = Tensor.randn(rnd, 37);
        Tensor centered = x.sub(x.mean(-1, true));
        Tensor expected = centered.div(centered.square().mean(-1, true).add(1e-5f).sqrt()).mul(gamma).add(beta);
        float[] e = expected.toFloatArray(), y = x.layerNorm(gamma, beta, 1e-5f).toFloatArray();
        for (int i = 0; i < e.length; i++) assertThat(y[i]).as("element %d", i).isCloseTo(e[i], within(1e-5f * (1 + Math.abs(e[i]))));
    }
}
