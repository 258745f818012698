/**
 * Kernels: pure functions over float arrays (gemm, convolution, pooling, elementwise maths,
 * row softmaxes, layer norm, attention), products with weights stored as F16/BF16 or GGML blocks ({@link
 * dev.jumbo.kernel.WeightKernel}, {@link dev.jumbo.kernel.Quantize}) and the compute pool they
 * share; each has a naive reference in the tests.
 * Depends on nothing else in Jumbo; {@code dev.jumbo.tensor} and the layers above build on it.
 */
package dev.jumbo.kernel;
