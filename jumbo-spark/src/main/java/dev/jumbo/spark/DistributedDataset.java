package dev.jumbo.spark;

import dev.jumbo.data.TensorDataset;
import dev.jumbo.tensor.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;

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

    /** The rows of an in-memory dataset as an RDD of {@code partitions} contiguous slices. */
    public static DistributedDataset of(JavaSparkContext sc, TensorDataset data, int partitions) {
        if (partitions < 1) throw new IllegalArgumentException("partitions must be at least 1, got " + partitions);
        int n = data.size();
        float[] x = data.x().toFloatArray(), y = data.y().toFloatArray();
        int xw = x.length / Math.max(n, 1), yw = y.length / Math.max(n, 1);
        List<Example> rows = new ArrayList<>(n);
        for (int i = 0; i < n; i++)
            rows.add(new Example(Arrays.copyOfRange(x, i * xw, (i + 1) * xw), Arrays.copyOfRange(y, i * yw, (i + 1) * yw)));
        int[] ty = data.y().shape().toArray();
        return new DistributedDataset(sc.parallelize(rows, partitions), data.exampleShape(), Shape.of(Arrays.copyOfRange(ty, 1, ty.length)));
    }
}
