package dev.jumbo.spark;

import dev.jumbo.data.DataLoader;
import dev.jumbo.data.Dataset;
import dev.jumbo.io.Json;
import dev.jumbo.metrics.Mean;
import dev.jumbo.metrics.Metric;
import dev.jumbo.nn.BatchNormalization;
import dev.jumbo.nn.Dropout;
import dev.jumbo.nn.FlatParameters;
import dev.jumbo.nn.Layer;
import dev.jumbo.optim.Optimizer;
import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.train.Callback;
import dev.jumbo.train.Checkpoint;
import dev.jumbo.train.FitOptions;
import dev.jumbo.train.History;
import dev.jumbo.train.Sequential;
import dev.jumbo.train.ShardedGradient;
import dev.jumbo.train.Trainer;
import dev.jumbo.train.TrainingException;
import dev.jumbo.train.TrainingRun;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function2;
import org.apache.spark.broadcast.Broadcast;
import scala.Tuple2;

/**
 * Synchronous data-parallel training of a compiled {@link Sequential} on Spark, step for step the
 * training {@code model.fit(data, options)} does on one machine. Each step the driver broadcasts
 * the current weights and the indices of the step's global batch (the batch {@link DataLoader}
 * draws with {@link Trainer#epochRandom} for that seed and epoch); every partition computes its
 * share of the gradient of the batch's mean loss (the examples of the batch it holds, in the
 * batch's order); the driver adds the shares in partition order, so a run is bit-for-bit
 * repeatable, and applies the model's own optimizer. The weights live on the driver: every
 * replica starts each step from them. This is {@link ShardedGradient}'s computation, one shard
 * per partition: on a {@link DistributedDataset#of} with n partitions the weights equal
 * single-process {@code fit} with {@link FitOptions#gradientShards gradientShards(n)} bit for
 * bit, and plain {@code fit} up to the order of float additions.
 *
 * <pre>{@code
 * model.compile(new Adam(1e-3), "sparse_categorical_crossentropy", "accuracy");
 * try (JavaSparkContext sc = SparkContexts.open("local[2]", "jumbo")) {
 *     History h = SparkTraining.fit(sc, model, DistributedDataset.of(sc, train, 2),
 *             FitOptions.defaults().epochs(3).batchSize(64).seed(42));
 * }
 * }</pre>
 *
 * <p>Layers that draw random numbers or keep batch statistics while training (Dropout,
 * BatchNormalization) are refused: their replicas would not compute what one machine does.
 * Callbacks run on the driver as {@code fit} runs them ({@link dev.jumbo.train.ModelCheckpoint}
 * writes checkpoints there, and {@link FitOptions#resumeFrom} continues from one, skipping the
 * epoch's batches already done); their logs hold the running {@code loss} and compiled metrics
 * (from the outputs and targets the partitions send back with their gradients, as one process
 * computes them) and, with validation data, {@code val_*} from the driver.
 */
public final class SparkTraining {
    private SparkTraining() {}

    /**
     * Trains {@code model} (compiled: its optimizer and loss are the ones used) on {@code data}.
     *
     * @throws IllegalArgumentException for a validation split (pass validation data), a model it cannot
     *                                  replicate or that does not fit in the executors' or driver's memory
     *                                  (checked before the first step), or data of other shapes
     * @throws TrainingException        when the loss becomes NaN or infinite
     */
    public static History fit(JavaSparkContext sc, Sequential model, DistributedDataset data, FitOptions options) {
        requireSupported(model, data, options);
        Trainer trainer = model.trainer();
        Optimizer optimizer = trainer.optimizer();
        ModelSpec spec = new ModelSpec(model.configJson(), Json.write(trainer.loss().config(), false),
                data.inputShape().toArray(), data.targetShape().toArray());
        String runId = UUID.randomUUID().toString();
        // indexed in dataset order; not cached: each executor keeps its partitions' rows in a PartitionShard,
        // and a task that lands where none is rebuilds it from the lineage (a lost executor costs no data)
        JavaPairRDD<Example, Long> indexed = data.examples().zipWithIndex();
        MemoryCheck.require(sc, 4L * FlatParameters.stateSize(model), indexed.getNumPartitions());
        long n = indexed.count();
        if (n == 0) throw new IllegalArgumentException("the dataset has no examples");
        if (n > Integer.MAX_VALUE) throw new IllegalArgumentException("the dataset has " + n + " examples, more than a DataLoader indexes");
        Dataset order = new IndexOnly((int) n, data.inputShape());
        History history = new History();
        int startEpoch = 0, skipBatches = 0;
        if (options.resumeFrom() != null) {
            Checkpoint c = Checkpoint.resume(options.resumeFrom(), model, optimizer, history);
            startEpoch = c.epoch();
            skipBatches = c.batch();
        }
        DataLoader probe = new DataLoader(order, options.batchSize(), false, false, null);
        TrainingRun run = new TrainingRun(model, optimizer, options.epochs(), probe.batchesPerEpoch(), history);
        Broadcast<ModelSpec> specs = sc.broadcast(spec);
        try {
            for (Callback cb : options.callbacks()) cb.onTrainBegin(run);
            for (int epoch = startEpoch; epoch < options.epochs() && !run.stopRequested(); epoch++) {
                int skip = epoch == startEpoch ? skipBatches : 0;
                run.at(epoch, skip);
                for (Callback cb : options.callbacks()) cb.onEpochBegin(run, epoch);
                Mean lossMean = new Mean("loss");
                List<Metric> metrics = trainer.newMetrics();
                int b = 0;
                Map<String, Double> logs = new LinkedHashMap<>();
                Iterator<int[]> batches = new DataLoader(order, options.batchSize(), options.shuffle(), false,
                        Trainer.epochRandom(options.seed(), epoch)).indexBatches();
                while (batches.hasNext()) {
                    int[] batch = batches.next();
                    if (b < skip) { // drawn all the same: the epoch's order is one shuffle of the whole dataset
                        b++;
                        continue;
                    }
                    GradientSum g = gradientSum(sc, indexed, runId, specs, FlatParameters.state(model), batch);
                    if (g.examples() != batch.length)
                        throw new IllegalStateException("the partitions held " + g.examples() + " of the batch's " + batch.length
                                + " examples: an example index is missing or repeated in the RDD");
                    double stepLoss = g.lossSum() / batch.length;
                    if (!Double.isFinite(stepLoss))
                        throw new TrainingException("loss became " + stepLoss + " at epoch " + (epoch + 1) + ", batch " + (b + 1)
                                + " (lower the learning rate, clip gradients, or check the data for NaN/inf)");
                    optimizer.zeroGrad();
                    FlatParameters.addToGradients(model, g.sum());
                    optimizer.step();
                    optimizer.zeroGrad();
                    lossMean.update(stepLoss, batch.length);
                    if (!metrics.isEmpty()) {
                        Tensor outputs = Tensor.of(g.outputs(), withBatch(batch.length, model.outputShape()));
                        Tensor targets = Tensor.of(g.targets(), spec.batchShape(false, batch.length));
                        for (Metric m : metrics) m.update(outputs, targets);
                    }
                    b++;
                    run.at(epoch, b);
                    logs = Trainer.snapshot(lossMean, metrics);
                    for (Callback cb : options.callbacks()) cb.onBatchEnd(run, epoch, b - 1, logs);
                    if (run.stopRequested()) break;
                }
                Map<String, Double> epochLogs = new LinkedHashMap<>(logs);
                if (options.validationData() != null)
                    trainer.evaluate(options.validationData(), options.batchSize()).forEach((k, v) -> epochLogs.put("val_" + k, v));
                history.append(epochLogs);
                // callbacks see where the epoch really ended: a stop mid-epoch leaves batchesDone() short
                for (Callback cb : options.callbacks()) cb.onEpochEnd(run, epoch, epochLogs);
            }
            for (Callback cb : options.callbacks()) cb.onTrainEnd(run);
        } finally {
            PartitionShard.forget(runId);
            if (!sc.sc().isStopped()) {
                indexed.foreachPartition(rows -> PartitionShard.forget(runId));
                specs.destroy();
            }
        }
        return history;
    }

