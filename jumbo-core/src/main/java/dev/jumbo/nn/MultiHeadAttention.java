package dev.jumbo.nn;

import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import java.util.Map;

/**
 * Multi-head self-attention over {@code [batch, time, d]}: one projection to queries, keys and
 * values ({@code qkv}, {@code [d, 3d]}, as PyTorch's {@code in_proj}), per head
 * {@code softmax(q k^T / sqrt(d / heads) + mask) v}, the heads joined and projected back
 * ({@code output}). A causal layer lets each position see only itself and earlier ones (GPT); a
 * bidirectional one sees the whole sequence (BERT). Either takes an optional padding mask
 * {@code [batch, length]} (1 for a token, 0 for padding, which no query attends to) and an optional
 * {@link KeyValueCache} for incremental decoding.
 *
 * <pre>{@code
 * MultiHeadAttention attention = new MultiHeadAttention(4, true);   // 4 heads, causal
 * Tensor y = attention.forward(Tensor.randn(new Random(0), 2, 10, 64));   // [2, 10, 64]
 * }</pre>
 */
public final class MultiHeadAttention extends Layer {
    /** Added to padding keys' scores: exp of it is 0 without infinity arithmetic, so a row of only padding stays finite. */
    private static final float PADDING = -1e9f;

    private final int heads;
    private final boolean causal;
    private int headDim;
    private Dense qkv;
    private Dense output;

    /**
     * @param heads  number of heads; the model width must be a multiple of it
     * @param causal whether a position may attend only to itself and earlier ones
     */
    public MultiHeadAttention(int heads, boolean causal) {
        this.heads = Check.positive("MultiHeadAttention", "heads", heads);
        this.causal = causal;
    }

    /** The number of heads. */
    public int heads() {
        return heads;
    }

    /** Whether positions see only themselves and earlier ones. */
    public boolean causal() {
        return causal;
    }

    /** The projection to queries, keys and values ({@code [d, 3d]}, in that order along the output); null until built. */
    public Dense qkv() {
        return qkv;
    }

    /** The projection of the joined heads back to d; null until built. */
    public Dense output() {
        return output;
    }

    @Override
    protected void onBuild(Shape inputShape) {
        int d = inputShape.dim(-1);
        headDim = d / heads;
        qkv = register("qkv", new Dense(3 * d));
        qkv.build(Shape.of(d));
        output = register("output", new Dense(d));
        output.build(Shape.of(d));
    }

    @Override
    protected Tensor call(Tensor x) {
        return attend(x, null, null);
    }

    /**
     * Attention of {@code x} {@code [batch, time, d]} with a padding mask ({@code [batch, past + time]},
     * or null for none) and a cache (or null). With a cache, {@code x} holds the positions after
     * the {@code past} ones it already has; their keys and values are added to it.
     *
     * @throws IllegalArgumentException if the input or mask has the wrong shape
     */
    public Tensor forward(Tensor x, Tensor paddingMask, KeyValueCache cache) {
        if (x.rank() != 3) throw new IllegalArgumentException(name() + " expects [batch, time, d], got " + x.shape());
        build(withoutBatch(x.shape()));
        return attend(x, paddingMask, cache);
    }

    private Tensor attend(Tensor x, Tensor paddingMask, KeyValueCache cache) {
        int b = x.dim(0), t = x.dim(1), d = heads * headDim, past = cache == null ? 0 : cache.length();
        if (paddingMask != null && !paddingMask.shape().equals(Shape.of(b, past + t)))
            throw new IllegalArgumentException(name() + " padding mask must be [batch, past + time] = " + Shape.of(b, past + t) + ", got " + paddingMask.shape());
        Tensor projected = qkv.forward(x);
        Tensor q = projected.slice(2, 0, d), k = projected.slice(2, d, 2 * d), v = projected.slice(2, 2 * d, 3 * d);
        if (cache != null) {
            Tensor[] kv = cache.append(k, v);
            k = kv[0];
            v = kv[1];
        }
        Tensor mask = causal ? causalMask(t, past) : null;
        if (paddingMask != null) mask = mask == null ? paddingBias(paddingMask) : mask.add(paddingBias(paddingMask));
        // one fused op: scores, mask, softmax and the weighted values per head, reading q, k, v in place
        Tensor y = q.attention(k, v, heads, mask);
        return output.forward(y);
    }

    /** {@code [t, past + t]}: 0 where new position i (at past + i) may look, -infinity after it. */
    static Tensor causalMask(int t, int past) {
        int width = past + t;
        float[] m = new float[t * width];
        for (int i = 0; i < t; i++)
            for (int j = past + i + 1; j < width; j++) m[i * width + j] = Float.NEGATIVE_INFINITY;
        return Tensor.of(m, t, width);
    }

    /** {@code [b, 1, 1, n]}: 0 for tokens, {@link #PADDING} for padding. */
    private static Tensor paddingBias(Tensor mask) {
        float[] m = mask.toFloatArray(), bias = new float[m.length];
        for (int i = 0; i < m.length; i++) bias[i] = m[i] != 0 ? 0f : PADDING;
        return Tensor.of(bias, mask.dim(0), 1, 1, mask.dim(1));
    }

    @Override
    public Shape outputShape(Shape inputShape) {
        if (inputShape.rank() != 2) throw badInput(inputShape, "[time, d]");
        int d = inputShape.dim(1);
        if (d == 0 || d % heads != 0) throw badInput(inputShape, "a width d that " + heads + " heads divide");
        if (output != null && d != heads * headDim) throw badInput(inputShape, "width " + heads * headDim + " (it was built for that)");
        return inputShape;
    }

    @Override
    public long flops(Shape inputShape) {
        long t = inputShape.dim(0), d = inputShape.dim(1);
        // projections 2·t·d·4d, scores and weighted values 2·2·t·t·d (the causal half is not subtracted)
        return 8 * t * d * d + 4 * t * t * d;
    }

    @Override
    protected void addConfig(Map<String, Object> config) {
        config.put("num_heads", heads);
        config.put("causal", causal);
    }
}
