package dev.jumbo.metrics;

import dev.jumbo.tensor.Tensor;

/**
 * A measure accumulated over batches: {@link #update} adds a batch, {@link #result} gives the
 * value over every batch since the last {@link #reset}. Metrics read values only; they never
 * record a graph or produce gradients.
 *
 * <pre>{@code
 * Metric acc = new SparseCategoricalAccuracy();
 * for (Batch b : batches) acc.update(model.forward(b.x()), b.y());
 * System.out.println(acc.name() + " " + acc.result());
 * acc.reset();
 * }</pre>
 */
public interface Metric {
    /** The key under which the trainer reports it, e.g. {@code "accuracy"}. */
    String name();

    /** Adds one batch of predictions and their targets. */
    void update(Tensor predictions, Tensor targets);

    /** The value over everything added since the last reset; 0 when nothing was added (as Keras). */
    double result();

    /** Forgets everything added. */
    void reset();
}
