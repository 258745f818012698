package dev.jumbo.federated;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class PartitionsTest {
    /** 10 classes of 600 examples each, shuffled: Fashion-MNIST's balance at a tenth of its size. */
    private static int[] balancedLabels(long seed) {
        int[] labels = IntStream.range(0, 6000).map(i -> i % 10).toArray();
        Random r = new Random(seed);
        for (int i = labels.length - 1; i > 0; i--) {
            int j = r.nextInt(i + 1), t = labels[i];
            labels[i] = labels[j];
            labels[j] = t;
        }
        return labels;
    }

    private static void assertDisjointCover(int[][] parts, int n) {
        int[] all = Arrays.stream(parts).flatMapToInt(Arrays::stream).sorted().toArray();
        assertThat(all).containsExactly(IntStream.range(0, n).toArray());
    }

    private static long classesOf(int[] part, int[] labels) {
        return Arrays.stream(part).map(i -> labels[i]).distinct().count();
    }

    @Test
    void labelShardsGiveEachClientEqualSizeAndAtMostTwoClasses() {
        int[] labels = balancedLabels(1);
        int[][] parts = Partitions.labelShards(labels, 10, 2, 42);
        assertDisjointCover(parts, labels.length);
        for (int[] p : parts) {
            assertThat(p).hasSize(600);
            assertThat(classesOf(p, labels)).isBetween(1L, 2L); // shards of 300 sit inside one class of 600
        }
        // every class is somewhere, and the deal depends on the seed
        assertThat(Arrays.stream(parts).flatMapToInt(p -> Arrays.stream(p).map(i -> labels[i])).distinct().count()).isEqualTo(10);
        assertThat(java.util.Arrays.deepEquals(Partitions.labelShards(labels, 10, 2, 43), parts)).isFalse();
        assertThat(Partitions.labelShards(labels, 10, 2, 42)).isDeepEqualTo(parts);
    }

    @Test
    void labelShardsMatchANaiveSortAndDeal() {
        int[] labels = new Random(5).ints(97, 0, 4).toArray();
        int[][] parts = Partitions.labelShards(labels, 3, 2, 9);
        assertDisjointCover(parts, labels.length);
        // naive: each shard is a run of the label-sorted order, so within a client the labels come from at most 2 runs
        for (int[] p : parts) assertThat(p.length).isBetween(97 / 6 * 2, (97 / 6 + 1) * 2);
    }

    @Test
    void dirichletSplitsEveryExampleOnceAndSmallAlphaConcentratesClasses() {
        int[] labels = balancedLabels(2);
        int[][] skewed = Partitions.dirichlet(labels, 10, 0.1, 7), even = Partitions.dirichlet(labels, 10, 100, 7);
        assertDisjointCover(skewed, labels.length);
        assertDisjointCover(even, labels.length);
        double skewedClasses = Arrays.stream(skewed).mapToLong(p -> classesOf(p, labels)).average().orElseThrow();
        double evenClasses = Arrays.stream(even).mapToLong(p -> classesOf(p, labels)).average().orElseThrow();
        assertThat(evenClasses).isEqualTo(10.0);
        assertThat(skewedClasses).isLessThan(6.0);
        // with alpha 100 each client gets close to a tenth of each class
        for (int[] p : even) assertThat(p.length).isBetween(450, 750);
    }

    @Test
    void gammaSamplerHasTheRightMean() {
        Random r = new Random(3);
        for (double shape : new double[] {0.3, 1, 4.5}) {
            double sum = 0;
            int n = 40_000;
            for (int i = 0; i < n; i++) sum += Partitions.gamma(shape, r);
            assertThat(sum / n).isCloseTo(shape, org.assertj.core.data.Offset.offset(0.05 * Math.max(1, shape)));
        }
    }

    @Test
    void specificationsParseAndBadOnesAreNamed() {
        int[] labels = balancedLabels(3);
        assertThat(Partitions.of("shards:2", labels, 10, 1)).isDeepEqualTo(Partitions.labelShards(labels, 10, 2, 1));
        assertThat(Partitions.of("dirichlet:0.5", labels, 10, 1)).isDeepEqualTo(Partitions.dirichlet(labels, 10, 0.5, 1));
        assertThat(Partitions.of("iid", labels, 10, 1)).hasNumberOfRows(10);
        assertThatThrownBy(() -> Partitions.of("stripes:3", labels, 10, 1)).hasMessageContaining("stripes:3");
        assertThatThrownBy(() -> Partitions.of("shards:x", labels, 10, 1)).hasMessageContaining("shards:x");
        assertThatThrownBy(() -> Partitions.labelShards(new int[5], 3, 2, 1)).hasMessageContaining("5 examples");
    }
}
