/**
 * Making trained models smaller: post-training int8 quantization of Dense and Conv2D layers
 * ({@link dev.jumbo.compress.Quantizer}), magnitude pruning (unstructured masks kept through
 * fine-tuning, on a gradual schedule; structured removal of whole neurons and filters) and
 * knowledge distillation into a smaller student. Builds on nn, loss and train; nothing in the core
 * below it depends on this package.
 */
package dev.jumbo.compress;
