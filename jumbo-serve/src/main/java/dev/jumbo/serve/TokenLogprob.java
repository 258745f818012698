package dev.jumbo.serve;

/**
 * A generated token's log-probability under the model, and the most likely tokens at its place
 * with theirs (OpenAI's {@code logprobs}). The probabilities are the model's own (softmax of its
 * logits), before temperature or top-p shape the draw, as vLLM reports them by default.
 *
 * @param topIds      the {@code top} most likely tokens, most likely first
 * @param topLogprobs their log-probabilities
 */
public record TokenLogprob(int id, float logprob, int[] topIds, float[] topLogprobs) {
    /** Token {@code id}'s entry from the logits it was picked from, with the {@code top} most likely tokens (0 for none). */
    public static TokenLogprob of(float[] logits, int id, int top) {
        float max = Float.NEGATIVE_INFINITY;
        for (float l : logits) max = Math.max(max, l);
        double sum = 0;
        for (float l : logits) sum += Math.exp(l - max);
        float logZ = (float) (max + Math.log(sum));
        int k = Math.min(top, logits.length);
        int[] ids = new int[k];
        float[] lps = new float[k];
        int filled = 0;
        for (int i = 0; i < logits.length && k > 0; i++) { // insertion into the k best so far: k is at most 20
            if (filled == k && logits[i] <= logits[ids[k - 1]]) continue;
            int at = filled < k ? filled++ : k - 1;
            while (at > 0 && logits[ids[at - 1]] < logits[i]) {
                ids[at] = ids[at - 1];
                at--;
            }
            ids[at] = i;
        }
        for (int j = 0; j < k; j++) lps[j] = logits[ids[j]] - logZ;
        return new TokenLogprob(id, logits[id] - logZ, ids, lps);
    }
}
