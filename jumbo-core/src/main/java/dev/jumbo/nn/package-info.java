/**
 * Neural-network building blocks: {@link dev.jumbo.nn.Module} and {@link dev.jumbo.nn.Parameter}
 * (PyTorch-like), {@link dev.jumbo.nn.Layer} with its Keras-like build-on-first-input lifecycle,
 * the layers themselves, activations and initializers.
 *
 * <p>Depends only on {@code dev.jumbo.tensor}; containers, optimizers, training and model code
 * build on this package.
 */
package dev.jumbo.nn;
