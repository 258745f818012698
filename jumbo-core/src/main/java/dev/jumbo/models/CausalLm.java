package dev.jumbo.models;

import java.util.List;

/**
 * A language model that predicts the next token, fed incrementally: what {@link Generator} drives.
 *
 * <pre>{@code
 * CausalLm.Session s = model.start();
 * float[] logits = s.feed(promptIds);        // the whole prompt at once (prefill)
 * logits = s.feed(new int[] {chosen});       // then one token at a time
 * }</pre>
 */
public interface CausalLm {
    /** A fresh decoding state (its key/value cache) for one sequence. */
    Session start();

    /** The longest sequence, prompt included, the model can read. */
    int contextLength();

    /** Size of the logits vector. */
    int vocabSize();

    /**
     * Feeds {@code tokens[i]} to {@code sessions.get(i)}, one token each, and returns each
     * session's logits (row i: the session's own array, as {@link Session#feed} returns it). A
     * server decoding many sequences calls this once per step. This default feeds them one after
     * another; a model that can (Llama) runs all the rows through each weight matrix together, so a
     * step for several sequences costs about one for a single sequence while decoding is bound by
     * reading the weights. The sessions must be distinct and this model's.
     *
     * @throws IllegalArgumentException if the counts differ, or as {@link Session#feed} does
     */
    default float[][] step(List<? extends Session> sessions, int[] tokens) {
        if (sessions.size() != tokens.length)
            throw new IllegalArgumentException(sessions.size() + " sessions but " + tokens.length + " tokens");
        float[][] logits = new float[tokens.length][];
        for (int i = 0; i < tokens.length; i++) logits[i] = sessions.get(i).feed(new int[] {tokens[i]});
        return logits;
    }

    /** One sequence being decoded. */
    interface Session {
        /**
         * Feeds tokens after those fed before; returns the logits of the token that follows. The
         * array may be the session's own, overwritten by the next call (Llama's is, so decoding
         * allocates nothing): read it, or copy it, before feeding again.
         */
        float[] feed(int[] ids);

        /** Tokens fed so far. */
        int length();
    }
}
