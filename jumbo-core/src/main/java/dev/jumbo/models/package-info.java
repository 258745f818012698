/**
 * Pretrained model families, each a small class in dependency order with its config as a record,
 * loaded from (and written to) HuggingFace-layout folders. Builds on {@code nn}, {@code tensor},
 * {@code io} and {@code text}.
 */
package dev.jumbo.models;
