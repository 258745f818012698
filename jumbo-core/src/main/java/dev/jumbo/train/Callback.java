package dev.jumbo.train;

import java.util.Map;

/**
 * Hooks into a training run, as in Keras. Every method has a do-nothing default, so a callback
 * overrides only what it needs. {@code logs} maps metric names ("loss", "accuracy",
 * "val_loss", ...) to their current values.
 *
 * <pre>{@code
 * Callback printer = new Callback() {
 *     public void onEpochEnd(TrainingRun run, int epoch, Map<String, Double> logs) {
 *         System.out.println("epoch " + (epoch + 1) + ": " + logs);
 *     }
 * };
 * }</pre>
 */
public interface Callback {
    default void onTrainBegin(TrainingRun run) {}

    default void onEpochBegin(TrainingRun run, int epoch) {}

    /** After each optimizer step; {@code logs} holds running means over the epoch so far. */
    default void onBatchEnd(TrainingRun run, int epoch, int batch, Map<String, Double> logs) {}

    /** After each epoch, with training and validation figures. */
    default void onEpochEnd(TrainingRun run, int epoch, Map<String, Double> logs) {}

    default void onTrainEnd(TrainingRun run) {}
}
