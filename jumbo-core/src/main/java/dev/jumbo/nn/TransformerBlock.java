package dev.jumbo.nn;

import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import java.util.Map;

/**
 * A transformer block over {@code [batch, time, d]}: self-attention ({@code attention}), then a
 * two-layer MLP ({@code fc} to {@code ffUnits} with an activation, {@code proj} back to d), each
 * added back onto its input, with layer norms {@code norm1} and {@code norm2} either before each
 * part (pre-LN, GPT-2: {@code x + attention(norm1(x))}) or after each sum (post-LN, BERT:
 * {@code norm1(x + attention(x))}).
 *
 * <pre>{@code
 * var gptBlock = new TransformerBlock(12, 3072, Activation.GELU_TANH, TransformerBlock.Norm.PRE, true, 1e-5);
 * var bertBlock = new TransformerBlock(12, 3072, Activation.GELU, TransformerBlock.Norm.POST, false, 1e-12);
 * Tensor y = gptBlock.forward(Tensor.randn(new Random(0), 1, 8, 768));   // [1, 8, 768]
 * }</pre>
 */
public final class TransformerBlock extends Layer {
    /** Where the layer norms sit. */
    public enum Norm {
        /** Before attention and before the MLP, on the branch (GPT-2). */
        PRE,
        /** After each residual sum (the original transformer, BERT). */
        POST
    }

    private final int heads;
    private final int ffUnits;
    private final Activation activation;
    private final Norm norm;
    private final boolean causal;
    private final double epsilon;
    private LayerNorm norm1;
    private MultiHeadAttention attention;
    private LayerNorm norm2;
    private Dense fc;
    private Dense proj;

    /**
     * @param heads      attention heads; they must divide the width
     * @param ffUnits    width of the MLP's hidden layer (4 d in GPT-2 and BERT)
     * @param activation the MLP's activation, e.g. {@link Activation#GELU} or {@link Activation#GELU_TANH}
     * @param norm       pre- or post-LN
     * @param causal     whether attention sees only earlier positions
     * @param epsilon    the layer norms' epsilon
     */
    public TransformerBlock(int heads, int ffUnits, Activation activation, Norm norm, boolean causal, double epsilon) {
        this.heads = Check.positive("TransformerBlock", "heads", heads);
        this.ffUnits = Check.positive("TransformerBlock", "ffUnits", ffUnits);
        this.activation = java.util.Objects.requireNonNull(activation, "activation");
        this.norm = java.util.Objects.requireNonNull(norm, "norm");
        this.causal = causal;
        this.epsilon = Check.positive("TransformerBlock", "epsilon", epsilon);
    }

    /** The norm before attention (pre-LN) or after its sum (post-LN); null until built. */
    public LayerNorm norm1() {
        return norm1;
    }

    /** The self-attention; null until built. */
    public MultiHeadAttention attention() {
        return attention;
    }

    /** The norm before the MLP (pre-LN) or after its sum (post-LN); null until built. */
    public LayerNorm norm2() {
        return norm2;
    }

    /** The MLP's first layer, with the activation; null until built. */
    public Dense fc() {
        return fc;
    }

    /** The MLP's second layer, back to the model's width; null until built. */
    public Dense proj() {
        return proj;
    }

    /** The norms' placement. */
    public Norm norm() {
        return norm;
    }

    @Override
    protected void onBuild(Shape inputShape) {
        Shape width = Shape.of(inputShape.dim(-1));
        norm1 = register("norm1", new LayerNorm(epsilon));
        norm1.build(width);
        attention = register("attention", new MultiHeadAttention(heads, causal));
        attention.build(inputShape);
        norm2 = register("norm2", new LayerNorm(epsilon));
        norm2.build(width);
        fc = register("fc", new Dense(ffUnits, activation));
        fc.build(width);
        proj = register("proj", new Dense(inputShape.dim(-1)));
        proj.build(Shape.of(ffUnits));
    }

    @Override
    protected Tensor call(Tensor x) {
        return apply(x, null, null);
    }

    /**
     * The block with a padding mask ({@code [batch, past + time]}, 1 = token, or null) and an
     * attention cache (or null); see {@link MultiHeadAttention#forward(Tensor, Tensor, KeyValueCache)}.
     */
    public Tensor forward(Tensor x, Tensor paddingMask, KeyValueCache cache) {
        if (x.rank() != 3) throw new IllegalArgumentException(name() + " expects [batch, time, d], got " + x.shape());
        build(withoutBatch(x.shape()));
        return apply(x, paddingMask, cache);
    }

    private Tensor apply(Tensor x, Tensor paddingMask, KeyValueCache cache) {
        if (norm == Norm.PRE) {
            x = x.add(attention.forward(norm1.forward(x), paddingMask, cache));
            return x.add(proj.forward(fc.forward(norm2.forward(x))));
        }
        x = norm1.forward(x.add(attention.forward(x, paddingMask, cache)));
        return norm2.forward(x.add(proj.forward(fc.forward(x))));
    }

    @Override
    public Shape outputShape(Shape inputShape) {
        return new MultiHeadAttention(heads, causal).outputShape(inputShape);
    }

    @Override
    public long flops(Shape inputShape) {
        long t = inputShape.dim(0), d = inputShape.dim(1);
        return new MultiHeadAttention(heads, causal).flops(inputShape) + 4 * t * d * ffUnits;
    }

    @Override
    protected void addConfig(Map<String, Object> config) {
        config.put("num_heads", heads);
        config.put("ff_units", ffUnits);
        config.put("activation", activation.id());
        config.put("norm", norm.name().toLowerCase(java.util.Locale.ROOT));
        config.put("causal", causal);
        config.put("epsilon", epsilon);
    }
}
