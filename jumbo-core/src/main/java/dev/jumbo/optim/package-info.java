/**
 * Parameter updates: {@link dev.jumbo.optim.Optimizer} (SGD with momentum/Nesterov, AdaGrad,
 * RMSprop, Adam, AdamW), learning-rate schedules and gradient clipping, all in place on raw
 * parameter arrays. Depends only on {@code dev.jumbo.tensor}.
 */
package dev.jumbo.optim;
