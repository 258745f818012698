package dev.jumbo.cli;

import dev.jumbo.data.TensorDataset;
import dev.jumbo.spark.DistributedDataset;
import dev.jumbo.spark.SparkContexts;
import dev.jumbo.spark.SparkInference;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.train.Sequential;
import java.io.PrintWriter;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * {@code jumbo predict --spark [MASTER]}: the predictions computed on Spark (jumbo-spark's
 * {@link SparkInference}), one partition per core the master offers, the context opened and
 * closed around the run.
 */
final class SparkPredictionJob {
    private SparkPredictionJob() {}

    /** The model's outputs for {@code data}'s examples, {@code [n, classes]} in their order, computed with Spark at {@code master}. */
    static Tensor predict(String master, Map<String, String> settings, Sequential model, TensorDataset data, int batchSize, PrintWriter err) {
        if (!SparkTrainingJob.MASTER.matcher(master).matches())
            throw new IllegalArgumentException("--spark takes a master URL (local[*], local[2], spark://host:7077, ...), got '" + master
                    + "'; write the dataset before --spark");
        int n = data.size();
        try (JavaSparkContext sc = SparkContexts.open(master, "jumbo predict", settings)) {
            sc.setLogLevel("WARN");
            int partitions = Math.max(1, Math.min(n, sc.defaultParallelism()));
            long start = System.nanoTime();
            List<SparkInference.Prediction> rows = SparkInference.predict(sc, model, DistributedDataset.of(sc, data, partitions), batchSize).collect();
            double seconds = (System.nanoTime() - start) / 1e9;
            err.printf("spark %s: master %s, %d partitions, %d examples in %.2f s (%.0f examples/s)%n", sc.version(), master, partitions, n,
                    seconds, n / seconds);
            err.flush();
            int k = rows.getFirst().probabilities().length;
            float[] out = new float[n * k];
            for (int i = 0; i < n; i++) System.arraycopy(rows.get(i).probabilities(), 0, out, i * k, k);
            return Tensor.of(out, n, k);
        }
    }
}
