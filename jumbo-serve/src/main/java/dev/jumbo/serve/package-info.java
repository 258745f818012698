/**
 * {@code jumbo serve}: an OpenAI-compatible HTTP server (Helidon SE, virtual threads) over the
 * core's language models, one continuously batched {@link dev.jumbo.serve.DecodeLoop} per model.
 * Depends on {@code jumbo-core}, Helidon and Jackson; the CLI depends on it.
 */
package dev.jumbo.serve;
