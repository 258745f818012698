package dev.jumbo.models;

import dev.jumbo.tensor.DType;
import dev.jumbo.tensor.GradMode;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.tensor.WeightMatrix;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How well a GPT-2 predicts a text: perplexity (exp of the mean negative log-likelihood of each
 * token after the ones before it) and, against a reference model, the mean KL divergence of the
 * reference's next-token distribution from this one's, the figures llama.cpp's perplexity tool
 * reports for quantized models. A text longer than the window is read in windows that overlap by
 * half, each token scored once, with at least half a window before it (HuggingFace's strided
 * perplexity).
 *
 * <pre>{@code
 * Gpt2 f32 = Gpt2.load(dir), q8 = Perplexity.roundTrip(f32, DType.Q8_0);
 * Perplexity.Result r = Perplexity.evaluate(q8, f32, tokens, f32.contextLength());
 * System.out.printf("perplexity %.3f, KL %.5f%n", r.perplexity(), r.meanKl());
 * }</pre>
 */
public final class Perplexity {
    private Perplexity() {}

    /**
     * @param meanKl KL(reference || model) per scored token, in nats; NaN without a reference
     * @param tokens the tokens scored (all but the first)
     */
    public record Result(double perplexity, double meanNll, double meanKl, int tokens) {}

    /**
     * Scores {@code tokens} under {@code model}, and compares with {@code reference} (or null).
     *
     * @throws IllegalArgumentException for fewer than two tokens or a window of fewer than two
     */
    public static Result evaluate(Gpt2 model, Gpt2 reference, int[] tokens, int window) {
        if (tokens.length < 2) throw new IllegalArgumentException("perplexity needs at least 2 tokens, got " + tokens.length);
        if (window < 2 || window > model.contextLength())
            throw new IllegalArgumentException("the window must be between 2 and the model's context of " + model.contextLength() + ", got " + window);
        int stride = Math.max(1, window / 2), vocab = model.vocabSize(), scored = 0;
        double nll = 0, kl = 0;
        int scoredUntil = 1; // targets before this index were scored by an earlier window (token 0 never is)
        try (var scope = GradMode.noGrad()) {
            for (int begin = 0; scoredUntil < tokens.length; begin += stride) {
                int len = Math.min(window, tokens.length - begin);
                float[] ids = new float[len];
                for (int i = 0; i < len; i++) ids[i] = tokens[begin + i];
                float[] logits = model.forward(Tensor.of(ids, 1, len)).toFloatArray();
                float[] ref = reference == null ? null : reference.forward(Tensor.of(ids, 1, len)).toFloatArray();
                for (int p = 0; p + 1 < len; p++) {
                    int target = begin + p + 1;
                    if (target < scoredUntil) continue;
                    double logZ = logSumExp(logits, p * vocab, vocab);
                    nll += logZ - logits[p * vocab + tokens[target]];
                    if (ref != null) kl += klDivergence(ref, logits, p * vocab, vocab, logZ);
                    scored++;
                }
                scoredUntil = begin + len;
            }
        }
        double mean = nll / scored;
        return new Result(Math.exp(mean), mean, reference == null ? Double.NaN : kl / scored, scored);
    }

    /**
     * A copy of {@code model} whose matrices went through {@code type}'s encoding and back: what a
     * file of that type holds, computed in F32. Each matrix is cut into blocks along the dimension
     * its products sum over, as GGML stores them: a dense kernel {@code [in, out]} by columns, the
     * token embeddings (also the output projection) by rows. Biases, norms and the position
     * embeddings (added, never multiplied) stay F32, as llama.cpp keeps such small tensors.
     *
     * @throws IllegalArgumentException when a matrix's summed dimension is not whole blocks of the type
     */
    public static Gpt2 roundTrip(Gpt2 model, DType type) {
        Map<String, Tensor> state = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : model.stateDict().entrySet()) {
            Tensor t = e.getValue();
            String name = e.getKey();
            if (t.rank() != 2 || name.startsWith("wpe")) {
                state.put(name, t);
                continue;
            }
            boolean kernel = !name.startsWith("wte"); // [in, out]: the sum runs down a column
            Tensor rows = kernel ? t.transpose(0, 1).contiguous() : t;
            int r = rows.dim(0), c = rows.dim(1);
            WeightMatrix q = WeightMatrix.quantize(rows.toFloatArray(), r, c, type);
            float[] back = new float[r * c];
            for (int i = 0; i < r; i++) q.row(i, back, i * c);
            Tensor restored = Tensor.of(back, r, c);
            state.put(name, kernel ? restored.transpose(0, 1).contiguous() : restored);
        }
        Gpt2 copy = new Gpt2(model.config());
        copy.loadStateDict(state);
        return copy;
    }

    private static double logSumExp(float[] x, int off, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, x[off + i]);
        double sum = 0;
        for (int i = 0; i < n; i++) sum += Math.exp(x[off + i] - max);
        return max + Math.log(sum);
    }

    /** KL(p || q) with p = softmax(ref), q = softmax(model) (whose log-normaliser is {@code logZq}), in nats. */
    private static double klDivergence(float[] ref, float[] model, int off, int n, double logZq) {
        double logZp = logSumExp(ref, off, n), kl = 0;
        for (int i = 0; i < n; i++) {
            double logP = ref[off + i] - logZp, logQ = model[off + i] - logZq;
            kl += Math.exp(logP) * (logP - logQ);
        }
        return Math.max(0, kl); // rounding can leave a hair below 0 for equal distributions
    }
}
