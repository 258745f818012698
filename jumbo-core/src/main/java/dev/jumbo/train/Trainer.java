package dev.jumbo.train;

import dev.jumbo.data.Batch;
import dev.jumbo.data.DataLoader;
import dev.jumbo.data.Dataset;
import dev.jumbo.data.TensorDataset;
import dev.jumbo.loss.Loss;
import dev.jumbo.metrics.Mean;
import dev.jumbo.metrics.Metric;
import dev.jumbo.nn.FlatParameters;
import dev.jumbo.nn.Module;
import dev.jumbo.nn.Parameter;
import dev.jumbo.optim.Optimizer;
import dev.jumbo.tensor.GradMode;
import dev.jumbo.tensor.Tensor;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.IntStream;

/**
 * The training loop shared by {@link Sequential#fit} and any {@link Module}: forward, loss,
 * backward, optimizer step, metrics and callbacks. It is the same loop a user would write by
 * hand; it adds resumption from a checkpoint and a loud stop on a non-finite loss.
 *
 * <pre>{@code
 * Trainer t = new Trainer(model, new Adam(1e-3), new SparseCategoricalCrossentropy(false), List.of("accuracy"));
 * History h = t.fit(train, FitOptions.defaults().epochs(3).validationData(test));
 * }</pre>
 */
public final class Trainer {
    private final Module model;
    private final Optimizer optimizer;
    private final Loss loss;
    private final List<String> metricIds;

    /** Binds the optimizer to the model's trainable parameters. */
    public Trainer(Module model, Optimizer optimizer, Loss loss, List<String> metrics) {
        this.model = model;
        this.optimizer = optimizer;
        this.loss = loss;
        this.metricIds = List.copyOf(metrics);
        optimizer.bind(model.parameters().stream().filter(Parameter::trainable).map(Parameter::value).toList());
    }

    public Module model() {
        return model;
    }

    public Optimizer optimizer() {
        return optimizer;
    }

    public Loss loss() {
        return loss;
    }

    /** Trains on {@code train} as {@code options} say. */
    public History fit(Dataset train, FitOptions options) {
        Dataset validation = options.validationData();
        if (validation == null && options.validationSplit() > 0) {
            if (!(train instanceof TensorDataset inMemory))
                throw new IllegalArgumentException("validation split needs in-memory data (a TensorDataset); pass validation data instead");
            var parts = inMemory.split(options.validationSplit());
            train = parts[0];
            validation = parts[1];
        }
        History history = new History();
        int startEpoch = 0, skipBatches = 0;
        if (options.resumeFrom() != null) {
            Checkpoint c = Checkpoint.resume(options.resumeFrom(), model, optimizer, history);
            startEpoch = c.epoch();
            skipBatches = c.batch();
        }
        DataLoader probe = new DataLoader(train, options.batchSize(), false, false, new Random(0));
        TrainingRun run = new TrainingRun(model, optimizer, options.epochs(), probe.batchesPerEpoch(), history);
        for (Callback cb : options.callbacks()) cb.onTrainBegin(run);
        for (int epoch = startEpoch; epoch < options.epochs() && !run.stopRequested(); epoch++) {
            int skip = epoch == startEpoch ? skipBatches : 0;
            run.at(epoch, skip);
            for (Callback cb : options.callbacks()) cb.onEpochBegin(run, epoch);
            Map<String, Double> logs = trainEpoch(train, options, run, epoch, skip);
            if (validation != null) evaluate(validation, options.batchSize()).forEach((k, v) -> logs.put("val_" + k, v));
            history.append(logs);
            // callbacks see where the epoch really ended: a stop mid-epoch leaves batchesDone() short
            for (Callback cb : options.callbacks()) cb.onEpochEnd(run, epoch, logs);
        }
        for (Callback cb : options.callbacks()) cb.onTrainEnd(run);
        return history;
    }

    private Map<String, Double> trainEpoch(Dataset train, FitOptions options, TrainingRun run, int epoch, int skip) {
        model.train(true);
        Mean lossMean = new Mean("loss");
        List<Metric> metrics = newMetrics();
        DataLoader loader = new DataLoader(train, options.batchSize(), options.shuffle(), false, epochRandom(options.seed(), epoch));
        int b = 0;
        Map<String, Double> logs = new LinkedHashMap<>();
        if (options.gradientShards() > 0) return trainEpochSharded(train, options, run, epoch, skip, loader, lossMean, metrics);
        for (Batch batch : loader) {
            if (b < skip) {
                b++;
                continue;
            }
            Tensor predictions = model.forward(batch.x());
            Tensor value = loss.compute(predictions, batch.y());
            float lossValue = value.item();
            if (!Float.isFinite(lossValue))
                throw new TrainingException("loss became " + lossValue + " at epoch " + (epoch + 1) + ", batch " + (b + 1)
                        + " (lower the learning rate, clip gradients, or check the data for NaN/inf)");
            optimizer.zeroGrad();
            value.backward();
            optimizer.step();
            Tensor detached = predictions.detach();
            lossMean.update(lossValue, batch.x().dim(0));
            for (Metric m : metrics) m.update(detached, batch.y());
            b++;
            run.at(epoch, b);
            logs = snapshot(lossMean, metrics);
            for (Callback cb : options.callbacks()) cb.onBatchEnd(run, epoch, b - 1, logs);
            if (run.stopRequested()) break;
        }
        return new LinkedHashMap<>(logs);
    }

