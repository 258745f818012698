package dev.jumbo.train;

import dev.jumbo.nn.Module;
import dev.jumbo.optim.Optimizer;

/**
 * What a callback can see and steer during {@link Trainer#fit}: the model, the optimizer, where
 * the run is, the history so far, and a way to stop early.
 */
public final class TrainingRun {
    private final Module model;
    private final Optimizer optimizer;
    private final int epochs;
    private final int batchesPerEpoch;
    private final History history;
    private int epoch;
    private int batchesDone;
    private boolean stopRequested;

    /** A run of {@code epochs}; public for trainers outside this package (jumbo-spark's) to drive the same callbacks. */
    public TrainingRun(Module model, Optimizer optimizer, int epochs, int batchesPerEpoch, History history) {
        this.model = model;
        this.optimizer = optimizer;
        this.epochs = epochs;
        this.batchesPerEpoch = batchesPerEpoch;
        this.history = history;
    }

    public Module model() {
        return model;
    }

    public Optimizer optimizer() {
        return optimizer;
    }

    /** Total epochs the run was asked for. */
    public int epochs() {
        return epochs;
    }

    public int batchesPerEpoch() {
        return batchesPerEpoch;
    }

    /** The epoch in progress, from 0. */
    public int epoch() {
        return epoch;
    }

    /** Batches finished in the current epoch. */
    public int batchesDone() {
        return batchesDone;
    }

    public History history() {
        return history;
    }

    /** Asks the trainer to stop after the current batch (as Keras' {@code model.stop_training = True}). */
    public void stop() {
        stopRequested = true;
    }

    public boolean stopRequested() {
        return stopRequested;
    }

    /** Where the run is: {@code batchesDone} batches of epoch {@code epoch} (from 0) finished. */
    public void at(int epoch, int batchesDone) {
        this.epoch = epoch;
        this.batchesDone = batchesDone;
    }
}