    /** One step on the cluster: the weights out, every partition's share of {@code batch}, the sums added. */
    private static GradientSum gradientSum(JavaSparkContext sc, JavaPairRDD<Example, Long> indexed, String runId,
                                           Broadcast<ModelSpec> specs, float[] state, int[] batch) {
        Broadcast<float[]> weights = sc.broadcast(state);
        try {
            long[] indices = new long[batch.length];
            for (int i = 0; i < batch.length; i++) indices[i] = batch[i];
            // collect, not treeAggregate: Spark's aggregate adds results in the order tasks finish, so float sums
            // of three or more partitions would differ run to run; collect returns them in partition order
            // (at the price of one gradient per partition reaching the driver) and they are added in that order
            GradientSum total = GradientSum.NONE;
            for (GradientSum part : indexed.mapPartitionsWithIndex(new PartitionStep(runId, specs, weights, indices), true).collect())
                total = total.plus(part);
            return total;
        } finally {
            weights.destroy();
        }
    }

    /** What runs on an executor each step: the partition's shard gives its gradient sum. */
    private record PartitionStep(String runId, Broadcast<ModelSpec> spec, Broadcast<float[]> weights, long[] batch)
            implements Function2<Integer, Iterator<Tuple2<Example, Long>>, Iterator<GradientSum>> {
        @Override
        public Iterator<GradientSum> call(Integer partition, Iterator<Tuple2<Example, Long>> rows) {
            PartitionShard shard = PartitionShard.of(runId, partition, spec.value(), rows);
            return Collections.singletonList(shard.gradientSum(batch, weights.value())).iterator();
        }
    }

    private static void requireSupported(Sequential model, DistributedDataset data, FitOptions options) {
        if (options.validationSplit() > 0)
            throw new IllegalArgumentException("a validation split is not taken from distributed data; pass validation data instead");
        for (int i = 0; i < model.layers().size(); i++) {
            Layer l = model.layers().get(i);
            if (l instanceof Dropout || l instanceof BatchNormalization)
                throw new IllegalArgumentException("layer " + i + " (" + l.config().get("type") + ") draws random numbers or batch statistics"
                        + " while training, so replicas on Spark would not compute what one machine does; remove it to train on Spark");
        }
        if (!model.inputShape().equals(data.inputShape()))
            throw new IllegalArgumentException("the model takes inputs of shape " + model.inputShape() + " but the examples have " + data.inputShape());
    }

    private static int[] withBatch(int k, Shape one) {
        int[] out = new int[one.rank() + 1];
        out[0] = k;
        System.arraycopy(one.toArray(), 0, out, 1, one.rank());
        return out;
    }

    /** The dataset's size, for a DataLoader that only draws the order: examples stay on the executors. */
    private record IndexOnly(int size, Shape exampleShape) implements Dataset {
        @Override
        public dev.jumbo.data.Batch batch(int[] indices) {
            throw new UnsupportedOperationException("the examples are on the Spark executors");
        }
    }
}