    /** {@link #trainEpoch} with each batch's gradient added up shard by shard, as {@link ShardedGradient} says. */
    private Map<String, Double> trainEpochSharded(Dataset train, FitOptions options, TrainingRun run, int epoch, int skip,
                                                  DataLoader loader, Mean lossMean, List<Metric> metrics) {
        int shards = options.gradientShards(), size = train.size();
        Iterator<int[]> batches = loader.indexBatches();
        int b = 0;
        Map<String, Double> logs = new LinkedHashMap<>();
        while (batches.hasNext()) {
            int[] batch = batches.next();
            if (b < skip) {
                b++;
                continue;
            }
            float[] sum = null;
            double lossSum = 0;
            for (int s = 0; s < shards; s++) {
                int shard = s;
                int[] mine = IntStream.of(batch).filter(i -> ShardedGradient.shardOf(i, size, shards) == shard).toArray();
                if (mine.length == 0) continue;
                Batch part = train.batch(mine);
                ShardedGradient.Part share = ShardedGradient.compute(model, loss, part.x(), part.y(), batch.length);
                sum = ShardedGradient.add(sum, share.gradient());
                lossSum += share.lossSum();
                Tensor detached = share.predictions().detach();
                for (Metric m : metrics) m.update(detached, part.y());
            }
            double lossValue = lossSum / batch.length;
            if (!Double.isFinite(lossValue))
                throw new TrainingException("loss became " + lossValue + " at epoch " + (epoch + 1) + ", batch " + (b + 1)
                        + " (lower the learning rate, clip gradients, or check the data for NaN/inf)");
            optimizer.zeroGrad();
            FlatParameters.addToGradients(model, sum);
            optimizer.step();
            lossMean.update(lossValue, batch.length);
            b++;
            run.at(epoch, b);
            logs = snapshot(lossMean, metrics);
            for (Callback cb : options.callbacks()) cb.onBatchEnd(run, epoch, b - 1, logs);
            if (run.stopRequested()) break;
        }
        return new LinkedHashMap<>(logs);
    }

    /**
     * The Random that shuffles epoch {@code epoch} (from 0) of a run seeded {@code seed}. The order of an
     * epoch depends only on these two, so a resumed run sees the same batches, and a data-parallel run
     * (jumbo-spark) the batches single-process {@code fit} would see.
     */
    public static Random epochRandom(long seed, int epoch) {
        return new Random(seed * 1_000_003L + epoch);
    }

    /** Loss and metrics over {@code data}, without recording gradients and in inference mode. */
    public Map<String, Double> evaluate(Dataset data, int batchSize) {
        boolean wasTraining = model.isTraining();
        model.train(false);
        double lossSum = 0;
        int seen = 0;
        List<Metric> metrics = newMetrics();
        try (var scope = GradMode.noGrad()) {
            for (Batch batch : new DataLoader(data, batchSize, false, false, new Random(0))) {
                Tensor predictions = model.forward(batch.x());
                int n = predictions.dim(0);
                lossSum += (double) loss.compute(predictions, batch.y()).item() * n;
                seen += n;
                for (Metric m : metrics) m.update(predictions, batch.y());
            }
        } finally {
            model.train(wasTraining);
        }
        Map<String, Double> out = new LinkedHashMap<>();
        out.put("loss", seen == 0 ? Double.NaN : lossSum / seen);
        for (Metric m : metrics) out.put(m.name(), m.result());
        return out;
    }

    /** Fresh metrics of the ids the model was compiled with (data-parallel trainers update them on the driver). */
    public List<Metric> newMetrics() {
        return metricIds.stream().map(id -> dev.jumbo.metrics.Metrics.of(id, loss)).toList();
    }

    /** {@code loss} from the running mean, then each metric's result: the logs a training batch ends with. */
    public static Map<String, Double> snapshot(Mean lossMean, List<Metric> metrics) {
        Map<String, Double> logs = new LinkedHashMap<>();
        logs.put("loss", lossMean.result());
        for (Metric m : metrics) logs.put(m.name(), m.result());
        return logs;
    }
}
