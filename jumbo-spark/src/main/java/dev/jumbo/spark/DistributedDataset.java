package dev.jumbo.spark;

import dev.jumbo.data.TensorDataset;
import dev.jumbo.tensor.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;

/**
 * Examples spread over Spark partitions, with the shape of one input and of one target. Example
 * {@code i} of the dataset is the {@code i}-th element of the RDD (partition by partition, in
 * order), which is what a seed's data order refers to.
 *
 * <pre>{@code
 * DistributedDataset data = DistributedDataset.of(sc, new TensorDataset(x, y), 2);
 * }</pre>
 */
public record DistributedDataset(JavaRDD<Example> examples, Shape inputShape, Shape targetShape) {
    public DistributedDataset {
        Objects.requireNonNull(examples, "examples");
        Objects.requireNonNull(inputShape, "inputShape");
        Objects.requireNonNull(targetShape, "targetShape");
    }

    /**
     * The rows of an in-memory dataset as an RDD of {@code partitions} contiguous slices. The data
     * is broadcast once and each partition reads its slice from it: Spark's {@code parallelize}
     * would put every slice inside every task that reads it, each training step again.
     */
    public static DistributedDataset of(JavaSparkContext sc, TensorDataset data, int partitions) {
        if (partitions < 1) throw new IllegalArgumentException("partitions must be at least 1, got " + partitions);
        int n = data.size();
        if (n == 0) throw new IllegalArgumentException("the dataset has no examples");
        Broadcast<float[][]> arrays = sc.broadcast(new float[][] {data.x().toFloatArray(), data.y().toFloatArray()});
        List<Integer> slices = new ArrayList<>();
        for (int p = 0; p < partitions; p++) slices.add(p);
        JavaRDD<Example> rows = sc.parallelize(slices, partitions).flatMap(p -> {
            float[] x = arrays.value()[0], y = arrays.value()[1];
            int xw = x.length / n, yw = y.length / n;
            // slice p holds [p n / partitions, (p + 1) n / partitions), as parallelize cuts a range
            int from = (int) ((long) p * n / partitions), to = (int) ((long) (p + 1) * n / partitions);
            List<Example> out = new ArrayList<>(to - from);
            for (int i = from; i < to; i++)
                out.add(new Example(Arrays.copyOfRange(x, i * xw, (i + 1) * xw), Arrays.copyOfRange(y, i * yw, (i + 1) * yw)));
            return out.iterator();
        });
        int[] ty = data.y().shape().toArray();
        return new DistributedDataset(rows, data.exampleShape(), Shape.of(Arrays.copyOfRange(ty, 1, ty.length)));
    }
}
