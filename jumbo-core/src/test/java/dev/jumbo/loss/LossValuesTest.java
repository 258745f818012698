package dev.jumbo.loss;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.jumbo.tensor.Tensor;
import dev.jumbo.testing.GradCheck;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Loss values against direct double-precision formulas, extremes, and rejected inputs. */
class LossValuesTest {
    private final Random rnd = GradCheck.random();

    private static double sigmoid(double x) {
        return 1 / (1 + Math.exp(-x));
    }

    private static double clip(double p) {
        return Math.min(Math.max(p, 1e-7), 1 - 1e-7);
    }

    private static float value(Loss loss, Tensor p, Tensor t) {
        return loss.compute(p, t).item();
    }

    @Test
    void meanSquaredErrorIsTheMeanOfSquaredDifferences() {
        float[] p = Tensor.randn(rnd, 6, 3).toFloatArray(), t = Tensor.randn(rnd, 6, 3).toFloatArray();
        double s = 0;
        for (int i = 0; i < p.length; i++) s += Math.pow(p[i] - t[i], 2);
        assertThat(value(new MeanSquaredError(), Tensor.of(p, 6, 3), Tensor.of(t, 6, 3))).isCloseTo((float) (s / 18), within(1e-5f));
    }

    @Test
    void binaryCrossentropyMatchesTheTextbookFormula() {
        float[] x = Tensor.randn(rnd, 5, 2).mul(2f).toFloatArray(), z = Tensor.uniform(rnd, 0, 1, 5, 2).toFloatArray();
        float[] p = new float[x.length];
        double fromLogits = 0, fromProbs = 0;
        for (int i = 0; i < x.length; i++) {
            double s = sigmoid(x[i]);
            fromLogits -= z[i] * Math.log(s) + (1 - z[i]) * Math.log(1 - s);
            p[i] = (float) s;
            fromProbs -= z[i] * Math.log(clip(p[i])) + (1 - z[i]) * Math.log(1 - clip(p[i]));
        }
        assertThat(value(new BinaryCrossentropy(true), Tensor.of(x, 5, 2), Tensor.of(z, 5, 2))).isCloseTo((float) (fromLogits / 10), within(1e-5f));
        assertThat(value(new BinaryCrossentropy(false), Tensor.of(p, 5, 2), Tensor.of(z, 5, 2))).isCloseTo((float) (fromProbs / 10), within(1e-4f));
    }

    @Test
    void categoricalCrossentropyMatchesLogSoftmaxAndNormalisedProbabilities() {
        int rows = 4, n = 6;
        float[] x = Tensor.randn(rnd, rows, n).mul(3f).toFloatArray();
        float[] t = Tensor.uniform(rnd, 0, 1, rows, n).toFloatArray();
        float[] p = Tensor.uniform(rnd, 0.01f, 2f, rows, n).toFloatArray();   // rows do not sum to 1
        double fromLogits = 0, fromProbs = 0;
        for (int r = 0; r < rows; r++) {
            double lse = 0, sum = 0;
            for (int j = 0; j < n; j++) {
                lse += Math.exp(x[r * n + j]);
                sum += p[r * n + j];
            }
            lse = Math.log(lse);
            for (int j = 0; j < n; j++) {
                fromLogits -= t[r * n + j] * (x[r * n + j] - lse);
                fromProbs -= t[r * n + j] * Math.log(clip(p[r * n + j] / sum));
            }
        }
        assertThat(value(new CategoricalCrossentropy(true), Tensor.of(x, rows, n), Tensor.of(t, rows, n))).isCloseTo((float) (fromLogits / rows), within(1e-4f));
        assertThat(value(new CategoricalCrossentropy(false), Tensor.of(p, rows, n), Tensor.of(t, rows, n))).isCloseTo((float) (fromProbs / rows), within(1e-4f));
    }

    @Test
    void sparseCategoricalCrossentropyEqualsCategoricalWithOneHotTargets() {
        int rows = 5, n = 4;
        Tensor x = Tensor.randn(rnd, rows, n);
        float[] labels = new float[rows], oneHot = new float[rows * n];
        for (int r = 0; r < rows; r++) {
            labels[r] = rnd.nextInt(n);
            oneHot[r * n + (int) labels[r]] = 1;
        }
        for (boolean logits : new boolean[] {true, false}) {
            Tensor in = logits ? x : x.softmax();
            Tensor a = Tensor.of(in.toFloatArray(), rows, n).requiresGrad(true), b = Tensor.of(in.toFloatArray(), rows, n).requiresGrad(true);
            Tensor sparse = new SparseCategoricalCrossentropy(logits).compute(a, Tensor.of(labels, rows));
            Tensor dense = new CategoricalCrossentropy(logits).compute(b, Tensor.of(oneHot, rows, n));
            assertThat(sparse.item()).isCloseTo(dense.item(), within(1e-6f));
            sparse.backward();
            dense.backward();
            assertThat(a.grad().toFloatArray()).containsExactly(b.grad().toFloatArray(), within(1e-6f));
        }
    }

