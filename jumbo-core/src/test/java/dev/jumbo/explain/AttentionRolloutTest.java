package dev.jumbo.explain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.jumbo.tensor.Shape;
import dev.jumbo.testing.GradCheck;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** {@link AttentionRollout} on attention made by hand and at random. */
class AttentionRolloutTest {
    private final Random rnd = GradCheck.random();

    private static List<String> labels(int t) {
        List<String> l = new ArrayList<>();
        for (int i = 0; i < t; i++) l.add("w" + i);
        return l;
    }

    /** Random row-stochastic maps; with {@code causal}, each row over the keys up to its own position only. */
    private AttentionMaps random(int layers, int heads, int t, boolean causal) {
        float[][][][] w = new float[layers][heads][t][t];
        for (float[][][] layer : w)
            for (float[][] head : layer)
                for (int i = 0; i < t; i++) {
                    double sum = 0;
                    int last = causal ? i : t - 1;
                    for (int j = 0; j <= last; j++) sum += head[i][j] = (float) Math.exp(2 * rnd.nextGaussian());
                    for (int j = 0; j <= last; j++) head[i][j] /= (float) sum;
                }
        return new AttentionMaps(labels(t), layers, heads, w);
    }

    @Test
    void rolloutOfIdentityAttentionIsTheIdentity() {
        int t = 1 + rnd.nextInt(9), layers = 1 + rnd.nextInt(4), heads = 1 + rnd.nextInt(4);
        float[][][][] w = new float[layers][heads][t][t];
        for (float[][][] layer : w) for (float[][] head : layer) for (int i = 0; i < t; i++) head[i][i] = 1;
        float[][] r = AttentionRollout.rollout(new AttentionMaps(labels(t), layers, heads, w));
        for (int i = 0; i < t; i++)
            for (int j = 0; j < t; j++) assertThat(r[i][j]).isEqualTo(i == j ? 1f : 0f);
    }

    @Test
    void rowsSumToOneAndACausalModelsRolloutIsLowerTriangular() {
        for (boolean causal : new boolean[] {false, true}) {
            int t = 2 + rnd.nextInt(12);
            AttentionMaps maps = random(1 + rnd.nextInt(6), 1 + rnd.nextInt(5), t, causal);
            assertThat(maps.causal()).isEqualTo(causal);
            float[][] r = AttentionRollout.rollout(maps);
            for (int i = 0; i < t; i++) {
                double sum = 0;
                for (int j = 0; j < t; j++) {
                    sum += r[i][j];
                    assertThat(r[i][j]).isGreaterThanOrEqualTo(0f);
                    if (causal && j > i) assertThat(r[i][j]).isZero();
                    if (!causal) assertThat(r[i][j]).isPositive();
                }
                assertThat(sum).isCloseTo(1, within(1e-5));
            }
            // the first token of a causal model sees only itself, at every layer
            if (causal) assertThat(r[0][0]).isEqualTo(1f);
        }
    }

