/**
 * Model compression: post-training int8 quantization of a {@link dev.jumbo.train.Sequential}'s
 * Dense and Conv2D layers ({@link dev.jumbo.compress.Quantizer}). Builds on {@code nn} and
 * {@code train}; nothing below depends on it.
 */
package dev.jumbo.compress;
