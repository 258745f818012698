package dev.jumbo.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumbo.loss.BinaryCrossentropy;
import dev.jumbo.loss.CategoricalCrossentropy;
import dev.jumbo.loss.MeanSquaredError;
import dev.jumbo.loss.SparseCategoricalCrossentropy;
import dev.jumbo.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** Resolution of Keras metric identifiers, in particular "accuracy" by the loss. */
class MetricsTest {
    @Test
    void accuracyResolvesByTheLossAndKeepsTheRequestedName() {
        assertThat(Metrics.of("accuracy", new BinaryCrossentropy(false))).isInstanceOf(BinaryAccuracy.class);
        assertThat(Metrics.of("accuracy", new CategoricalCrossentropy(true))).isInstanceOf(CategoricalAccuracy.class);
        assertThat(Metrics.of("acc", new SparseCategoricalCrossentropy(true))).isInstanceOf(SparseCategoricalAccuracy.class);
        assertThat(Metrics.of("accuracy", new SparseCategoricalCrossentropy(true)).name()).isEqualTo("accuracy");
        assertThat(Metrics.of("acc", new BinaryCrossentropy()).name()).isEqualTo("acc");
        assertThat(Metrics.of("sparse_categorical_accuracy", null).name()).isEqualTo("sparse_categorical_accuracy");
    }

    @Test
    void binaryAccuracyForLogitsThresholdsAtZero() {
        assertThat(((BinaryAccuracy) Metrics.of("accuracy", new BinaryCrossentropy(true))).threshold()).isZero();
        assertThat(((BinaryAccuracy) Metrics.of("binary_accuracy", new BinaryCrossentropy(false))).threshold()).isEqualTo(0.5);
        Metric acc = Metrics.of("accuracy", new BinaryCrossentropy(true));
        acc.update(Tensor.of(new float[] {-2, 0.3f, 4, -0.1f}, 4, 1), Tensor.of(new float[] {0, 1, 1, 1}, 4, 1));
        assertThat(acc.result()).isEqualTo(0.75);
    }

    @Test
    void accuracyForOtherLossesFollowsTheShapes() {
        Metric categorical = Metrics.of("accuracy", new MeanSquaredError());
        categorical.update(Tensor.of(new float[] {0.9f, 0.1f, 0.2f, 0.8f}, 2, 2), Tensor.of(new float[] {1, 0, 1, 0}, 2, 2));
        assertThat(categorical.result()).isEqualTo(0.5);

        Metric binary = Metrics.of("accuracy", new MeanSquaredError());
        binary.update(Tensor.of(new float[] {0.9f, 0.1f, 0.7f}, 3, 1), Tensor.of(new float[] {1, 0, 0}, 3, 1));
        assertThat(binary.result()).isEqualTo(2.0 / 3);

        Metric sparse = Metrics.of("accuracy", null);
        sparse.update(Tensor.of(new float[] {0.9f, 0.1f, 0.2f, 0.8f}, 2, 2), Tensor.of(new float[] {0, 1}, 2));
        assertThat(sparse.result()).isEqualTo(1.0);
        assertThat(sparse.name()).isEqualTo("accuracy");
    }

    @Test
    void resolvesTheOtherIdentifiers() {
        assertThat(Metrics.of("categorical_accuracy", null)).isInstanceOf(CategoricalAccuracy.class);
        assertThat(Metrics.of("top_k_categorical_accuracy", null)).isInstanceOfSatisfying(TopKCategoricalAccuracy.class, m -> assertThat(m.k()).isEqualTo(5));
        assertThat(Metrics.of("sparse_top_k_categorical_accuracy", null)).isInstanceOfSatisfying(SparseTopKCategoricalAccuracy.class, m -> assertThat(m.k()).isEqualTo(5));
        assertThatThrownBy(() -> Metrics.of("f1", null)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("\"f1\"");
    }
}
