package dev.jumbo.spark;

import dev.jumbo.io.FormatException;
import dev.jumbo.io.Json;
import dev.jumbo.loss.Loss;
import dev.jumbo.loss.Losses;
import dev.jumbo.nn.FlatParameters;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.train.Sequential;
import dev.jumbo.train.ShardedGradient;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import scala.Tuple2;

/**
 * An executor's copy of one partition for one training run: its examples in arrays, addressed by
 * their index in the dataset, and a replica of the model that computes their gradients. It is
 * built from the partition's rows the first time a step runs there and kept in this JVM until
 * the run ends, so later steps read no rows and ship none; a task rerun elsewhere rebuilds it.
 */
final class PartitionShard {
    private static final Map<String, PartitionShard> SHARDS = new ConcurrentHashMap<>();

    private final float[] x, y;
    private final int xWidth, yWidth;
    private final Map<Long, Integer> rowOf = new HashMap<>();
    private final Sequential replica;
    private final Loss loss;
    private final ModelSpec spec;

    private PartitionShard(ModelSpec spec, Iterator<Tuple2<Example, Long>> rows) {
        this.spec = spec;
        this.xWidth = spec.inputSize();
        this.yWidth = spec.targetSize();
        List<Example> examples = new ArrayList<>();
        while (rows.hasNext()) {
            Tuple2<Example, Long> r = rows.next();
            Example e = r._1();
            if (e.x().length != xWidth || e.y().length != yWidth)
                throw new IllegalArgumentException("example " + r._2() + " has " + e.x().length + " input and " + e.y().length
                        + " target values; the dataset's shapes want " + xWidth + " and " + yWidth);
            rowOf.put(r._2(), examples.size());
            examples.add(e);
        }
        x = new float[examples.size() * xWidth];
        y = new float[examples.size() * yWidth];
        for (int i = 0; i < examples.size(); i++) {
            System.arraycopy(examples.get(i).x(), 0, x, i * xWidth, xWidth);
            System.arraycopy(examples.get(i).y(), 0, y, i * yWidth, yWidth);
        }
        try {
            replica = Sequential.fromConfig(spec.configJson(), Path.of("config.json"));
        } catch (FormatException e) {
            throw new IllegalArgumentException("the model's config does not rebuild on the executor: " + e.getMessage(), e);
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> lossConfig = (Map<String, Object>) Json.parse(spec.lossJson());
        loss = Losses.fromConfig(lossConfig);
    }

    /** The shard of partition {@code partition} of run {@code runId}, built from {@code rows} if this JVM has none. */
    static PartitionShard of(String runId, int partition, ModelSpec spec, Iterator<Tuple2<Example, Long>> rows) {
        return SHARDS.computeIfAbsent(runId + "/" + partition, k -> new PartitionShard(spec, rows));
    }

    /** Drops this JVM's shards of run {@code runId}. */
    static void forget(String runId) {
        SHARDS.keySet().removeIf(k -> k.startsWith(runId + "/"));
    }

    /**
     * This partition's share of the gradient of {@code batch}'s mean loss (its examples taken in the
     * batch's order, as {@link ShardedGradient#compute} takes a shard), at the weights {@code state}.
     */
    GradientSum gradientSum(long[] batch, float[] state) {
        List<Integer> rows = new ArrayList<>();
        for (long index : batch) {
            Integer r = rowOf.get(index);
            if (r != null) rows.add(r);
        }
        int k = rows.size();
        if (k == 0) return GradientSum.NONE;
        float[] bx = new float[k * xWidth], by = new float[k * yWidth];
        for (int i = 0; i < k; i++) {
            System.arraycopy(x, rows.get(i) * xWidth, bx, i * xWidth, xWidth);
            System.arraycopy(y, rows.get(i) * yWidth, by, i * yWidth, yWidth);
        }
        FlatParameters.loadState(replica, state);
        replica.train(true);
        ShardedGradient.Part share = ShardedGradient.compute(replica, loss,
                Tensor.of(bx, spec.batchShape(true, k)), Tensor.of(by, spec.batchShape(false, k)), batch.length);
        return new GradientSum(share.gradient(), share.lossSum(), k, share.predictions().toFloatArray(), by);
    }
}
