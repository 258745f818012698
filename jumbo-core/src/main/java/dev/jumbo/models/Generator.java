package dev.jumbo.models;

import dev.jumbo.text.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Text generation: the prompt is fed at once (prefill), then one token at a time through the
 * model's key/value cache, each picked from the logits by {@link GenerationConfig}'s rules
 * (repetition penalty, temperature, top-k, top-p, then a draw; or the most likely token).
 *
 * <pre>{@code
 * Generation g = Generator.generate(gpt2, tokenizer, "Hello, I'm a language model,",
 *         GenerationConfig.defaults().maxNewTokens(30).topK(40).seed(1),
 *         (seq, id, text) -> System.out.print(text));     // streams as it goes
 * }</pre>
 */
public final class Generator {
    private Generator() {}

    /** Receives each token as it is produced, with the text it adds (empty while a character is still incomplete). */
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
        int[] promptIds = tokenizer.encode(prompt);
        if (config.bosTokenId() >= 0) {
            int[] withBos = new int[promptIds.length + 1];
            withBos[0] = config.bosTokenId();
            System.arraycopy(promptIds, 0, withBos, 1, promptIds.length);
            promptIds = withBos;
        }
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

    private static Sequence one(CausalLm model, Tokenizer tokenizer, int[] promptIds, GenerationConfig config, Random random,
                                int index, TokenListener listener) {
        CausalLm.Session session = model.start();
        float[] logits = session.feed(promptIds);
        int[] seen = promptIds.clone();
        List<Integer> generated = new ArrayList<>();
        String emitted = "";
        // New text is decoded after the prompt, not alone: a SentencePiece decoder drops the space
        // of a text's first word, which a continuation must keep (as streaming decoders do).
        String promptText = tokenizer.decode(promptIds);
        int context = model.contextLength();
        while (generated.size() < config.maxNewTokens() && (config.slidingWindow() || seen.length < context)) {
            int id = pick(logits, seen, config, random);
            if (id == config.eosTokenId()) break;
            generated.add(id);
            seen = Arrays.copyOf(seen, seen.length + 1);
            seen[seen.length - 1] = id;
            String text = continuation(tokenizer, promptIds, promptText, generated);
            int stop = stopAt(text, config.stopStrings());
            if (stop >= 0) {
                if (listener != null && stop > emitted.length()) listener.onToken(index, id, text.substring(emitted.length(), stop));
                return new Sequence(text.substring(0, stop), ids(generated));
            }
            // hold back a character whose bytes are not all out yet
            String ready = text.endsWith("\uFFFD") ? emitted : text;
            if (listener != null) listener.onToken(index, id, ready.length() > emitted.length() ? ready.substring(emitted.length()) : "");
            emitted = ready;
            // the whole sequence, prompt included, stays within the context (HuggingFace's max_length) ...
            if (!config.slidingWindow() && seen.length >= context || generated.size() == config.maxNewTokens()) break;
            if (session.length() < context) {
                logits = session.feed(new int[] {id});
            } else {
                // ... unless the window slides: the last context tokens, fed afresh
                session = model.start();
                logits = session.feed(Arrays.copyOfRange(seen, seen.length - context, seen.length));
            }
        }
        return new Sequence(continuation(tokenizer, promptIds, promptText, generated), ids(generated));
    }

    /** The text {@code generated} adds after the prompt: the whole decoded, less the prompt's own text. */
    private static String continuation(Tokenizer tokenizer, int[] promptIds, String promptText, List<Integer> generated) {
        int[] all = Arrays.copyOf(promptIds, promptIds.length + generated.size());
        for (int i = 0; i < generated.size(); i++) all[promptIds.length + i] = generated.get(i);
        String text = tokenizer.decode(all);
        // a prompt whose text changes once more tokens follow it (bytes of a cut character) falls back to decoding alone
        return text.startsWith(promptText) ? text.substring(promptText.length()) : tokenizer.decode(ids(generated));
    }

    private static int[] ids(List<Integer> list) {
        return list.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Where the first stop string begins in {@code text}, or -1. */
    private static int stopAt(String text, List<String> stops) {
        int at = -1;
        for (String s : stops) {
            int i = text.indexOf(s);
            if (i >= 0 && (at < 0 || i < at)) at = i;
        }
        return at;
    }

    /** The next token: HuggingFace's order of processors, then the most likely or a draw. */
    static int pick(float[] logits, int[] seen, GenerationConfig c, Random random) {
        double[] x = new double[logits.length];
        for (int i = 0; i < x.length; i++) x[i] = logits[i];
        if (c.repetitionPenalty() != 1)
            for (int id : new java.util.TreeSet<>(Arrays.stream(seen).boxed().toList()))
                x[id] = x[id] > 0 ? x[id] / c.repetitionPenalty() : x[id] * c.repetitionPenalty();
        if (c.greedy()) return argmax(x);
        int[] order = descending(x);
        int keep = c.topK() > 0 ? Math.min(c.topK(), x.length) : x.length;
        double max = x[order[0]] / c.temperature(), sum = 0;
        double[] p = new double[keep];
        for (int r = 0; r < keep; r++) {
            p[r] = Math.exp(x[order[r]] / c.temperature() - max);
            sum += p[r];
        }
        if (c.topP() < 1) {
            // keep the smallest prefix whose probability reaches top_p (at least one token)
            double cum = 0;
            int n = 0;
            while (n < keep && cum < c.topP() * sum) cum += p[n++];
            keep = Math.max(1, n);
            sum = cum;
        }
        double u = random.nextDouble() * sum;
        for (int r = 0; r < keep; r++) {
            u -= p[r];
            if (u < 0) return order[r];
        }
        return order[keep - 1];
    }

    /**
     * Indices by descending score, ties by ascending index: one primitive sort of (score, index)
     * packed in a long, instead of sorting a boxed index array with a comparator (several times
     * slower over a 50,000-token vocabulary, once per sampled token). Scores compare as floats.
     */
    static int[] descending(double[] x) {
        long[] keys = new long[x.length];
        for (int i = 0; i < x.length; i++) {
            int bits = Float.floatToIntBits((float) x[i]);
            int ascending = bits >= 0 ? bits ^ Integer.MIN_VALUE : ~bits; // unsigned order of the floats
            keys[i] = ((long) ~ascending << 32) | i; // ~: largest score first; the index breaks ties
        }
        // the high word compares as unsigned: flip its sign bit so the signed sort agrees
        for (int i = 0; i < keys.length; i++) keys[i] ^= Long.MIN_VALUE;
        Arrays.sort(keys);
        int[] order = new int[x.length];
        for (int i = 0; i < order.length; i++) order[i] = (int) keys[i];
        return order;
    }

    private static int argmax(double[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
        return best;
    }
}
