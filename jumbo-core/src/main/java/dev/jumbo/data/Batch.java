package dev.jumbo.data;

import dev.jumbo.tensor.Tensor;

/**
 * A batch of examples: inputs {@code x} and targets {@code y}, both with the batch as their first
 * dimension.
 */
public record Batch(Tensor x, Tensor y) {}
