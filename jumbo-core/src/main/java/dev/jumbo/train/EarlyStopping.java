package dev.jumbo.train;

import dev.jumbo.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Stops training when a monitored metric has stopped improving for {@code patience} epochs,
 * optionally restoring the best weights seen (Keras' {@code EarlyStopping}).
 */
public final class EarlyStopping implements Callback {
    private final String monitor;
    private final int patience;
    private final double minDelta;
    private final boolean restoreBest;
    private final boolean lowerIsBetter;
    private double best;
    private int wait;
    private Map<String, Tensor> bestWeights;
    private int stoppedEpoch = -1;

    /**
     * @param monitor     metric name, e.g. "val_loss" (lower is better) or "val_accuracy" (higher is better:
     *                    any name containing "acc")
     * @param patience    epochs without improvement before stopping
     * @param minDelta    smallest change that counts as an improvement
     * @param restoreBest put back the best epoch's weights when stopping
     */
    public EarlyStopping(String monitor, int patience, double minDelta, boolean restoreBest) {
        if (patience < 0) throw new IllegalArgumentException("patience must be >= 0, got " + patience);
        this.monitor = monitor;
        this.patience = patience;
        this.minDelta = Math.abs(minDelta);
        this.restoreBest = restoreBest;
        this.lowerIsBetter = !monitor.contains("acc");
    }

    @Override
    public void onTrainBegin(TrainingRun run) {
        best = lowerIsBetter ? Double.POSITIVE_INFINITY : Double.NEGATIVE_INFINITY;
        wait = 0;
        bestWeights = null;
        stoppedEpoch = -1;
    }

    @Override
    public void onEpochEnd(TrainingRun run, int epoch, Map<String, Double> logs) {
        Double v = logs.get(monitor);
        if (v == null) throw new IllegalArgumentException("EarlyStopping monitors '" + monitor + "' but the logs have " + logs.keySet());
        boolean improved = lowerIsBetter ? v < best - minDelta : v > best + minDelta;
        if (improved) {
            best = v;
            wait = 0;
            if (restoreBest) bestWeights = copy(run.model().stateDict());
        } else if (++wait > patience) {
            stoppedEpoch = epoch;
            run.stop();
            if (restoreBest && bestWeights != null) run.model().loadStateDict(bestWeights);
        }
    }

    /** The epoch (0-based) at which training was stopped, or -1. */
    public int stoppedEpoch() {
        return stoppedEpoch;
    }

    private static Map<String, Tensor> copy(Map<String, Tensor> state) {
        Map<String, Tensor> c = new LinkedHashMap<>();
        state.forEach((k, v) -> c.put(k, Tensor.of(v.toFloatArray(), v.shape())));
        return c;
    }
}