    @Test
    void twoLayersByHand() {
        // layer 0: heads [[1, 0], [0.4, 0.6]] and [[1, 0], [0.6, 0.4]], mean [[1, 0], [0.5, 0.5]]
        //   A'0 = 0.5 mean + 0.5 I = [[1, 0], [0.25, 0.75]]
        // layer 1: one head [[1, 0], [0.2, 0.8]] twice, A'1 = [[1, 0], [0.1, 0.9]]
        // rollout A'1 A'0 = [[1, 0], [0.1 * 1 + 0.9 * 0.25, 0.9 * 0.75]] = [[1, 0], [0.325, 0.675]]
        float[][][][] w = {
                {{{1, 0}, {0.4f, 0.6f}}, {{1, 0}, {0.6f, 0.4f}}},
                {{{1, 0}, {0.2f, 0.8f}}, {{1, 0}, {0.2f, 0.8f}}}};
        AttentionMaps maps = new AttentionMaps(List.of("<s>", "cat"), 2, 2, w);
        float[][] r = AttentionRollout.rollout(maps);
        assertThat(r[0]).containsExactly(1f, 0f);
        assertThat((double) r[1][0]).isCloseTo(0.325, within(1e-6));
        assertThat((double) r[1][1]).isCloseTo(0.675, within(1e-6));

        // three tokens, both directions, one head per layer:
        // A0 = [[0.5, 0.5, 0], [0, 1, 0], [0.2, 0.2, 0.6]] -> A'0 = [[0.75, 0.25, 0], [0, 1, 0], [0.1, 0.1, 0.8]]
        // A1 = [[0, 0, 1], [1, 0, 0], [0, 1, 0]]          -> A'1 = [[0.5, 0, 0.5], [0.5, 0.5, 0], [0, 0.5, 0.5]]
        // A'1 A'0 = [[0.5*0.75 + 0.5*0.1, 0.5*0.25 + 0.5*0.1, 0.5*0.8], [0.375, 0.625, 0], [0.05, 0.55, 0.4]]
        //         = [[0.425, 0.175, 0.4], [0.375, 0.625, 0], [0.05, 0.55, 0.4]]
        float[][][][] w3 = {{{{0.5f, 0.5f, 0}, {0, 1, 0}, {0.2f, 0.2f, 0.6f}}}, {{{0, 0, 1}, {1, 0, 0}, {0, 1, 0}}}};
        float[][] r3 = AttentionRollout.rollout(new AttentionMaps(labels(3), 2, 1, w3));
        double[][] want = {{0.425, 0.175, 0.4}, {0.375, 0.625, 0}, {0.05, 0.55, 0.4}};
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++) assertThat((double) r3[i][j]).as("[%d, %d]", i, j).isCloseTo(want[i][j], within(1e-6));
    }

    @Test
    void rowsThatDoNotSumToOneAreRenormalised() {
        // a row of 2s (not a distribution): A' = 0.5 * [2, 2] + 0.5 I = [1.5, 1] / 2.5
        AttentionMaps maps = new AttentionMaps(labels(2), 1, 1, new float[][][][] {{{{2, 2}, {0, 1}}}});
        float[][] r = AttentionRollout.rollout(maps);
        assertThat((double) r[0][0]).isCloseTo(0.6, within(1e-6));
        assertThat((double) r[0][1]).isCloseTo(0.4, within(1e-6));
    }

    @Test
    void explainsTheLastTokenOfACausalModelAndTheFirstOfAnEncoder() {
        for (boolean causal : new boolean[] {false, true}) {
            int t = 2 + rnd.nextInt(8);
            AttentionMaps maps = random(3, 2, t, causal);
            float[][] r = AttentionRollout.rollout(maps);
            Explanation e = AttentionRollout.explain(maps);
            int query = causal ? t - 1 : 0;
            assertThat(e.method()).isEqualTo("attention");
            assertThat(e.shape()).isEqualTo(Shape.of(t));
            assertThat(e.attributions()).containsExactly(r[query]);
            assertThat(e.target()).isEqualTo(query);
            assertThat(e.prediction()[query]).isEqualTo(1f);
            assertThat(e.sum()).isCloseTo(1, within(1e-5));
            assertThat(Double.isNaN(e.completenessGap())).isTrue();
            assertThat(e.details()).containsEntry("layers", 3.0).containsEntry("heads", 2.0).containsEntry("query", (double) query);
            Explanation other = AttentionRollout.explain(maps, 1, new float[] {0.1f, 0.7f, 0.2f}, 1);
            assertThat(other.attributions()).containsExactly(r[1]);
            assertThat(other.prediction()).containsExactly(0.1f, 0.7f, 0.2f);
        }
        AttentionMaps maps = random(1, 1, 3, true);
        assertThatThrownBy(() -> AttentionRollout.explain(maps, 3)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("query position 3 is not one of the 3 tokens");
        assertThatThrownBy(() -> AttentionRollout.explain(maps, 0, new float[] {1, 2}, 2)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("class 2 does not exist");
    }
}
