package dev.jumbo.models;

import java.util.Arrays;
import java.util.Random;
import java.util.TreeSet;

/**
 * Picks one sequence's tokens from the model's logits by {@link GenerationConfig}'s rules, in
 * HuggingFace's order (repetition penalty, temperature, top-k, top-p, then a draw; or the most
 * likely token), remembering the tokens seen so far for the repetition penalty. {@link Generator}
 * and a server's decode loop both use it, so a sequence gets the same tokens from either.
 *
 * <pre>{@code
 * Sampler sampler = new Sampler(GenerationConfig.defaults().topP(0.9), new Random(7), promptIds);
 * int next = sampler.next(session.feed(promptIds));
 * }</pre>
 */
public final class Sampler {
    private final GenerationConfig config;
    private final Random random;
    private int[] seen;
    private int length;

    /** @param promptIds the tokens before the first one to pick (the repetition penalty counts them) */
    public Sampler(GenerationConfig config, Random random, int[] promptIds) {
        this.config = config;
        this.random = random;
        this.seen = Arrays.copyOf(promptIds, Math.max(16, promptIds.length * 2));
        this.length = promptIds.length;
    }

    /** The next token after the tokens seen so far, which it then joins. */
    public int next(float[] logits) {
        // pick reads the seen tokens only for a repetition penalty: copy them only then
        int id = pick(logits, config.repetitionPenalty() == 1 ? seen : Arrays.copyOf(seen, length), config, random, scratch);
        if (length == seen.length) seen = Arrays.copyOf(seen, seen.length * 2);
        seen[length++] = id;
        return id;
    }

    /** A vocabulary's worth of working arrays, kept by a sampler from one token to the next (a server samples thousands a second). */
    private static final class Scratch {
        double[] x = new double[0], p = new double[0];

        void fit(int vocab) {
            if (x.length != vocab) {
                x = new double[vocab];
                p = new double[vocab];
            }
        }
    }

    private final Scratch scratch = new Scratch();

    /** The next token: HuggingFace's order of processors, then the most likely or a draw. {@code seen} matters only for the repetition penalty. */
    static int pick(float[] logits, int[] seen, GenerationConfig c, Random random) {
        return pick(logits, seen, c, random, new Scratch());
    }

    private static int pick(float[] logits, int[] seen, GenerationConfig c, Random random, Scratch scratch) {
        scratch.fit(logits.length);
        double[] x = scratch.x;
        for (int i = 0; i < x.length; i++) x[i] = logits[i];
        if (c.repetitionPenalty() != 1)
            for (int id : new TreeSet<>(Arrays.stream(seen).boxed().toList()))
                x[id] = x[id] > 0 ? x[id] / c.repetitionPenalty() : x[id] * c.repetitionPenalty();
        if (c.greedy()) return argmax(x);
        if ((c.topK() <= 0 || c.topK() >= x.length) && c.topP() >= 1) return draw(x, c.temperature(), scratch.p, random);
        int[] order = descending(x);
        int keep = c.topK() > 0 ? Math.min(c.topK(), x.length) : x.length;
        double max = x[order[0]] / c.temperature(), sum = 0;
        double[] p = scratch.p;
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
     * A draw from softmax(x / temperature) over the whole vocabulary, walked in index order: with no
     * top-k or top-p cut, the order the tokens are walked in does not change their probabilities,
     * so no sort (a sort per token was a fifth of a server's decode loop over a 512-token vocabulary).
     */
    private static int draw(double[] x, double temperature, double[] p, Random random) {
        double max = x[argmax(x)] / temperature, sum = 0;
        for (int i = 0; i < x.length; i++) sum += p[i] = Math.exp(x[i] / temperature - max);
        double u = random.nextDouble() * sum;
        for (int i = 0; i < x.length; i++) {
            u -= p[i];
            if (u < 0) return i;
        }
        return argmax(x); // u within rounding of sum: the walk ran out
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
