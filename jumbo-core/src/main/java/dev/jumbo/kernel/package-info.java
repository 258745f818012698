/**
 * Kernels: pure functions over float arrays (gemm, convolution, pooling, elementwise maths,
 * row softmaxes, layer norm, attention), products with weights stored as F16/BF16 or GGML blocks ({@link
 * dev.jumbo.kernel.WeightKernel}, {@link dev.jumbo.kernel.Quantize}), symmetric int8 products with int32
 * sums ({@link dev.jumbo.kernel.Int8Kernels}, {@link dev.jumbo.kernel.Int8Matrix}) and the compute pool they
 * share; each has a naive reference in the tests.
 * Depends on nothing else in Jumbo; {@code dev.jumbo.tensor} and the layers above build on it.
 */
package dev.jumbo.kernel;
