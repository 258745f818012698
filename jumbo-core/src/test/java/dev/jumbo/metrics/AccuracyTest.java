package dev.jumbo.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.jumbo.tensor.Tensor;
import dev.jumbo.testing.GradCheck;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Accuracies against counts made by hand (sorting, plain comparisons) on random predictions. */
class AccuracyTest {
    private final Random rnd = GradCheck.random();
    private static final int ROWS = 40, CLASSES = 7;

    private float[] labels(int rows, int classes) {
        float[] y = new float[rows];
        for (int r = 0; r < rows; r++) y[r] = rnd.nextInt(classes);
        return y;
    }

    private static float[] oneHot(float[] labels, int classes) {
        float[] t = new float[labels.length * classes];
        for (int r = 0; r < labels.length; r++) t[r * classes + (int) labels[r]] = 1;
        return t;
    }

    /** Classes of one row ordered by descending score (stable: earlier index first on ties). */
    private static Integer[] ranking(float[] p, int row, int classes) {
        Integer[] order = IntStream.range(0, classes).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.comparing((Integer j) -> -p[row * classes + j]));
        return order;
    }

    @Test
    void binaryAccuracyCountsThresholdedAgreements() {
        float[] p = Tensor.uniform(rnd, 0, 1, ROWS, 1).toFloatArray();
        float[] t = new float[ROWS];
        for (int i = 0; i < ROWS; i++) t[i] = rnd.nextBoolean() ? 1 : 0;
        for (double threshold : new double[] {0.5, 0.3}) {
            int hits = 0;
            for (int i = 0; i < ROWS; i++) if ((p[i] > threshold) == (t[i] == 1)) hits++;
            BinaryAccuracy acc = new BinaryAccuracy(threshold);
            acc.update(Tensor.of(p, ROWS, 1), Tensor.of(t, ROWS));   // [batch, 1] against [batch]
            assertThat(acc.result()).isEqualTo((double) hits / ROWS);
        }
        BinaryAccuracy exact = new BinaryAccuracy();
        exact.update(Tensor.of(new float[] {0.5f, 0.51f, 0.2f, 0.9f}, 4), Tensor.of(new float[] {0, 1, 0, 0}, 4));
        assertThat(exact.result()).isEqualTo(0.75);   // 0.5 is not above 0.5
    }

    @Test
    void categoricalAccuracyComparesArgmaxes() {
        float[] p = Tensor.randn(rnd, ROWS, CLASSES).toFloatArray(), y = labels(ROWS, CLASSES);
        int hits = 0;
        for (int r = 0; r < ROWS; r++) if (ranking(p, r, CLASSES)[0] == (int) y[r]) hits++;
        CategoricalAccuracy cat = new CategoricalAccuracy();
        cat.update(Tensor.of(p, ROWS, CLASSES), Tensor.of(oneHot(y, CLASSES), ROWS, CLASSES));
        assertThat(cat.result()).isEqualTo((double) hits / ROWS);
        SparseCategoricalAccuracy sparse = new SparseCategoricalAccuracy();
        sparse.update(Tensor.of(p, ROWS, CLASSES), Tensor.of(y, ROWS, 1));
        assertThat(sparse.result()).isEqualTo((double) hits / ROWS);
    }

    @Test
    void topKCountsTargetsAmongTheKLargest() {
        float[] p = Tensor.randn(rnd, ROWS, CLASSES).toFloatArray(), y = labels(ROWS, CLASSES);
        for (int k : new int[] {1, 3, CLASSES}) {
            int hits = 0;
            for (int r = 0; r < ROWS; r++) if (Arrays.asList(ranking(p, r, CLASSES)).subList(0, k).contains((int) y[r])) hits++;
            TopKCategoricalAccuracy dense = new TopKCategoricalAccuracy(k);
            dense.update(Tensor.of(p, ROWS, CLASSES), Tensor.of(oneHot(y, CLASSES), ROWS, CLASSES));
            SparseTopKCategoricalAccuracy sparse = new SparseTopKCategoricalAccuracy(k);
            sparse.update(Tensor.of(p, ROWS, CLASSES), Tensor.of(y, ROWS));
            assertThat(dense.result()).as("k=%d", k).isEqualTo((double) hits / ROWS);
            assertThat(sparse.result()).as("k=%d", k).isEqualTo((double) hits / ROWS);
        }
    }

    @Test
    void topKCountsTiesAtTheBoundaryAsIn() {
        SparseTopKCategoricalAccuracy top2 = new SparseTopKCategoricalAccuracy(2);
        top2.update(Tensor.of(new float[] {3, 1, 1, 0}, 1, 4), Tensor.of(new float[] {2}, 1));
        assertThat(top2.result()).isEqualTo(1.0);
    }

    @Test
    void accumulatesOverBatchesUntilReset() {
        SparseCategoricalAccuracy acc = new SparseCategoricalAccuracy();
        assertThat(acc.result()).isZero();
        acc.update(Tensor.of(new float[] {1, 0, 0, 1}, 2, 2), Tensor.of(new float[] {0, 0}, 2));        // 1 of 2
        acc.update(Tensor.of(new float[] {1, 0, 0, 1, 0, 1}, 3, 2), Tensor.of(new float[] {0, 1, 1}, 3)); // 3 of 3
        assertThat(acc.result()).isEqualTo(0.8);
        acc.reset();
        assertThat(acc.result()).isZero();
    }

    @Test
    void meanIsWeightedByBatchSize() {
        Mean loss = new Mean("loss");
        loss.update(2.0, 3);
        loss.update(4.0, 1);
        assertThat(loss.result()).isCloseTo(2.5, within(1e-12));
        loss.update(Tensor.of(new float[] {1, 1, 1, 1}, 4), null);
        assertThat(loss.result()).isCloseTo(14.0 / 8, within(1e-12));
        assertThat(loss.name()).isEqualTo("loss");
        loss.reset();
        assertThat(loss.result()).isZero();
    }

    @Test
    void rejectsMismatchedShapesNamingBoth() {
        assertThatThrownBy(() -> new CategoricalAccuracy().update(Tensor.zeros(4, 3), Tensor.zeros(4, 2)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("[4, 3]").hasMessageContaining("[4, 2]");
        assertThatThrownBy(() -> new SparseCategoricalAccuracy().update(Tensor.zeros(4, 3), Tensor.zeros(3)))
                .hasMessageContaining("[4, 3]").hasMessageContaining("[3]");
        assertThatThrownBy(() -> new BinaryAccuracy().update(Tensor.zeros(4, 2), Tensor.zeros(4)))
                .hasMessageContaining("[4, 2]").hasMessageContaining("[4]");
        assertThatThrownBy(() -> new TopKCategoricalAccuracy(0)).hasMessageContaining("0");
    }
}
