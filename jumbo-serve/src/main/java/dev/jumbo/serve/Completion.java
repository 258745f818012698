package dev.jumbo.serve;

/**
 * A finished sequence: its text (after the prompt, cut before a stop string), why it ended, the
 * token counts OpenAI's {@code usage} reports, and each generated token's log-probability when
 * they were asked for ({@code logprobs}, null otherwise).
 */
public record Completion(String text, FinishReason finishReason, int promptTokens, int completionTokens, java.util.List<TokenLogprob> logprobs) {

    /** Why generation ended, as OpenAI's {@code finish_reason} names it. */
    public enum FinishReason {
        /** The model's end token or a stop string. */
        STOP("stop"),
        /** {@code max_tokens}, or the model's context. */
        LENGTH("length");

        private final String openAiName;

        FinishReason(String openAiName) {
            this.openAiName = openAiName;
        }

        /** The name in OpenAI's responses. */
        public String openAiName() {
            return openAiName;
        }
    }
}
