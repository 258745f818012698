package dev.jumbo.models;

import dev.jumbo.text.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Text generation: the prompt is fed at once (prefill), then one token at a time through the
 * model's key/value cache, each picked from the logits by a {@link Sampler} and turned into text
 * by a {@link TextStream}.
 *
 * <pre>{@code
 * Generation g = Generator.generate(gpt2, tokenizer, "Hello, I'm a language model,",
 *         GenerationConfig.defaults().maxNewTokens(30).topK(40).seed(1),
 *         (seq, id, text) -> System.out.print(text));     // streams as it goes
 * }</pre>
 */
public final class Generator {
    private Generator() {}

    /**
     * Receives each token as it is produced, with the text it adds: empty while a character is
     * incomplete or the text may be the start of a stop string (held back until known).
     */
    @FunctionalInterface
    public interface TokenListener {
        void onToken(int sequence, int tokenId, String text);
    }

    /** One continuation: its text (cut before a stop string) and its generated ids. */
    public record Sequence(String text, int[] tokenIds) {}

    /** What {@link #generate} produced, with the decoding speed (new tokens over wall time, prefill included). */
    public record Generation(int[] promptTokenIds, List<Sequence> sequences, int generatedTokens, double tokensPerSecond) {}

    /**
     * Generates {@code config.numReturnSequences()} continuations of {@code prompt}, after
     * {@code config.bosTokenId()} if there is one.
     *
     * @throws IllegalArgumentException if the prompt is empty with no BOS token, or longer than the model's context
     */
    public static Generation generate(CausalLm model, Tokenizer tokenizer, String prompt, GenerationConfig config, TokenListener listener) {
        int[] promptIds = promptIds(tokenizer, prompt, config.bosTokenId());
        if (promptIds.length == 0) throw new IllegalArgumentException("the prompt is empty (no tokens) and there is no BOS token to start from");
        if (promptIds.length > model.contextLength())
            throw new IllegalArgumentException("the prompt has " + promptIds.length + " tokens; the model's context is " + model.contextLength());
        Random random = new Random(config.seed());
        long start = System.nanoTime();
        List<Sequence> out = new ArrayList<>();
        int total = 0;
        for (int s = 0; s < config.numReturnSequences(); s++) {
            Sequence seq = one(model, tokenizer, promptIds, config, random, s, listener);
            out.add(seq);
            total += seq.tokenIds().length;
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        return new Generation(promptIds, out, total, total / Math.max(seconds, 1e-9));
    }

    /** The prompt's token ids, after {@code bosTokenId} unless it is -1 (tokenizers add no special tokens themselves). */
    public static int[] promptIds(Tokenizer tokenizer, String prompt, int bosTokenId) {
        int[] ids = tokenizer.encode(prompt);
        if (bosTokenId < 0) return ids;
        int[] withBos = new int[ids.length + 1];
        withBos[0] = bosTokenId;
        System.arraycopy(ids, 0, withBos, 1, ids.length);
        return withBos;
    }

    private static Sequence one(CausalLm model, Tokenizer tokenizer, int[] promptIds, GenerationConfig config, Random random,
                                int index, TokenListener listener) {
        CausalLm.Session session = model.start();
        float[] logits = session.feed(promptIds);
        Sampler sampler = new Sampler(config, random, promptIds);
        TextStream text = new TextStream(tokenizer, promptIds, config.stopStrings());
        int context = model.contextLength(), length = promptIds.length;
        while (text.size() < config.maxNewTokens() && (config.slidingWindow() || length < context)) {
            int id = sampler.next(logits);
            if (id == config.eosTokenId()) break;
            length++;
            String piece = text.add(id);
            if (listener != null && (!piece.isEmpty() || !text.stopped())) listener.onToken(index, id, piece);
            if (text.stopped()) return new Sequence(text.text(), text.tokenIds());
            // the whole sequence, prompt included, stays within the context (HuggingFace's max_length) ...
            if (!config.slidingWindow() && length >= context || text.size() == config.maxNewTokens()) break;
            if (session.length() < context) {
                logits = session.feed(new int[] {id});
            } else {
                // ... unless the window slides: the last context tokens, fed afresh
                int[] seen = Arrays.copyOf(promptIds, length);
                System.arraycopy(text.tokenIds(), 0, seen, promptIds.length, text.size());
                session = model.start();
                logits = session.feed(Arrays.copyOfRange(seen, length - context, length));
            }
        }
        // what was held back (a character cut short, the start of a stop string that never came)
        if (listener != null && !text.rest().isEmpty()) listener.onToken(index, text.tokenIds()[text.size() - 1], text.rest());
        return new Sequence(text.text(), text.tokenIds());
    }
}
