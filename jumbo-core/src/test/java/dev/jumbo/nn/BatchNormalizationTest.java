package dev.jumbo.nn;

import static dev.jumbo.nn.LayerGradCheck.assertClose;
import static dev.jumbo.nn.LayerGradCheck.forwardWithDeclaredShape;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.testing.GradCheck;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BatchNormalizationTest {
    private final Random rnd = GradCheck.random();

    /** Per-channel mean and biased variance over all but the last axis of {@code x}. */
    private static double[][] moments(Tensor x) {
        int c = x.dim(-1), rows = x.size() / c;
        float[] d = x.toFloatArray();
        double[] mean = new double[c], var = new double[c];
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < c; j++) mean[j] += d[r * c + j] / rows;
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < c; j++) var[j] += Math.pow(d[r * c + j] - mean[j], 2) / rows;
        return new double[][] {mean, var};
    }

    @Test
    void trainingNormalisesWithBatchStatisticsAndMovesTheBuffers() {
        BatchNormalization bn = new BatchNormalization(0.9, 1e-3);
        Tensor x = Tensor.randn(rnd, 4, 2, 3).mul(2f).add(1f);
        Tensor y = forwardWithDeclaredShape(bn, x);
        double[][] m = moments(x);
        float[] expected = new float[x.size()];
        float[] d = x.toFloatArray();
        for (int i = 0; i < d.length; i++) expected[i] = (float) ((d[i] - m[0][i % 3]) / Math.sqrt(m[1][i % 3] + 1e-3));
        assertClose(y, expected, 1e-4);
        for (int j = 0; j < 3; j++) {
            assertThat(bn.movingMean().get(j)).isCloseTo((float) (0.1 * m[0][j]), within(1e-5f));
            assertThat(bn.movingVariance().get(j)).isCloseTo((float) (0.9 + 0.1 * m[1][j]), within(1e-5f));
        }
    }

    @Test
    void inferenceUsesMovingStatisticsAndLeavesThemAlone() {
        BatchNormalization bn = new BatchNormalization();
        bn.build(Shape.of(3));
        float[] mm = {0.5f, -1f, 2f}, mv = {4f, 0.25f, 1f}, gamma = {1f, 2f, -1f}, beta = {0f, 0.5f, 1f};
        System.arraycopy(mm, 0, bn.movingMean().buffer(), 0, 3);
        System.arraycopy(mv, 0, bn.movingVariance().buffer(), 0, 3);
        bn.loadStateDict(Map.of("gamma", Tensor.of(gamma, 3), "beta", Tensor.of(beta, 3),
                "moving_mean", Tensor.of(mm.clone(), 3), "moving_variance", Tensor.of(mv.clone(), 3)));
        bn.train(false);
        Tensor x = Tensor.randn(rnd, 5, 3);
        Tensor y = bn.forward(x);
        float[] d = x.toFloatArray(), expected = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            int j = i % 3;
            expected[i] = (float) (gamma[j] * (d[i] - mm[j]) / Math.sqrt(mv[j] + 1e-3) + beta[j]);
        }
        assertClose(y, expected, 1e-5);
        assertThat(bn.movingMean().toFloatArray()).containsExactly(mm);
        assertThat(bn.movingVariance().toFloatArray()).containsExactly(mv);
    }

    @Test
    void stateDictHoldsParametersThenMovingStatistics() {
        BatchNormalization bn = new BatchNormalization();
        bn.build(Shape.of(4, 4, 2));
        assertThat(bn.parameters()).extracting(Parameter::name).containsExactly("gamma", "beta");
        assertThat(bn.stateDict()).containsOnlyKeys("gamma", "beta", "moving_mean", "moving_variance");
        assertThat(bn.stateDict().keySet()).containsExactly("gamma", "beta", "moving_mean", "moving_variance");
    }

    @Test
    void gradientsMatchFiniteDifferencesInBothModes() {
        LayerGradCheck.inputAndParameters(new BatchNormalization(), Tensor.randn(rnd, 4, 3));
        LayerGradCheck.inputAndParameters(new BatchNormalization(), Tensor.randn(rnd, 2, 2, 2, 2));
        BatchNormalization inference = new BatchNormalization();
        inference.train(false);
        LayerGradCheck.inputAndParameters(inference, Tensor.randn(rnd, 3, 2));
    }

    @Test
    void validatesArguments() {
        assertThatThrownBy(() -> new BatchNormalization(1.5, 1e-3)).hasMessage("BatchNormalization momentum must be in [0, 1], got 1.5");
        assertThatThrownBy(() -> new BatchNormalization(0.9, 0)).hasMessage("BatchNormalization epsilon must be positive, got 0.0");
        assertThatThrownBy(() -> new BatchNormalization().build(Shape.of())).hasMessageContaining("batch_normalization").hasMessageContaining("[]");
    }
}
