package dev.jumbo.lora;

import dev.jumbo.kernel.Gemm;
import dev.jumbo.tensor.Tensor;
import java.util.List;
import java.util.Random;

/**
 * The low-rank update LoRA adds beside a frozen linear layer: {@code scale · dropout(x) · A · B}
 * with {@code A [in, r]} and {@code B [r, width]} in Jumbo's {@code [in, out]} layout (PEFT's
 * {@code lora_A.weight} is {@code Aᵀ}, its {@code lora_B.weight} is {@code Bᵀ}). It covers the
 * host's output columns {@code offset .. offset + width}: all of them for GPT-2's {@code c_attn},
 * a third each for BERT's query, key and value, which Jumbo fuses into one projection.
 *
 * <p>A and B are leaf tensors that require gradients; they are not parameters of the host
 * layer, so the host's state dict (the base weights) is unchanged by attaching one. A fresh
 * adapter has A drawn as PEFT draws it (Kaiming-uniform with {@code a = √5}: uniform in
 * {@code ±1/√in}) and B zero, so it changes nothing until trained.
 *
 * <pre>{@code
 * LoraAdapter lora = LoraAdapter.fresh(768, 2304, 0, LoraConfig.defaults(List.of("c_attn")), new Random(1));
 * dense.attach(lora);                        // dense: a built Dense [768, 2304]
 * optimizer.bind(lora.parameters());
 * }</pre>
 */
public final class LoraAdapter {
    private final Tensor a;
    private final Tensor b;
    private final int offset;
    private final double scale;
    private final double dropout;

    /**
     * An adapter of the given factors, which become trainable leaves (their values are used as
     * they are, not copied).
     *
     * @throws IllegalArgumentException if the shapes do not agree or the offset is negative
     */
    public LoraAdapter(Tensor a, Tensor b, int offset, double scale, double dropout) {
        if (a.rank() != 2 || b.rank() != 2 || a.dim(1) != b.dim(0))
            throw new IllegalArgumentException("LoRA factors must be A [in, r] and B [r, width], got " + a.shape() + " and " + b.shape());
        if (offset < 0) throw new IllegalArgumentException("LoRA column offset must be >= 0, got " + offset);
        if (!(scale > 0) || Double.isInfinite(scale)) throw new IllegalArgumentException("LoRA scale must be finite and positive, got " + scale);
        if (!(dropout >= 0 && dropout < 1)) throw new IllegalArgumentException("LoRA dropout must be in [0, 1), got " + dropout);
        this.a = a.isDense() ? a : a.contiguous();
        this.b = b.isDense() ? b : b.contiguous();
        this.a.requiresGrad(true);
        this.b.requiresGrad(true);
        this.offset = offset;
        this.scale = scale;
        this.dropout = dropout;
    }

    /** A new adapter for a layer with {@code in} inputs, over {@code width} of its outputs from {@code offset}: A as PEFT draws it, B zero. */
    public static LoraAdapter fresh(int in, int width, int offset, LoraConfig config, Random random) {
        float bound = (float) (1 / Math.sqrt(in));
        return new LoraAdapter(Tensor.uniform(random, -bound, bound, in, config.r()), Tensor.zeros(config.r(), width), offset,
                config.scale(), config.dropout());
    }

    /**
     * The adapter of PEFT's tensors {@code lora_A.weight [r, in]} and {@code lora_B.weight [width, r]}.
     *
     * @throws IllegalArgumentException if their ranks disagree
     */
    public static LoraAdapter fromPeft(Tensor peftA, Tensor peftB, int offset, LoraConfig config) {
        if (peftA.rank() != 2 || peftB.rank() != 2 || peftA.dim(0) != peftB.dim(1))
            throw new IllegalArgumentException("PEFT's LoRA weights must be lora_A [r, in] and lora_B [out, r], got " + peftA.shape() + " and " + peftB.shape());
        return new LoraAdapter(peftA.transpose(0, 1).contiguous(), peftB.transpose(0, 1).contiguous(), offset, config.scale(), config.dropout());
    }

    /** A {@code [in, r]}. */
    public Tensor a() {
        return a;
    }

    /** B {@code [r, width]}. */
    public Tensor b() {
        return b;
    }

    /** PEFT's {@code lora_A.weight}: {@code Aᵀ [r, in]}, a copy. */
    public Tensor peftA() {
        return Tensor.of(a.transpose(0, 1).toFloatArray(), a.dim(1), a.dim(0));
    }

    /** PEFT's {@code lora_B.weight}: {@code Bᵀ [width, r]}, a copy. */
    public Tensor peftB() {
        return Tensor.of(b.transpose(0, 1).toFloatArray(), b.dim(1), b.dim(0));
    }

    /** The trainable tensors, A then B. */
    public List<Tensor> parameters() {
        return List.of(a, b);
    }

    /** Inputs of the host layer. */
    public int in() {
        return a.dim(0);
    }

    /** The rank. */
    public int rank() {
        return a.dim(1);
    }

    /** Output columns covered. */
    public int width() {
        return b.dim(1);
    }

    /** The first output column covered. */
    public int offset() {
        return offset;
    }

    /** The factor on {@code x A B}. */
    public double scale() {
        return scale;
    }

    /**
     * {@code scale · dropout(x) · A · B} for {@code x [.., in]}, recorded for gradients; dropout
     * (inverted: survivors scaled by {@code 1 / (1 - p)}) only when {@code training}, its mask
     * drawn from {@code random}.
     */
    public Tensor delta(Tensor x, boolean training, Random random) {
        if (training && dropout > 0) {
            float keep = (float) (1 - dropout), survivor = 1 / keep;
            float[] mask = new float[x.size()];
            for (int i = 0; i < mask.length; i++) mask[i] = random.nextFloat() < keep ? survivor : 0f;
            x = x.mul(Tensor.of(mask, x.shape()));
        }
        // (x A) B costs r (in + width) per row instead of in · width for x (A B)
        return x.matmul(a).matmul(b).mul((float) scale);
    }

    /**
     * Adds the update into rows {@code 0 .. n-1} of {@code out [n, units]} for {@code in [n, in()]}
     * on float arrays (inference: no dropout, no graph), through {@code temp} of at least
     * {@code n · rank()} floats.
     */
    public void addTo(float[] in, int n, float[] out, int units, float[] temp) {
        int inputs = in(), r = rank();
        Gemm.sgemm(false, false, n, r, inputs, 1f, in, 0, inputs, a.buffer(), 0, r, 0f, temp, 0, r);
        Gemm.sgemm(false, false, n, width(), r, (float) scale, temp, 0, r, b.buffer(), 0, width(), 1f, out, offset, units);
    }

    /** Folds the update into a kernel {@code [in, units]} held row-major: {@code kernel[:, offset ..] += scale · A B}. */
    public void mergeInto(float[] kernel, int units) {
        Gemm.sgemm(false, false, in(), width(), rank(), (float) scale, a.buffer(), 0, rank(), b.buffer(), 0, width(), 1f, kernel, offset, units);
    }
}
