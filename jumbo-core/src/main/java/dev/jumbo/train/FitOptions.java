package dev.jumbo.train;

import dev.jumbo.data.Dataset;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The arguments of Keras' {@code fit}, as an immutable value with withers.
 *
 * <pre>{@code
 * FitOptions o = FitOptions.defaults().epochs(5).batchSize(64).validationSplit(0.1);
 * }</pre>
 *
 * @param epochs          passes over the training data
 * @param batchSize       examples per optimizer step (Keras' default 32)
 * @param shuffle         reshuffle the training data every epoch
 * @param validationData  data evaluated after every epoch ("val_" metrics), or null
 * @param validationSplit fraction of the training data held out for validation when no
 *                        validation data is given (the last examples, as Keras)
 * @param callbacks       hooks run during training
 * @param seed            seeds the shuffling, so a run (and its resumption) is repeatable
 * @param resumeFrom      a checkpoint file written by {@link ModelCheckpoint} to continue from, or null
 * @param gradientShards  0: each batch's gradient in one pass; n: added up over n contiguous shards of
 *                        the data in order, as n Spark partitions do (see {@link ShardedGradient})
 */
public record FitOptions(int epochs, int batchSize, boolean shuffle, Dataset validationData, double validationSplit,
                         List<Callback> callbacks, long seed, Path resumeFrom, int gradientShards) {
    public FitOptions {
        if (epochs < 0) throw new IllegalArgumentException("epochs must be >= 0, got " + epochs);
        if (batchSize <= 0) throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
        if (!(validationSplit >= 0 && validationSplit < 1)) throw new IllegalArgumentException("validation split must be in [0, 1), got " + validationSplit);
        if (gradientShards < 0) throw new IllegalArgumentException("gradient shards must be >= 0, got " + gradientShards);
        callbacks = List.copyOf(callbacks);
    }

    /** One epoch, batch 32, shuffled, no validation, no callbacks, seed 0. */
    public static FitOptions defaults() {
        return new FitOptions(1, 32, true, null, 0, List.of(), 0, null, 0);
    }

    public FitOptions epochs(int v) {
        return new FitOptions(v, batchSize, shuffle, validationData, validationSplit, callbacks, seed, resumeFrom, gradientShards);
    }

    public FitOptions batchSize(int v) {
        return new FitOptions(epochs, v, shuffle, validationData, validationSplit, callbacks, seed, resumeFrom, gradientShards);
    }

    public FitOptions shuffle(boolean v) {
        return new FitOptions(epochs, batchSize, v, validationData, validationSplit, callbacks, seed, resumeFrom, gradientShards);
    }

    public FitOptions validationData(Dataset v) {
        return new FitOptions(epochs, batchSize, shuffle, v, validationSplit, callbacks, seed, resumeFrom, gradientShards);
    }

    public FitOptions validationSplit(double v) {
        return new FitOptions(epochs, batchSize, shuffle, validationData, v, callbacks, seed, resumeFrom, gradientShards);
    }

    /** Adds callbacks to those already set. */
    public FitOptions callbacks(Callback... more) {
        List<Callback> all = new ArrayList<>(callbacks);
        all.addAll(List.of(more));
        return new FitOptions(epochs, batchSize, shuffle, validationData, validationSplit, all, seed, resumeFrom, gradientShards);
    }

    public FitOptions seed(long v) {
        return new FitOptions(epochs, batchSize, shuffle, validationData, validationSplit, callbacks, v, resumeFrom, gradientShards);
    }

    /** Continues the run saved in {@code checkpoint} (weights, optimizer state, position, history). */
    public FitOptions resumeFrom(Path checkpoint) {
        return new FitOptions(epochs, batchSize, shuffle, validationData, validationSplit, callbacks, seed, checkpoint, gradientShards);
    }

    /**
     * Computes each batch's gradient over {@code n} contiguous shards of the training data and adds
     * them in order (0: in one pass). With n equal to a Spark run's partition count, single-process
     * training gives the Spark run's weights bit for bit.
     */
    public FitOptions gradientShards(int n) {
        return new FitOptions(epochs, batchSize, shuffle, validationData, validationSplit, callbacks, seed, resumeFrom, n);
    }
}
