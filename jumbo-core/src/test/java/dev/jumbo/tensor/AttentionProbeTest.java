package dev.jumbo.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.jumbo.testing.GradCheck;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** {@link AttentionProbe} against softmax(q k^T / sqrt(d) + mask) computed here in double precision. */
class AttentionProbeTest {
    private final Random rnd = GradCheck.random();

    /** {@code [b, heads, tq, tk]} probabilities from q {@code [b, tq, heads*hd]}, k {@code [b, tk, heads*hd]} and a mask {@code [b][tq][tk]} (or null). */
    private static double[] naive(float[] q, float[] k, int b, int heads, int tq, int tk, int hd, float[][][] mask) {
        int d = heads * hd;
        double[] p = new double[b * heads * tq * tk];
        for (int n = 0; n < b; n++)
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < tq; i++) {
                    double[] s = new double[tk];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < tk; j++) {
                        double dot = 0;
                        for (int e = 0; e < hd; e++) dot += (double) q[(n * tq + i) * d + h * hd + e] * k[(n * tk + j) * d + h * hd + e];
                        s[j] = dot / Math.sqrt(hd) + (mask == null ? 0 : mask[n][i][j]);
                        max = Math.max(max, s[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < tk; j++) sum += s[j] = Math.exp(s[j] - max);
                    for (int j = 0; j < tk; j++) p[((n * heads + h) * tq + i) * tk + j] = s[j] / sum;
                }
        return p;
    }

    @Test
    void recordsEachCallsProbabilitiesAsSoftmaxOfScaledScoresPlusMask() {
        for (int round = 0; round < 4; round++) {
            int b = 1 + rnd.nextInt(3), heads = 1 + rnd.nextInt(4), hd = 1 + rnd.nextInt(9), t = 1 + rnd.nextInt(12), d = heads * hd;
            Tensor q = Tensor.randn(rnd, b, t, d), k = Tensor.randn(rnd, b, t, d), v = Tensor.randn(rnd, b, t, d);
            // a causal [t, t] mask in the first call, a padding mask [b, 1, 1, t] (the last keys of each sequence) in the second
            float[] causal = new float[t * t];
            float[][][] causalRows = new float[b][t][t];
            for (int i = 0; i < t; i++)
                for (int j = i + 1; j < t; j++) {
                    causal[i * t + j] = Float.NEGATIVE_INFINITY;
                    for (int n = 0; n < b; n++) causalRows[n][i][j] = Float.NEGATIVE_INFINITY;
                }
            float[] padding = new float[b * t];
            float[][][] paddingRows = new float[b][t][t];
            for (int n = 0; n < b; n++)
                for (int j = 1 + rnd.nextInt(t); j < t; j++) {
                    padding[n * t + j] = -1e9f;
                    for (int i = 0; i < t; i++) paddingRows[n][i][j] = -1e9f;
                }
            List<AttentionProbe.Map> maps;
            try (AttentionProbe probe = AttentionProbe.record()) {
                q.attention(k, v, heads, Tensor.of(causal, t, t));
                q.attention(k, v, heads, Tensor.of(padding, b, 1, 1, t));
                q.attention(k, v, heads, null);
                maps = probe.maps();
            }
            assertThat(maps).hasSize(3);
            float[][][][] masks = {causalRows, paddingRows, null};
            for (int c = 0; c < 3; c++) {
                AttentionProbe.Map m = maps.get(c);
                assertThat(new int[] {m.batch(), m.heads(), m.queries(), m.keys()}).containsExactly(b, heads, t, t);
                double[] expected = naive(q.toFloatArray(), k.toFloatArray(), b, heads, t, t, hd, masks[c]);
                for (int i = 0; i < expected.length; i++)
                    assertThat((double) m.probabilities()[i]).as("call %d element %d", c, i).isCloseTo(expected[i], within(1e-5));
                for (int n = 0; n < b; n++)
                    for (int h = 0; h < heads; h++)
                        for (int i = 0; i < t; i++) {
                            double sum = 0;
                            for (int j = 0; j < t; j++) {
                                sum += m.get(n, h, i, j);
                                if (c == 0 && j > i) assertThat(m.get(n, h, i, j)).as("causal zero at %d, %d", i, j).isZero();
                            }
                            assertThat(sum).isCloseTo(1, within(1e-5));
                        }
            }
        }
    }

    @Test
    void recordsQueriesAndKeysOfDifferentLengthsUnderNoGrad() {
        int b = 2, heads = 3, hd = 4, tq = 3, tk = 7, d = heads * hd;
        Tensor q = Tensor.randn(rnd, b, tq, d), k = Tensor.randn(rnd, b, tk, d), v = Tensor.randn(rnd, b, tk, d);
        try (AttentionProbe probe = AttentionProbe.record(); var scope = GradMode.noGrad()) {
            q.attention(k, v, heads, null);
            AttentionProbe.Map m = probe.maps().getFirst();
            assertThat(new int[] {m.batch(), m.heads(), m.queries(), m.keys()}).containsExactly(b, heads, tq, tk);
            double[] expected = naive(q.toFloatArray(), k.toFloatArray(), b, heads, tq, tk, hd, null);
            for (int i = 0; i < expected.length; i++) assertThat((double) m.probabilities()[i]).isCloseTo(expected[i], within(1e-5));
        }
    }

    @Test
    void recordsNothingOutsideAProbeAndNestedProbesTakeTurns() {
        Tensor q = Tensor.randn(rnd, 1, 4, 8);
        AttentionProbe outer = AttentionProbe.record();
        q.attention(q, q, 2, null);
        try (AttentionProbe inner = AttentionProbe.record()) {
            q.attention(q, q, 2, null);
            q.attention(q, q, 4, null);
            assertThat(inner.maps()).hasSize(2);
            assertThatThrownBy(outer::close).isInstanceOf(IllegalStateException.class).hasMessageContaining("still open");
        }
        q.attention(q, q, 1, null);
        outer.close();
        q.attention(q, q, 2, null);
        assertThat(outer.maps()).extracting(AttentionProbe.Map::heads).containsExactly(2, 1);
        outer.close(); // twice: nothing
    }

    @Test
    void recordingLeavesTheGradientsAsTheyWere() {
        Tensor q = Tensor.randn(rnd, 2, 5, 6), k = Tensor.randn(rnd, 2, 5, 6), v = Tensor.randn(rnd, 2, 5, 6);
        try (AttentionProbe probe = AttentionProbe.record()) {
            GradCheck.check(in -> in.get(0).attention(in.get(1), in.get(2), 3, null), q, k, v);
            // the recorded copies are the caller's to change: the graph's own probabilities are not shared
            probe.maps().forEach(m -> java.util.Arrays.fill(m.probabilities(), 0f));
        }
        Tensor qq = q.copy().requiresGrad(true);
        Tensor y;
        float[] before;
        try (AttentionProbe probe = AttentionProbe.record()) {
            y = qq.attention(k, v, 3, null);
            java.util.Arrays.fill(probe.maps().getFirst().probabilities(), 0f);
        }
        y.sum().backward();
        before = qq.grad().toFloatArray();
        Tensor fresh = q.copy().requiresGrad(true);
        fresh.attention(k, v, 3, null).sum().backward();
        assertThat(before).containsExactly(fresh.grad().toFloatArray());
    }

    @Test
    void rejectsAMapWhoseSizeIsNotItsShape() {
        assertThatThrownBy(() -> new AttentionProbe.Map(1, 2, 3, 4, new float[23])).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("[1, 2, 3, 4]");
    }
}
