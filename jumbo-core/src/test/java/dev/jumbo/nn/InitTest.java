package dev.jumbo.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.jumbo.tensor.Tensor;
import org.junit.jupiter.api.Test;

class InitTest {
    private static double variance(Tensor t) {
        double s = 0;
        for (float v : t.toFloatArray()) s += (double) v * v;
        return s / t.size();
    }

    @Test
    void seedMakesDrawsReproducible() {
        Init.seed(3);
        float[] a = Init.glorotNormal(4, 5, 4, 5).toFloatArray();
        Init.seed(3);
        assertThat(Init.glorotNormal(4, 5, 4, 5).toFloatArray()).containsExactly(a);
    }

    @Test
    void uniformInitializersStayWithinTheirLimitsWithTheRightVariance() {
        Tensor glorot = Init.glorotUniform(30, 50, 60, 100);
        double limit = Math.sqrt(6.0 / 80);
        for (float v : glorot.toFloatArray()) assertThat(Math.abs(v)).isLessThanOrEqualTo((float) limit);
        assertThat(variance(glorot)).isCloseTo(2.0 / 80, within(0.1 * 2.0 / 80)); // uniform: limit^2 / 3
        Tensor he = Init.heUniform(40, 1, 100, 60);
        for (float v : he.toFloatArray()) assertThat(Math.abs(v)).isLessThanOrEqualTo((float) Math.sqrt(6.0 / 40));
    }

    @Test
    void normalInitializersAreTruncatedAtTwoDeviationsAndKeepTheVariance() {
        Tensor he = Init.heNormal(50, 1, 100, 100);
        double std = Math.sqrt(2.0 / 50) / 0.87962566103423978;
        for (float v : he.toFloatArray()) assertThat(Math.abs(v)).isLessThanOrEqualTo((float) (2 * std));
        assertThat(variance(he)).isCloseTo(2.0 / 50, within(0.1 * 2.0 / 50));
        assertThat(variance(Init.glorotNormal(40, 60, 100, 100))).isCloseTo(2.0 / 100, within(0.1 * 2.0 / 100));
    }

    @Test
    void orthogonalHasOrthonormalColumnsOrRows() {
        for (int[] shape : new int[][] {{6, 3}, {3, 6}, {4, 4}}) {
            Tensor q = Init.orthogonal(shape[0], shape[1]);
            Tensor gram = shape[0] >= shape[1] ? q.transpose(0, 1).matmul(q) : q.matmul(q.transpose(0, 1));
            int k = Math.min(shape[0], shape[1]);
            for (int i = 0; i < k; i++)
                for (int j = 0; j < k; j++) assertThat(gram.get(i, j)).isCloseTo(i == j ? 1f : 0f, within(1e-5f));
        }
    }

    @Test
    void rejectsNonPositiveFans() {
        assertThatThrownBy(() -> Init.glorotUniform(0, 3, 3)).hasMessageContaining("got 0 and 3");
        assertThatThrownBy(() -> Init.orthogonal(0, 3)).hasMessageContaining("0x3");
    }
}
