package dev.jumbo.spark;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jumbo.data.TensorDataset;
import dev.jumbo.nn.FlatParameters;
import dev.jumbo.train.FitOptions;
import dev.jumbo.train.Sequential;
import java.util.Arrays;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;

/** Three partitions on three cores: their gradient sums finish in any order, and are added in one. */
class RepeatableSumsTest {
    @Test
    void twoRunsOnThreePartitionsGiveBitIdenticalWeights() {
        TensorDataset train = Blobs.of(1000, 2, 3);
        FitOptions options = FitOptions.defaults().epochs(3).batchSize(50).seed(5);
        Sequential local = Blobs.mlp(4), first = Blobs.mlp(4), second = Blobs.mlp(4);
        local.fit(train, options);
        try (JavaSparkContext sc = SparkContexts.open("local[3]", "jumbo-repeatable-sums-test")) {
            sc.setLogLevel("WARN");
            DistributedDataset data = DistributedDataset.of(sc, train, 3);
            assertThat(data.examples().getNumPartitions()).isEqualTo(3);
            SparkTraining.fit(sc, first, data, options);
            SparkTraining.fit(sc, second, data, options);
        }
        float[] a = FlatParameters.state(first), b = FlatParameters.state(second), l = FlatParameters.state(local);
        int differing = 0;
        for (int i = 0; i < a.length; i++) if (Float.floatToRawIntBits(a[i]) != Float.floatToRawIntBits(b[i])) differing++;
        assertThat(differing).as("weights differing between two runs of 60 steps").isZero();
        // and it is the training fit does, not two equally wrong runs
        double max = 0;
        for (int i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - l[i]));
        assertThat(max).isLessThanOrEqualTo(1e-4);
        assertThat(Arrays.equals(a, FlatParameters.state(Blobs.mlp(4)))).isFalse();
    }
}
