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
