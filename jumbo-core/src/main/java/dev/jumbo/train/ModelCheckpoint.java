package dev.jumbo.train;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Saves a resumable {@link Checkpoint} every {@code everyBatches} optimizer steps and at the end
 * of every epoch. Each save replaces the file atomically, so killing the process at any moment
 * leaves the last complete checkpoint loadable; {@link FitOptions#resumeFrom} continues from it.
 */
public final class ModelCheckpoint implements Callback {
    private final Path file;
    private final int everyBatches;
    private final Supplier<String> config;

    /**
     * @param file         where the checkpoint goes
     * @param everyBatches save after every this many batches (0: only at epoch ends)
     * @param config       the model's architecture JSON (may return null)
     */
    public ModelCheckpoint(Path file, int everyBatches, Supplier<String> config) {
        if (everyBatches < 0) throw new IllegalArgumentException("checkpoint interval must be >= 0, got " + everyBatches);
        this.file = file;
        this.everyBatches = everyBatches;
        this.config = config;
    }

    @Override
    public void onBatchEnd(TrainingRun run, int epoch, int batch, Map<String, Double> logs) {
        if (everyBatches > 0 && (batch + 1) % everyBatches == 0 && batch + 1 < run.batchesPerEpoch()) save(run, epoch, batch + 1);
    }

    @Override
    public void onEpochEnd(TrainingRun run, int epoch, Map<String, Double> logs) {
        if (run.batchesDone() < run.batchesPerEpoch()) save(run, epoch, run.batchesDone()); // stopped mid-epoch
        else save(run, epoch + 1, 0);
    }

    private void save(TrainingRun run, int epoch, int batch) {
        try {
            new Checkpoint(run.model().stateDict(), run.optimizer().state(), epoch, batch, run.history().firstEpochs(epoch), config.get()).write(file);
        } catch (IOException e) {
            throw new UncheckedIOException("could not write checkpoint " + file + ": " + e.getMessage(), e);
        }
    }
}
