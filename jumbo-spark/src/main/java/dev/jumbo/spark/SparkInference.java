package dev.jumbo.spark;

import dev.jumbo.io.FormatException;
import dev.jumbo.nn.FlatParameters;
import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.train.Sequential;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function2;
import org.apache.spark.broadcast.Broadcast;

/**
 * Batch inference on Spark: a {@link Sequential}'s predictions for every example of a distributed
 * dataset, in the dataset's order. The model's config and weights are broadcast once; each task
 * rebuilds the model from them and runs its partition through {@link Sequential#predict} a batch at
 * a time, so a prediction is the float-for-float output of the model in one process.
 *
 * <pre>{@code
 * try (JavaSparkContext sc = SparkContexts.open("local[2]", "jumbo")) {
 *     List<SparkInference.Prediction> p = SparkInference.predict(sc, model, DistributedDataset.of(sc, test, 2), 256).collect();
 *     int first = p.get(0).predicted();
 * }
 * }</pre>
 *
 * <p>The examples' targets are not read. The returned RDD is lazy: nothing runs until it is
 * collected or saved, and the broadcast lives while the RDD does (Spark's cleaner drops it after).
 */
public final class SparkInference {
    private SparkInference() {}

    /** One example's model output and the class with the highest value in it (the first, on a tie). */
    public record Prediction(int predicted, float[] probabilities) implements Serializable {}

    /**
     * The model's predictions for {@code data}: element {@code i} is example {@code i}'s, partition
     * for partition as the examples are laid out.
     *
     * @throws IllegalArgumentException before any Spark job starts if the model takes another input
     *                                  shape than the examples have, or the batch size is below 1
     */
    public static JavaRDD<Prediction> predict(JavaSparkContext sc, Sequential model, DistributedDataset data, int batchSize) {
        if (batchSize < 1) throw new IllegalArgumentException("the batch size must be at least 1, got " + batchSize);
        if (!model.inputShape().equals(data.inputShape()))
            throw new IllegalArgumentException("the model takes inputs of shape " + model.inputShape() + " but the examples have " + data.inputShape());
        Broadcast<Weights> weights = sc.broadcast(new Weights(model.configJson(), FlatParameters.state(model), data.inputShape().toArray()));
        return data.examples().mapPartitionsWithIndex(new PartitionPredict(weights, batchSize), true);
    }

    /** What every task needs to rebuild the model: its config JSON, its flat state and one input's shape. */
    private record Weights(String configJson, float[] state, int[] inputShape) implements Serializable {
        Sequential model() {
            Sequential m;
            try {
                m = Sequential.fromConfig(configJson, Path.of("config.json"));
            } catch (FormatException e) {
                throw new IllegalArgumentException("the model's config does not rebuild on the executor: " + e.getMessage(), e);
            }
            FlatParameters.loadState(m, state);
            return m;
        }
    }

    /** What runs on an executor: the partition's examples through the model, {@code batchSize} at a time. */
    private record PartitionPredict(Broadcast<Weights> weights, int batchSize)
            implements Function2<Integer, Iterator<Example>, Iterator<Prediction>> {
        @Override
        public Iterator<Prediction> call(Integer partition, Iterator<Example> rows) {
            Weights w = weights.value();
            Sequential model = w.model();
            int width = Shape.of(w.inputShape()).size();
            // lazy: a batch is predicted when the one before it has been consumed, so a partition never sits in memory whole
            return new Iterator<>() {
                private final ArrayDeque<Prediction> ready = new ArrayDeque<>();
                private long row;

                @Override
                public boolean hasNext() {
                    if (ready.isEmpty() && rows.hasNext()) predictNextBatch();
                    return !ready.isEmpty();
                }

                @Override
                public Prediction next() {
                    if (!hasNext()) throw new NoSuchElementException();
                    return ready.poll();
                }

                private void predictNextBatch() {
                    float[] x = new float[batchSize * width];
                    int k = 0;
                    for (; k < batchSize && rows.hasNext(); k++, row++) {
                        float[] e = rows.next().x();
                        if (e.length != width)
                            throw new IllegalArgumentException("row " + row + " of partition " + partition + " has " + e.length
                                    + " input values; the model takes " + width);
                        System.arraycopy(e, 0, x, k * width, width);
                    }
                    int[] dims = new int[w.inputShape().length + 1];
                    dims[0] = k;
                    System.arraycopy(w.inputShape(), 0, dims, 1, w.inputShape().length);
                    Tensor out = model.predict(Tensor.of(k == batchSize ? x : Arrays.copyOf(x, k * width), dims), batchSize);
                    float[] values = out.toFloatArray();
                    int classes = values.length / k;
                    int[] best = out.reshape(k, classes).argmax();
                    for (int i = 0; i < k; i++)
                        ready.add(new Prediction(best[i], Arrays.copyOfRange(values, i * classes, (i + 1) * classes)));
                }
            };
        }
    }
}
