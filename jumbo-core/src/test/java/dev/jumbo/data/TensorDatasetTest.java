package dev.jumbo.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import org.junit.jupiter.api.Test;

class TensorDatasetTest {
    /** n examples of shape [2]: example i is (i, -i), label i * 10. */
    static TensorDataset numbered(int n) {
        float[] x = new float[2 * n], y = new float[n];
        for (int i = 0; i < n; i++) {
            x[2 * i] = i;
            x[2 * i + 1] = -i;
            y[i] = 10 * i;
        }
        return new TensorDataset(Tensor.of(x, n, 2), Tensor.of(y, n));
    }

    @Test
    void gathersExamplesInIndexOrder() {
        TensorDataset d = numbered(5);
        Batch b = d.batch(new int[] {3, 0, 3});
        assertThat(b.x().shape()).isEqualTo(Shape.of(3, 2));
        assertThat(b.x().toFloatArray()).containsExactly(3, -3, 0, 0, 3, -3);
        assertThat(b.y().toFloatArray()).containsExactly(30, 0, 30);
        assertThat(d.size()).isEqualTo(5);
        assertThat(d.exampleShape()).isEqualTo(Shape.of(2));
    }

    @Test
    void acceptsViewsAndMultiDimensionalTargets() {
        Tensor x = Tensor.of(new float[] {0, 1, 2, 3, 4, 5}, 2, 3).transpose(0, 1); // [3, 2] view
        Tensor y = Tensor.of(new float[] {1, 0, 0, 1, 1, 0}, 3, 2);
        TensorDataset d = new TensorDataset(x, y);
        Batch b = d.batch(new int[] {2, 1});
        assertThat(b.x().toFloatArray()).containsExactly(2, 5, 1, 4);
        assertThat(b.y().toFloatArray()).containsExactly(1, 0, 0, 1);
    }

    @Test
    void detachesExamplesFromTheAutogradGraph() {
        Tensor x = Tensor.ones(2, 2).requiresGrad(true);
        TensorDataset d = new TensorDataset(x, Tensor.zeros(2));
        assertThat(d.x().requiresGrad()).isFalse();
        assertThat(d.batch(new int[] {0}).x().requiresGrad()).isFalse();
    }

    @Test
    void rejectsDifferentExampleCounts() {
        assertThatThrownBy(() -> new TensorDataset(Tensor.zeros(4, 2), Tensor.zeros(3)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("x has 4 examples but y has 3 (shapes [4, 2] and [3])");
        assertThatThrownBy(() -> new TensorDataset(Tensor.scalar(1), Tensor.zeros(1)))
                .hasMessageContaining("need a first (example) dimension");
    }

    @Test
    void rejectsIndicesOutOfRange() {
        assertThatThrownBy(() -> numbered(3).batch(new int[] {3})).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void splitTakesTheLastFractionAsValidationWithoutShuffling() {
        TensorDataset[] parts = numbered(10).split(0.2);
        assertThat(parts[0].size()).isEqualTo(8);
        assertThat(parts[1].size()).isEqualTo(2);
        assertThat(parts[0].y().toFloatArray()).containsExactly(0, 10, 20, 30, 40, 50, 60, 70);
        assertThat(parts[1].y().toFloatArray()).containsExactly(80, 90);
        assertThat(parts[1].x().toFloatArray()).containsExactly(8, -8, 9, -9);
    }

    @Test
    void splitRoundsTheTrainingPartDownLikeKeras() {
        // Keras: split_at = floor(n * (1 - fraction)); 5 * 0.7 = 3.5 -> 3 train, 2 validation
        TensorDataset[] parts = numbered(5).split(0.3);
        assertThat(parts[0].size()).isEqualTo(3);
        assertThat(parts[1].size()).isEqualTo(2);
    }

    @Test
    void splitRejectsBadFractionsAndEmptyParts() {
        TensorDataset d = numbered(10);
        for (double f : new double[] {0, 1, -0.1, 1.5, Double.NaN})
            assertThatThrownBy(() -> d.split(f)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("between 0 and 1");
        assertThatThrownBy(() -> d.split(1e-17)).hasMessageContaining("the dataset has 10 examples, too few to split off a fraction of 1.0E-17"); // 1 - 1e-17 == 1.0
        assertThatThrownBy(() -> numbered(1).split(0.5)).hasMessageContaining("too few");
    }
}
