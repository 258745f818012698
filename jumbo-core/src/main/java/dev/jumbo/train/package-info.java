/**
 * Training: the {@link dev.jumbo.train.Trainer} loop, Keras-style {@link dev.jumbo.train.Sequential}
 * (compile, fit, evaluate, predict, summary, save/load), callbacks (early stopping, checkpoints,
 * CSV log) and resumable single-file checkpoints. Builds on nn, optim, loss, metrics, data and io.
 */
package dev.jumbo.train;
