/**
 * Training objectives: {@link dev.jumbo.loss.Loss} and the Keras losses (mean squared error,
 * binary, categorical and sparse categorical cross-entropy), each a fused differentiable op.
 * Depends only on {@code dev.jumbo.tensor}; optimizers, metrics and the trainer build on it.
 */
package dev.jumbo.loss;
