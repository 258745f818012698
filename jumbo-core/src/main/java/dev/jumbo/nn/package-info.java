/**
 * Neural-network building blocks: {@link dev.jumbo.nn.Module} and {@link dev.jumbo.nn.Parameter}
 * (PyTorch-like), {@link dev.jumbo.nn.Layer} with its Keras-like build-on-first-input lifecycle,
 * the layers themselves, activations and initializers; the int8 inference layers
 * ({@link dev.jumbo.nn.QuantizedDense}, {@link dev.jumbo.nn.QuantizedConv2D}) beside the float ones;
 * {@link dev.jumbo.nn.FlatParameters}, a module's state and gradients as flat arrays for shipping.
 *
 * <p>Depends on {@code dev.jumbo.tensor}, and the int8 layers on {@code dev.jumbo.kernel}'s int8
 * products (a Tensor is F32 only); containers, optimizers, training and model code
 * build on this package.
 */
package dev.jumbo.nn;
