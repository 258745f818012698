package dev.jumbo.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.jumbo.tensor.GradMode;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.testing.GradCheck;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Attention, transformer blocks and position embeddings against naive loops, finite differences and each other. */
class TransformerLayersTest {
    private final Random rnd = GradCheck.random();

    @Test
    void attentionMatchesNaiveLoopsCausalAndPadded() {
        int b = 2, t = 5, d = 6, heads = 3;
        for (boolean causal : new boolean[] {true, false}) {
            MultiHeadAttention attention = new MultiHeadAttention(heads, causal);
            Tensor x = Tensor.randn(rnd, b, t, d);
            float[] mask = {1, 1, 1, 1, 1, 1, 1, 1, 0, 0}; // the second sequence has 3 tokens and 2 padding
            Tensor y = attention.forward(x, Tensor.of(mask, b, t), null);
            float[] want = naiveAttention(attention.stateDict(), x.toFloatArray(), mask, b, t, d, heads, causal);
            float[] got = y.toFloatArray();
            for (int i = 0; i < want.length; i++) {
                boolean padding = mask[i / d] == 0;
                if (!padding) assertThat((double) got[i]).as("causal=%s element %d", causal, i).isCloseTo(want[i], within(1e-5));
            }
        }
    }

    /** softmax(q k^T / sqrt(hd) + masks) v per head, then the output projection, in double loops. */
    private static float[] naiveAttention(Map<String, Tensor> w, float[] x, float[] mask, int b, int t, int d, int heads, boolean causal) {
        float[] wq = w.get("qkv.kernel").toFloatArray(), bq = w.get("qkv.bias").toFloatArray();
        float[] wo = w.get("output.kernel").toFloatArray(), bo = w.get("output.bias").toFloatArray();
        int hd = d / heads;
        double[][][] qkv = new double[b][t][3 * d];
        for (int n = 0; n < b; n++)
            for (int i = 0; i < t; i++)
                for (int o = 0; o < 3 * d; o++) {
                    double s = bq[o];
                    for (int k = 0; k < d; k++) s += x[(n * t + i) * d + k] * wq[k * 3 * d + o];
                    qkv[n][i][o] = s;
                }
        float[] out = new float[b * t * d];
        for (int n = 0; n < b; n++)
            for (int i = 0; i < t; i++) {
                double[] joined = new double[d];
                for (int h = 0; h < heads; h++) {
                    double[] score = new double[t];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < t; j++) {
                        if (causal && j > i || mask[n * t + j] == 0) {
                            score[j] = Double.NEGATIVE_INFINITY;
                            continue;
                        }
                        double s = 0;
                        for (int k = 0; k < hd; k++) s += qkv[n][i][h * hd + k] * qkv[n][j][d + h * hd + k];
                        score[j] = s / Math.sqrt(hd);
                        max = Math.max(max, score[j]);
                    }
                    double total = 0;
                    for (int j = 0; j < t; j++) total += score[j] = Math.exp(score[j] - max);
                    for (int j = 0; j < t; j++)
                        for (int k = 0; k < hd; k++) joined[h * hd + k] += score[j] / total * qkv[n][j][2 * d + h * hd + k];
                }
                for (int o = 0; o < d; o++) {
                    double s = bo[o];
                    for (int k = 0; k < d; k++) s += joined[k] * wo[k * d + o];
                    out[(n * t + i) * d + o] = (float) s;
                }
            }
        return out;
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        LayerGradCheck.inputAndParameters(new MultiHeadAttention(2, true), Tensor.randn(rnd, 2, 3, 4));
        LayerGradCheck.inputAndParameters(new MultiHeadAttention(1, false), Tensor.randn(rnd, 1, 3, 4));
        LayerGradCheck.inputAndParameters(new TransformerBlock(2, 6, Activation.GELU_TANH, TransformerBlock.Norm.PRE, true, 1e-5), Tensor.randn(rnd, 2, 3, 4));
        LayerGradCheck.inputAndParameters(new TransformerBlock(2, 6, Activation.GELU, TransformerBlock.Norm.POST, false, 1e-5), Tensor.randn(rnd, 1, 3, 4));
        LayerGradCheck.inputAndParameters(new PositionEmbedding(5), Tensor.randn(rnd, 2, 3, 4));
    }

    @Test
    void aCachedBlockFedInPiecesEqualsOneFullPass() {
        // two sequences, 40 positions in pieces that make the cache's buffers grow twice (16, 32, 64)
        TransformerBlock block = new TransformerBlock(2, 8, Activation.GELU_TANH, TransformerBlock.Norm.PRE, true, 1e-5);
        int b = 2, t = 40, d = 4;
        Tensor x = Tensor.randn(rnd, b, t, d);
        Tensor full = block.forward(x);
        KeyValueCache cache = new KeyValueCache();
        StringBuilder lengths = new StringBuilder();
        try (var scope = GradMode.noGrad()) {
            int at = 0;
            for (int len : new int[] {4, 1, 12, 1, 9, 13}) {
                Tensor part = block.forward(x.slice(1, at, at + len), null, cache);
                for (int n = 0; n < b; n++)
                    for (int i = 0; i < len; i++)
                        for (int k = 0; k < d; k++)
                            assertThat((double) part.get(n, i, k)).as("sequence %d, position %d", n, at + i).isCloseTo(full.get(n, at + i, k), within(1e-5));
                at += len;
                lengths.append(cache.length()).append(' ');
            }
        }
        assertThat(lengths.toString()).isEqualTo("4 5 17 18 27 40 ");
    }

    @Test
    void paddingDoesNotChangeTheTokensOutputs() {
        TransformerBlock block = new TransformerBlock(2, 8, Activation.GELU, TransformerBlock.Norm.POST, false, 1e-12);
        Tensor alone = Tensor.randn(rnd, 1, 3, 4);
        Tensor padded = Tensor.concat(1, List.of(alone, Tensor.randn(rnd, 1, 2, 4)));
        float[] want = block.forward(alone).toFloatArray();
        float[] got = block.forward(padded, Tensor.of(new float[] {1, 1, 1, 0, 0}, 1, 5), null).slice(1, 0, 3).toFloatArray();
        for (int i = 0; i < want.length; i++) assertThat((double) got[i]).isCloseTo(want[i], within(1e-5));
    }

    @Test
    void sinusoidsFollowTheirFormulaAndLearnedPositionsAddTheirRows() {
        PositionEmbedding fixed = PositionEmbedding.sinusoidal(8);
        Tensor zeros = Tensor.zeros(1, 3, 6);
        Tensor y = fixed.forward(zeros, 5);
        for (int p = 0; p < 3; p++)
            for (int i = 0; i < 6; i++) {
                double angle = (p + 5) / Math.pow(10000, 2 * (i / 2) / 6.0);
                assertThat((double) y.get(0, p, i)).isCloseTo(i % 2 == 0 ? Math.sin(angle) : Math.cos(angle), within(1e-6));
            }
        assertThat(fixed.parameters()).isEmpty();
        PositionEmbedding learned = new PositionEmbedding(4);
        Tensor x = Tensor.randn(rnd, 2, 3, 5);
        Tensor shifted = learned.forward(x, 1);
        for (int n = 0; n < 2; n++)
            for (int p = 0; p < 3; p++)
                for (int i = 0; i < 5; i++) assertThat(shifted.get(n, p, i)).isEqualTo(x.get(n, p, i) + learned.table().get(p + 1, i));
    }

    @Test
    void badShapesAreNamed() {
        assertThatThrownBy(() -> new MultiHeadAttention(3, false).forward(Tensor.zeros(1, 2, 4)))
                .hasMessageContaining("a width d that 3 heads divide").hasMessageContaining("[2, 4]");
        MultiHeadAttention attention = new MultiHeadAttention(2, false);
        assertThatThrownBy(() -> attention.forward(Tensor.zeros(2, 3, 4), Tensor.ones(2, 4), null)).hasMessageContaining("padding mask must be [batch, past + time] = [2, 3]");
        assertThatThrownBy(() -> new PositionEmbedding(4).forward(Tensor.zeros(1, 3, 2), 2)).hasMessageContaining("positions 2..5 run past the 4");
        assertThatThrownBy(() -> new PositionEmbedding(4).forward(Tensor.zeros(1, 5, 2))).hasMessageContaining("at most 4 positions");
    }
}
