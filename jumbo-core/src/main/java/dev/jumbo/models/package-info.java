/**
 * Pretrained model families, each a small class in dependency order with its config as a record,
 * loaded from (and written to) HuggingFace-layout folders, and generation over any
 * {@link dev.jumbo.models.CausalLm}. GPT-2 and BERT are built from {@code nn} layers; Llama is an
 * inference runtime on {@link dev.jumbo.tensor.WeightMatrix} weights (llama2.c checkpoints,
 * HuggingFace folders). Builds on {@code nn}, {@code tensor}, {@code kernel}, {@code io} and {@code text}.
 */
package dev.jumbo.models;
