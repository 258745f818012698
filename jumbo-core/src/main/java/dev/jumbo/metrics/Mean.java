package dev.jumbo.metrics;

import dev.jumbo.tensor.Tensor;

/**
 * A running (weighted) mean of numbers, such as the loss over an epoch. The trainer adds each
 * batch's loss weighted by the batch size, so the result is the mean over examples, as Keras
 * reports it.
 *
 * <pre>{@code
 * Mean loss = new Mean("loss");
 * loss.update(batchLoss.item(), batchSize);
 * }</pre>
 */
public final class Mean implements Metric {
    private final String name;
    private double sum, weight;

    public Mean() {
        this("mean");
    }

    public Mean(String name) {
        if (name == null || name.isBlank()) throw new IllegalArgumentException("metric name is blank: \"" + name + "\"");
        this.name = name;
    }

    @Override
    public String name() {
        return name;
    }

    /** Adds one value with weight 1. */
    public void update(double value) {
        update(value, 1);
    }

    /** Adds {@code value} counted {@code weight} times. */
    public void update(double value, double weight) {
        if (!(weight >= 0) || Double.isInfinite(weight)) throw new IllegalArgumentException("mean weight " + weight + " is not a finite non-negative number");
        sum += value * weight;
        this.weight += weight;
    }

    /** Adds every element of {@code values} with weight 1; {@code ignored} may be null. */
    @Override
    public void update(Tensor values, Tensor ignored) {
        for (float v : values.toFloatArray()) update(v, 1);
    }

    @Override
    public double result() {
        return weight == 0 ? 0 : sum / weight;
    }

    @Override
    public void reset() {
        sum = 0;
        weight = 0;
    }

    @Override
    public String toString() {
        return name + " = " + result();
    }
}
