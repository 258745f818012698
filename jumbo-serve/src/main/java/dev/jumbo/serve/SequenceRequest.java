package dev.jumbo.serve;

import dev.jumbo.models.GenerationConfig;

/**
 * One sequence for a {@link DecodeLoop} to generate: its prompt's token ids (BOS included), how
 * to pick and when to stop ({@code config.maxNewTokens()} already within the model's context),
 * and where its text goes as it is produced (null when only the final {@link Completion} is wanted).
 */
public record SequenceRequest(int[] promptIds, GenerationConfig config, TokenSink sink) {
    public SequenceRequest {
        if (promptIds.length == 0) throw new IllegalArgumentException("a sequence needs at least one prompt token");
        promptIds = promptIds.clone();
    }
}
