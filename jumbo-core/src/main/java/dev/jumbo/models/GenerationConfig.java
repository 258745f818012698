package dev.jumbo.models;

import java.util.List;

/**
 * How tokens are picked ({@link Sampler}) and when generation stops ({@link Generator}, a server's decode loop),
 * with HuggingFace's meanings and defaults.
 *
 * <pre>{@code
 * GenerationConfig c = GenerationConfig.defaults().maxNewTokens(50).temperature(0.8).topK(40).topP(0.95).seed(7);
 * GenerationConfig greedy = GenerationConfig.defaults().greedy(true);
 * }</pre>
 *
 * @param maxNewTokens       tokens to generate at most (prompt and new tokens together also stay within the model's context)
 * @param greedy             always the most likely token (ignores the sampling settings)
 * @param temperature        logits are divided by it before sampling; positive
 * @param topK               sample among the k most likely tokens; 0 for all
 * @param topP               sample among the most likely tokens whose probabilities add up to p; 1 for all
 * @param repetitionPenalty  a token already in the sequence has its logit divided (if positive) or multiplied by it; 1 for none
 * @param seed               the sampler's seed: the same seed gives the same text
 * @param stopStrings        generation ends when the text produced contains one; the text is cut before it
 * @param eosTokenId         a token that ends generation (not included in the output); -1 for none
 * @param numReturnSequences independent continuations of the prompt
 * @param slidingWindow      past the model's context, keep generating from the last {@code context}
 *                           tokens (as nanoGPT's sample does) instead of stopping (HuggingFace's behaviour)
 * @param bosTokenId         a token put before the prompt's tokens (Llama's {@code <s>}, which its tokenizer does
 *                           not add; GPT-2's {@code <|endoftext|>} to generate from nothing); -1 for none. An
 *                           empty prompt needs one.
 */
public record GenerationConfig(int maxNewTokens, boolean greedy, double temperature, int topK, double topP,
                               double repetitionPenalty, long seed, List<String> stopStrings, int eosTokenId,
                               int numReturnSequences, boolean slidingWindow, int bosTokenId) {
    /** @throws IllegalArgumentException quoting the value out of range */
    public GenerationConfig {
        if (maxNewTokens < 0) throw new IllegalArgumentException("max_new_tokens must be >= 0, got " + maxNewTokens);
        if (!(temperature > 0)) throw new IllegalArgumentException("temperature must be positive, got " + temperature + " (use greedy for 0)");
        if (topK < 0) throw new IllegalArgumentException("top_k must be >= 0, got " + topK);
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("top_p must be in (0, 1], got " + topP);
        if (!(repetitionPenalty > 0)) throw new IllegalArgumentException("repetition_penalty must be positive, got " + repetitionPenalty);
        if (bosTokenId < -1) throw new IllegalArgumentException("bos_token_id must be a token id or -1, got " + bosTokenId);
        if (numReturnSequences < 1) throw new IllegalArgumentException("num_return_sequences must be >= 1, got " + numReturnSequences);
        stopStrings = List.copyOf(stopStrings);
        for (String s : stopStrings) if (s.isEmpty()) throw new IllegalArgumentException("a stop string must not be empty");
    }

    /** 20 new tokens, sampling at temperature 1 from all tokens, seed 0, no stop strings, end or start token, one sequence. */
    public static GenerationConfig defaults() {
        return new GenerationConfig(20, false, 1.0, 0, 1.0, 1.0, 0, List.of(), -1, 1, false, -1);
    }

    public GenerationConfig maxNewTokens(int n) {
        return new GenerationConfig(n, greedy, temperature, topK, topP, repetitionPenalty, seed, stopStrings, eosTokenId, numReturnSequences, slidingWindow, bosTokenId);
    }

    public GenerationConfig greedy(boolean g) {
        return new GenerationConfig(maxNewTokens, g, temperature, topK, topP, repetitionPenalty, seed, stopStrings, eosTokenId, numReturnSequences, slidingWindow, bosTokenId);
    }

    public GenerationConfig temperature(double t) {
        return new GenerationConfig(maxNewTokens, greedy, t, topK, topP, repetitionPenalty, seed, stopStrings, eosTokenId, numReturnSequences, slidingWindow, bosTokenId);
    }

    public GenerationConfig topK(int k) {
        return new GenerationConfig(maxNewTokens, greedy, temperature, k, topP, repetitionPenalty, seed, stopStrings, eosTokenId, numReturnSequences, slidingWindow, bosTokenId);
    }

    public GenerationConfig topP(double p) {
        return new GenerationConfig(maxNewTokens, greedy, temperature, topK, p, repetitionPenalty, seed, stopStrings, eosTokenId, numReturnSequences, slidingWindow, bosTokenId);
    }

    public GenerationConfig repetitionPenalty(double r) {
        return new GenerationConfig(maxNewTokens, greedy, temperature, topK, topP, r, seed, stopStrings, eosTokenId, numReturnSequences, slidingWindow, bosTokenId);
    }

    public GenerationConfig seed(long s) {
        return new GenerationConfig(maxNewTokens, greedy, temperature, topK, topP, repetitionPenalty, s, stopStrings, eosTokenId, numReturnSequences, slidingWindow, bosTokenId);
    }

    public GenerationConfig stopStrings(List<String> stops) {
        return new GenerationConfig(maxNewTokens, greedy, temperature, topK, topP, repetitionPenalty, seed, stops, eosTokenId, numReturnSequences, slidingWindow, bosTokenId);
    }

    public GenerationConfig eosTokenId(int id) {
        return new GenerationConfig(maxNewTokens, greedy, temperature, topK, topP, repetitionPenalty, seed, stopStrings, id, numReturnSequences, slidingWindow, bosTokenId);
    }

    public GenerationConfig numReturnSequences(int n) {
        return new GenerationConfig(maxNewTokens, greedy, temperature, topK, topP, repetitionPenalty, seed, stopStrings, eosTokenId, n, slidingWindow, bosTokenId);
    }

    public GenerationConfig slidingWindow(boolean slide) {
        return new GenerationConfig(maxNewTokens, greedy, temperature, topK, topP, repetitionPenalty, seed, stopStrings, eosTokenId, numReturnSequences, slide, bosTokenId);
    }

    public GenerationConfig bosTokenId(int id) {
        return new GenerationConfig(maxNewTokens, greedy, temperature, topK, topP, repetitionPenalty, seed, stopStrings, eosTokenId, numReturnSequences, slidingWindow, id);
    }
}
