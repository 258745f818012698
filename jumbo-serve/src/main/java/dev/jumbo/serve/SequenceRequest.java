package dev.jumbo.serve;

import dev.jumbo.models.GenerationConfig;

/**
 * One sequence for a {@link DecodeLoop} to generate: its prompt's token ids (BOS included), how
 * to pick and when to stop ({@code config.maxNewTokens()} already within the model's context),
 * where its text goes as it is produced (null when only the final {@link Completion} is wanted),
 * and how many most likely tokens to report beside each generated token's log-probability
 * ({@code topLogprobs}; -1 for no log-probabilities).
 */
public record SequenceRequest(int[] promptIds, GenerationConfig config, TokenSink sink, int topLogprobs) {
    public SequenceRequest {
        if (promptIds.length == 0) throw new IllegalArgumentException("a sequence needs at least one prompt token");
        if (topLogprobs < -1) throw new IllegalArgumentException("topLogprobs must be -1 (none) or more, got " + topLogprobs);
        promptIds = promptIds.clone();
    }

    /** A sequence without log-probabilities. */
    public SequenceRequest(int[] promptIds, GenerationConfig config, TokenSink sink) {
        this(promptIds, config, sink, -1);
    }
}
