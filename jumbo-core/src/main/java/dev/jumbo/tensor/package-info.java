/**
 * The {@link dev.jumbo.tensor.Tensor} type and reverse-mode autograd: shapes, storage, views,
 * broadcasting arithmetic, reductions, matmul, convolution and pooling (NHWC), fused layer norm,
 * dense-layer product and attention, each operation's
 * backward written beside its forward, and the no-grad scope ({@link dev.jumbo.tensor.GradMode}).
 * Depends only on {@code dev.jumbo.kernel}.
 */
package dev.jumbo.tensor;
