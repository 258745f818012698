/**
 * Running measures of a model's quality over batches: {@link dev.jumbo.metrics.Metric}, the Keras
 * accuracies (binary, categorical, sparse, top-k) and {@link dev.jumbo.metrics.Mean} for the loss.
 * Depends on {@code dev.jumbo.tensor} and, to resolve {@code "accuracy"}, on {@code dev.jumbo.loss}.
 */
package dev.jumbo.metrics;
