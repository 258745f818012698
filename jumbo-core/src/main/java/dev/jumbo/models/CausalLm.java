package dev.jumbo.models;

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
     * Feeds {@code tokens[i]} to {@code sessions.get(i)}, one each, and returns each session's
     * logits (row i, the session's own array, overwritten by its next feed): one decoding step
     * of many sequences at once. This default feeds them one after another; a model may
     * override it to read its weights once for all of them.
     *
     * @throws IllegalArgumentException if there are not as many tokens as sessions
     */
    default float[][] step(java.util.List<? extends Session> sessions, int[] tokens) {
        if (sessions.size() != tokens.length)
            throw new IllegalArgumentException(sessions.size() + " sessions but " + tokens.length + " tokens: one token each");
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
