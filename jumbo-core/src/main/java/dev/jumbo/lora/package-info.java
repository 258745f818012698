/**
 * LoRA (low-rank adaptation): {@link dev.jumbo.lora.LoraConfig} (rank, alpha, dropout, target
 * modules, with PEFT's semantics and defaults) and {@link dev.jumbo.lora.PeftAdapter}, an adapter's
 * tensors in HuggingFace PEFT's folder layout ({@code adapter_config.json} +
 * {@code adapter_model.safetensors}). Depends on {@code dev.jumbo.io} and {@code dev.jumbo.tensor};
 * the models attach adapters to their own layers.
 */
package dev.jumbo.lora;
