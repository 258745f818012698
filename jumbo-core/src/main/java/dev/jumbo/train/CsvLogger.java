package dev.jumbo.train;

import dev.jumbo.io.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Writes the history as CSV ({@code epoch,loss,accuracy,val_loss,...}) after every epoch
 * (Keras' {@code CSVLogger}); the file is rewritten atomically, so it is always complete.
 */
public final class CsvLogger implements Callback {
    private final Path file;

    public CsvLogger(Path file) {
        this.file = file;
    }

    @Override
    public void onEpochEnd(TrainingRun run, int epoch, Map<String, Double> logs) {
        try {
            AtomicFiles.writeString(file, toCsv(run.history()));
        } catch (IOException e) {
            throw new UncheckedIOException("could not write " + file + ": " + e.getMessage(), e);
        }
    }

    /** The history as CSV text, one row per epoch. */
    public static String toCsv(History h) {
        List<String> names = h.metrics();
        StringBuilder sb = new StringBuilder("epoch");
        for (String n : names) sb.append(',').append(n);
        sb.append('\n');
        for (int e = 0; e < h.epochs(); e++) {
            sb.append(e + 1);
            for (String n : names) {
                List<Double> v = h.get(n);
                sb.append(',').append(e < v.size() ? v.get(e).toString() : "");
            }
            sb.append('\n');
        }
        return sb.toString();
    }
}