    @Test
    void extremeLogitsGiveFiniteExactLosses() {
        Tensor x = Tensor.of(new float[] {100, -100, 100, -100}, 4, 1).requiresGrad(true);
        Tensor z = Tensor.of(new float[] {0, 1, 1, 0}, 4, 1);
        Tensor bce = new BinaryCrossentropy(true).compute(x, z);
        assertThat(bce.item()).isCloseTo(50f, within(1e-4f));   // (100 + 100 + 0 + 0) / 4
        bce.backward();
        assertThat(x.grad().toFloatArray()).containsExactly(new float[] {0.25f, -0.25f, 0, 0}, within(1e-6f));

        Tensor logits = Tensor.of(new float[] {100, -100, -100, 100}, 2, 2).requiresGrad(true);
        Tensor cce = new SparseCategoricalCrossentropy(true).compute(logits, Tensor.of(new float[] {1, 1}, 2));
        assertThat(cce.item()).isCloseTo(100f, within(1e-3f));  // (200 + 0) / 2
        cce.backward();
        assertThat(logits.grad().toFloatArray()).containsExactly(new float[] {0.5f, -0.5f, 0, 0}, within(1e-6f));
    }

    @Test
    void probabilitiesOfZeroAndOneAreClippedLikeKeras() {
        // in float32, as Keras computes: clip to 1e-7 and to 1 - 1e-7 = 0.99999988 (so 1 - p = 1.19e-7)
        double worst = -Math.log(1e-7f), worstNearOne = -Math.log(1 - (double) (1f - 1e-7f));
        Tensor p = Tensor.of(new float[] {0, 1}, 2).requiresGrad(true);
        Tensor bce = new BinaryCrossentropy().compute(p, Tensor.of(new float[] {1, 0}, 2));
        assertThat(bce.item()).isFinite().isCloseTo((float) ((worst + worstNearOne) / 2), within(1e-4f));
        bce.backward();
        assertThat(p.grad().toFloatArray()).containsExactly(0f, 0f);   // clipped: no gradient, never NaN

        Tensor cce = new CategoricalCrossentropy().compute(Tensor.of(new float[] {1, 0}, 1, 2), Tensor.of(new float[] {0, 1}, 1, 2));
        assertThat(cce.item()).isFinite().isCloseTo((float) worst, within(1e-4f));
    }

    @Test
    void lossesAreScalars() {
        Tensor v = new MeanSquaredError().compute(Tensor.ones(3, 2), Tensor.zeros(3, 2));
        assertThat(v.rank()).isZero();
        assertThat(v.item()).isEqualTo(1f);
    }

    @Test
    void rejectsSparseTargetsThatAreNotClassIndices() {
        Loss loss = new SparseCategoricalCrossentropy(true);
        Tensor logits = Tensor.zeros(3, 4);
        assertThatThrownBy(() -> loss.compute(logits, Tensor.of(new float[] {0, 2.5f, 1}, 3)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("row 1").hasMessageContaining("2.5");
        assertThatThrownBy(() -> loss.compute(logits, Tensor.of(new float[] {0, 1, 4}, 3, 1)))
                .hasMessageContaining("row 2").hasMessageContaining("4.0").hasMessageContaining("[0, 4)");
        assertThatThrownBy(() -> loss.compute(logits, Tensor.of(new float[] {-1, 1, 1}, 3)))
                .hasMessageContaining("row 0").hasMessageContaining("-1.0");
        assertThatThrownBy(() -> loss.compute(logits, Tensor.of(new float[] {0, Float.NaN, 1}, 3)))
                .hasMessageContaining("row 1").hasMessageContaining("NaN");
        assertThatThrownBy(() -> loss.compute(logits, Tensor.zeros(3, 4)))
                .hasMessageContaining("[3, 4]").hasMessageContaining("expected one class index per row: shape [3]");
    }

    @Test
    void shapeMismatchesNameBothShapes() {
        assertThatThrownBy(() -> new MeanSquaredError().compute(Tensor.zeros(4, 3), Tensor.zeros(4, 2)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("[4, 3]").hasMessageContaining("[4, 2]");
        assertThatThrownBy(() -> new BinaryCrossentropy(true).compute(Tensor.zeros(4, 1), Tensor.zeros(2, 2)))
                .hasMessageContaining("[4, 1]").hasMessageContaining("[2, 2]");
        assertThatThrownBy(() -> new CategoricalCrossentropy(true).compute(Tensor.zeros(4, 3), Tensor.zeros(4)))
                .hasMessageContaining("[4, 3]").hasMessageContaining("[4]");
    }

    @Test
    void nonFiniteInputsGiveNonFiniteLossesRatherThanErrors() {
        assertThat(new MeanSquaredError().compute(Tensor.of(new float[] {Float.NaN}, 1), Tensor.zeros(1)).item()).isNaN();
    }

    @Test
    void resolvesKerasIdentifiers() {
        assertThat(Losses.of("mse")).isEqualTo(new MeanSquaredError());
        assertThat(Losses.of("mean_squared_error").name()).isEqualTo("mean_squared_error");
        assertThat(Losses.of("binary_crossentropy")).isEqualTo(new BinaryCrossentropy(false));
        assertThat(Losses.of("categorical_crossentropy")).isEqualTo(new CategoricalCrossentropy(false));
        assertThat(Losses.of("sparse_categorical_crossentropy").name()).isEqualTo("sparse_categorical_crossentropy");
        assertThatThrownBy(() -> Losses.of("hinge")).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("\"hinge\"");
    }

    @Test
    void configRoundTrips() {
        for (Loss loss : new Loss[] {new MeanSquaredError(), new BinaryCrossentropy(true), new CategoricalCrossentropy(false), new SparseCategoricalCrossentropy(true)})
            assertThat(Losses.fromConfig(loss.config())).isEqualTo(loss);
    }
}
