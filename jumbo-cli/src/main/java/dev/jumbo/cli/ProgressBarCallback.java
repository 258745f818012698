package dev.jumbo.cli;

import dev.jumbo.train.Callback;
import dev.jumbo.train.TrainingRun;
import java.io.PrintWriter;
import java.util.Map;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/** A live progress bar per epoch: batches done, rate, ETA, and the running loss and accuracy. */
final class ProgressBarCallback implements Callback {
    private final PrintWriter err;
    private ProgressBar bar;

    ProgressBarCallback(PrintWriter err) {
        this.err = err;
    }

    @Override
    public void onEpochBegin(TrainingRun run, int epoch) {
        bar = new ProgressBarBuilder()
                .setTaskName(String.format("epoch %d/%d", epoch + 1, run.epochs()))
                .setInitialMax(run.batchesPerEpoch())
                .setStyle(ProgressBarStyle.ASCII)
                .setUpdateIntervalMillis(250)
                .setConsumer(new ConsoleProgressBarConsumer(new java.io.PrintStream(new WriterStream(err), true), 110))
                .setUnit(" batches", 1)
                .showSpeed()
                .build();
        bar.stepTo(run.batchesDone());
    }

    @Override
    public void onBatchEnd(TrainingRun run, int epoch, int batch, Map<String, Double> logs) {
        bar.stepTo(batch + 1);
        StringBuilder sb = new StringBuilder();
        logs.forEach((k, v) -> sb.append(k.equals("accuracy") ? "acc" : k).append(' ').append(String.format("%.4f ", v)));
        bar.setExtraMessage(" " + sb.toString().trim());
    }

    @Override
    public void onEpochEnd(TrainingRun run, int epoch, Map<String, Double> logs) {
        if (bar != null) bar.close();
        bar = null;
    }

    @Override
    public void onTrainEnd(TrainingRun run) {
        if (bar != null) bar.close();
    }

    /** Adapts the command's error writer to the stream the progress bar library writes to. */
    private static final class WriterStream extends java.io.OutputStream {
        private final PrintWriter w;

        WriterStream(PrintWriter w) {
            this.w = w;
        }

        @Override
        public void write(int b) {
            w.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            w.write(new String(b, off, len, java.nio.charset.StandardCharsets.UTF_8));
        }

        @Override
        public void flush() {
            w.flush();
        }
    }
}
