package dev.jumbo.cli;

import dev.jumbo.data.TensorDataset;
import dev.jumbo.spark.DistributedDataset;
import dev.jumbo.spark.SparkContexts;
import dev.jumbo.spark.SparkTraining;
import dev.jumbo.train.FitOptions;
import dev.jumbo.train.History;
import dev.jumbo.train.Sequential;
import java.io.PrintWriter;
import java.util.Map;
import java.util.regex.Pattern;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * {@code jumbo train --spark [MASTER]}: the same training on Spark (jumbo-spark's
 * {@link SparkTraining}), one partition per core the master offers (or --gradient-shards N), the context opened and closed
 * around the run.
 */
final class SparkTrainingJob {
    /** The master URLs Spark takes, so that a dataset name after a bare --spark is not read as one. */
    static final Pattern MASTER = Pattern.compile("local(\\[(\\*|\\d+)(,\\d+)?])?|(spark|k8s|mesos)://.+|yarn");

    private SparkTrainingJob() {}

    /** Trains {@code model} on {@code train} with Spark at {@code master}. */
    static History fit(String master, Map<String, String> settings, Sequential model, TensorDataset train, FitOptions options, PrintWriter err) {
        if (!MASTER.matcher(master).matches())
            throw new IllegalArgumentException("--spark takes a master URL (local[*], local[2], spark://host:7077, ...), got '" + master
                    + "'; write the dataset before --spark");
        if (options.validationSplit() > 0)
            throw new IllegalArgumentException("--spark validates on the test set: leave out --validation-split");
        try (JavaSparkContext sc = SparkContexts.open(master, "jumbo train", settings)) {
            sc.setLogLevel("WARN");
            // --gradient-shards N names the partitions, so the run can be repeated without Spark bit for bit
            int partitions = options.gradientShards() > 0 ? options.gradientShards() : sc.defaultParallelism();
            err.printf("spark %s: master %s, %d partitions, global batch %d (without --spark, --gradient-shards %d gives these weights bit for bit)%n",
                    sc.version(), master, partitions, options.batchSize(), partitions);
            err.flush();
            return SparkTraining.fit(sc, model, DistributedDataset.of(sc, train, partitions), options);
        }
    }
}
