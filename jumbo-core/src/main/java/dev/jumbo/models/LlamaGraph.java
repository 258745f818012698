package dev.jumbo.models;

import dev.jumbo.nn.Module;
import dev.jumbo.nn.Parameter;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.tensor.WeightMatrix;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A {@link Llama} as a differentiable {@link Tensor} graph: the same blocks (RMSNorm, rotary
 * grouped-query causal attention, SwiGLU feed-forward) composed of ordinary tensor operations, so
 * gradients flow to the token embeddings (token attributions) or to the weights (fine-tuning).
 * The weights are copied out of the model into F32 parameters, whatever type they are stored in,
 * so this is for small models: {@code stories260K} holds 0.3 M of them.
 *
 * <pre>{@code
 * try (Llama llama = Llama2c.load(Path.of("stories260K.bin"))) {
 *     LlamaGraph graph = LlamaGraph.of(llama);
 *     Tensor x = graph.embed(ids).requiresGrad(true);      // [1, t, dim], a leaf
 *     Tensor logits = graph.forwardEmbeddings(x);           // [1, t, vocab]
 *     logits.slice(1, t - 1, t).reshape(1, -1).pick(new int[] {next}).sum().backward();
 *     Tensor saliency = x.grad();                           // d logit[next] / d embeddings
 * }
 * }</pre>
 *
 * <p>Its logits equal the runtime's ({@link Llama#logits}) within float rounding. It keeps no
 * cache: each forward reads the whole sequence. Its parameters require gradients, as any module's
 * do; freeze them ({@link Parameter#freeze}) when only the input's gradient is wanted, as the
 * explainers' {@code Gradients} does for the duration of its passes.
 */
public final class LlamaGraph extends Module {
    private final LlamaConfig config;
    private final Parameter embedding;
    private final List<Block> blocks = new ArrayList<>();
    private final Parameter finalNorm;
    private final Parameter output;
    /** {@code theta^(-2j/headSize)} for each pair j of a head, as {@link Llama} computes them. */
    private final double[] inverseFrequencies;

    /** The adapters' scale and dropout, or null when the model has none. */
    private final LlamaLora adapterShape;

    /**
     * One transformer block's weights, matrices {@code [out, in]} as {@link Llama.Layer} holds them,
     * and its adapters' A {@code [rank, in]} and B {@code [out, rank]} by projection ordinal (null
     * where there is none), named {@code wq_lora_A}, {@code wq_lora_B} ...
     */
    private static final class Block extends Module {
        final Parameter attentionNorm, wq, wk, wv, wo, ffnNorm, w1, w2, w3;
        final Parameter[] loraA = new Parameter[LlamaLora.Projection.values().length], loraB = new Parameter[loraA.length];

        Block(Llama.Layer w, LlamaLora adapters, int layer) {
            attentionNorm = addParameter("attention_norm", vector(w.attentionNorm()));
            wq = addParameter("wq", matrix(w.wq()));
            wk = addParameter("wk", matrix(w.wk()));
            wv = addParameter("wv", matrix(w.wv()));
            wo = addParameter("wo", matrix(w.wo()));
            ffnNorm = addParameter("ffn_norm", vector(w.ffnNorm()));
            w1 = addParameter("w1", matrix(w.w1()));
            w2 = addParameter("w2", matrix(w.w2()));
            w3 = addParameter("w3", matrix(w.w3()));
            if (adapters == null) return;
            for (LlamaLora.Projection p : LlamaLora.Projection.values()) {
                LlamaLora.Delta d = adapters.delta(layer, p);
                if (d == null) continue;
                loraA[p.ordinal()] = addParameter(p.jumboName() + "_lora_A", Tensor.of(d.a().clone(), d.rank(), d.in()));
                loraB[p.ordinal()] = addParameter(p.jumboName() + "_lora_B", Tensor.of(d.b().clone(), d.out(), d.rank()));
            }
        }

        Parameter weight(LlamaLora.Projection p) {
            return switch (p) {
                case Q -> wq;
                case K -> wk;
                case V -> wv;
                case O -> wo;
                case GATE -> w1;
                case UP -> w3;
                case DOWN -> w2;
            };
        }

        @Override
        public Tensor forward(Tensor x) {
            throw new UnsupportedOperationException("a block runs inside LlamaGraph.forwardEmbeddings, which gives it its positions");
        }
    }

    /** Holds the blocks under {@code layers.0}, {@code layers.1} ... in the parameters' names. */
    private static final class Layers extends Module {
        @Override
        public Tensor forward(Tensor x) {
            throw new UnsupportedOperationException("the layers run inside LlamaGraph.forwardEmbeddings");
        }

        Block add(int index, Block b) {
            return register(Integer.toString(index), b);
        }
    }

    private LlamaGraph(Llama model) {
        config = model.config();
        embedding = addParameter("embedding", matrix(model.embedding()));
        Layers layers = register("layers", new Layers());
        adapterShape = model.adapters();
        for (int l = 0; l < config.layers(); l++) blocks.add(layers.add(l, new Block(model.layers().get(l), adapterShape, l)));
        finalNorm = addParameter("final_norm", vector(model.finalNorm()));
        // a tied classifier is the embedding parameter itself, so its two uses share one gradient
        output = model.output() == model.embedding() ? embedding : addParameter("output", matrix(model.output()));
        inverseFrequencies = new double[config.headSize() / 2];
        for (int j = 0; j < inverseFrequencies.length; j++)
            inverseFrequencies[j] = Math.pow(config.ropeTheta(), -2.0 * j / config.headSize());
        // a LoRA fine-tune: only the adapters train
        if (adapterShape != null) for (Parameter p : parameters()) if (!isAdapter(p)) p.freeze();
    }

    private static boolean isAdapter(Parameter p) {
        return p.name().endsWith("_lora_A") || p.name().endsWith("_lora_B");
    }

    /**
     * The graph of {@code model}'s weights, read row by row into F32 (the model may be closed afterwards).
     * A model with adapters ({@link Llama#withAdapters}) gives a graph for a LoRA fine-tune: the
     * adapters' A and B are trainable parameters ({@link #adapterParameters}), every base weight is
     * frozen ({@link Parameter#freeze}; unfreeze one to train it too), and {@link #adapters} reads
     * the trained adapters back.
     *
     * @throws IllegalArgumentException if the F32 copy would not fit in the heap, saying how large it is
     */
    public static LlamaGraph of(Llama model) {
        Objects.requireNonNull(model, "model");
        checkFits(model.config(), Runtime.getRuntime().maxMemory());
        return new LlamaGraph(model);
    }

    /** @throws IllegalArgumentException if the F32 weights of {@code c} are more than half of {@code heap} bytes */
    static void checkFits(LlamaConfig c, long heap) {
        long bytes = 4 * f32Weights(c);
        if (bytes > heap / 2)
            throw new IllegalArgumentException("a LlamaGraph copies the model's weights into F32: " + (bytes >> 20) + " MB, more than half of the "
                    + (heap >> 20) + " MB heap; it is meant for small models (use the runtime, Llama, to generate with large ones)");
    }

    /** The weights of a model of this shape (a tied classifier counted once). */
    static long f32Weights(LlamaConfig c) {
        long d = c.dim(), perLayer = 2 * d + 2 * d * d + 2 * (long) c.kvDim() * d + 3 * d * c.hiddenDim();
        return (long) c.vocabSize() * d * (c.sharedClassifier() ? 1 : 2) + c.layers() * perLayer + d;
    }

    private static Tensor matrix(WeightMatrix w) {
        float[] data = new float[Math.multiplyExact(w.rows(), w.cols())];
        for (int r = 0; r < w.rows(); r++) w.row(r, data, r * w.cols());
        return Tensor.of(data, w.rows(), w.cols());
    }

    private static Tensor vector(float[] v) {
        return Tensor.of(v.clone(), v.length);
    }

    /** The shape. */
    public LlamaConfig config() {
        return config;
    }

    /** The adapters' A and B parameters, layer by layer (empty for a graph of a model without adapters). */
    public List<Parameter> adapterParameters() {
        return parameters().stream().filter(LlamaGraph::isAdapter).toList();
    }

    /**
     * The adapters as their parameters hold them now (copies), with the scale and dropout they came
     * with: what {@link Llama#withAdapters} runs, {@link LlamaLora#merge} merges.
     *
     * @throws IllegalStateException if the graph was made from a model without adapters
     */
    public LlamaLora adapters() {
        if (adapterShape == null) throw new IllegalStateException("this graph's model has no adapters (see Llama.withAdapters)");
        java.util.Map<LlamaLora.Site, LlamaLora.Delta> deltas = new java.util.LinkedHashMap<>();
        for (int l = 0; l < blocks.size(); l++)
            for (LlamaLora.Projection p : LlamaLora.Projection.values()) {
                Parameter a = blocks.get(l).loraA[p.ordinal()], b = blocks.get(l).loraB[p.ordinal()];
                if (a == null) continue;
                deltas.put(new LlamaLora.Site(l, p), new LlamaLora.Delta(a.value().dim(0), a.value().dim(1), b.value().dim(0),
                        a.value().toFloatArray(), b.value().toFloatArray()));
            }
        return new LlamaLora(config, adapterShape.scale(), adapterShape.dropout(), deltas);
    }

    /**
     * The token embeddings {@code [1, t, dim]} of one sequence as a new leaf (a copy, outside any
     * graph): what {@link #forwardEmbeddings} takes, and what token attributions are computed on.
     *
     * @throws IllegalArgumentException if there are no tokens or one is outside the vocabulary
     */
    public Tensor embed(int[] tokens) {
        return Tensor.of(lookup(tokens, 1, tokens.length).toFloatArray(), 1, tokens.length, config.dim());
    }

    /**
     * Logits {@code [1, t, vocab]} at every position of one sequence; the embedding lookup is part
     * of the graph (its gradient reaches the embedding parameter).
     *
     * @throws IllegalArgumentException if there are no tokens, one is outside the vocabulary, or they outgrow the context
     */
    public Tensor forward(int[] tokens) {
        return forwardEmbeddings(lookup(tokens, 1, tokens.length));
    }

    /** Rows of the embedding for {@code tokens}, {@code [b, t, dim]}, in the graph. */
    private Tensor lookup(int[] tokens, int b, int t) {
        if (tokens.length == 0) throw new IllegalArgumentException("no tokens to embed");
        for (int i = 0; i < tokens.length; i++)
            if (tokens[i] < 0 || tokens[i] >= config.vocabSize())
                throw new IllegalArgumentException("token id " + tokens[i] + " at position " + i + " is outside the vocabulary of " + config.vocabSize());
        return embedding.value().rows(tokens).reshape(b, t, config.dim());
    }

    /**
     * Logits {@code [batch, time, vocab]} for token ids {@code [batch, time]} held as floats (as
     * {@link Gpt2#forward} takes them).
     *
     * @throws IllegalArgumentException if the ids are not whole numbers in the vocabulary
     */
    @Override
    public Tensor forward(Tensor ids) {
        if (ids.rank() != 2) throw new IllegalArgumentException("Llama takes token ids [batch, time], got " + ids.shape());
        float[] raw = ids.toFloatArray();
        int[] tokens = new int[raw.length];
        for (int i = 0; i < raw.length; i++) {
            tokens[i] = (int) raw[i];
            if (tokens[i] != raw[i]) throw new IllegalArgumentException("token id " + raw[i] + " at " + i + " is not a whole number");
        }
        return forwardEmbeddings(lookup(tokens, ids.dim(0), ids.dim(1)));
    }

    /**
     * Logits {@code [batch, time, vocab]} from embeddings {@code [batch, time, dim]}, each sequence
     * starting at position 0: the model past its embedding lookup.
     *
     * @throws IllegalArgumentException if the embeddings are not {@code [batch, time, dim]} or longer than the context
     */
    public Tensor forwardEmbeddings(Tensor x) {
        LlamaConfig c = config;
        if (x.rank() != 3 || x.dim(2) != c.dim() || x.dim(1) == 0 || x.dim(0) == 0)
            throw new IllegalArgumentException("Llama's embeddings are [batch, time, " + c.dim() + "], got " + x.shape());
        int t = x.dim(1);
        if (t > c.contextLength())
            throw new IllegalArgumentException("sequence of " + t + " tokens is longer than the model's context of " + c.contextLength());
        Tensor[] rotation = rotation(t);
        Tensor mask = causalMask(t);
        int group = c.heads() / c.kvHeads();
        for (Block w : blocks) {
            Tensor h = rmsNorm(x, w.attentionNorm.value());
            Tensor q = rope(project(h, w, LlamaLora.Projection.Q), c.heads(), rotation);
            Tensor k = repeatHeads(rope(project(h, w, LlamaLora.Projection.K), c.kvHeads(), rotation), group);
            Tensor v = repeatHeads(project(h, w, LlamaLora.Projection.V), group);
            x = x.add(project(q.attention(k, v, c.heads(), mask), w, LlamaLora.Projection.O));
            h = rmsNorm(x, w.ffnNorm.value());
            Tensor gate = project(h, w, LlamaLora.Projection.GATE);
            x = x.add(project(gate.mul(gate.sigmoid()).mul(project(h, w, LlamaLora.Projection.UP)), w, LlamaLora.Projection.DOWN));
        }
        return project(rmsNorm(x, finalNorm.value()), output);
    }

    /**
     * Projection {@code p} of block {@code w}: {@code x W^T}, plus {@code scale * (x A^T) B^T} when it
     * has an adapter (PEFT's order, with its dropout on the adapter's input while training).
     */
    private Tensor project(Tensor x, Block w, LlamaLora.Projection p) {
        Tensor y = project(x, w.weight(p));
        Parameter a = w.loraA[p.ordinal()];
        if (a == null) return y;
        Tensor in = x;
        double rate = adapterShape.dropout();
        if (rate > 0 && isTraining()) {
            java.util.Random random = dev.jumbo.nn.Init.random();
            float keep = (float) (1 - rate), scale = 1 / keep;
            float[] mask = new float[x.size()];
            for (int i = 0; i < mask.length; i++) mask[i] = random.nextFloat() < keep ? scale : 0f;
            in = x.mul(Tensor.of(mask, x.shape()));
        }
        return y.add(project(project(in, a), w.loraB[p.ordinal()]).mul((float) adapterShape.scale()));
    }

    /** {@code x W^T} for a weight stored {@code [out, in]}: the transposed view is read as it lies. */
    private static Tensor project(Tensor x, Parameter w) {
        return x.linear(w.value().transpose(0, 1), null);
    }

    /** {@code x / sqrt(mean(x^2) + eps) * weight} over the last axis. */
    private Tensor rmsNorm(Tensor x, Tensor weight) {
        return x.div(x.square().mean(-1, true).add(config.rmsNormEps()).sqrt()).mul(weight);
    }

    /**
     * The cosines and sines of rotary embedding at positions {@code 0 .. t-1}, laid out to multiply
     * a head's coordinates: {@code [t, 1, half, 1]} for adjacent pairs (the head seen as
     * {@code [half, 2]}), {@code [t, 1, 1, headSize]} with each angle at j and j + half for halves.
     */
    private Tensor[] rotation(int t) {
        int half = config.headSize() / 2;
        boolean adjacent = config.ropeStyle() == LlamaConfig.RopeStyle.NORM;
        int width = adjacent ? half : 2 * half;
        float[] cos = new float[t * width], sin = new float[t * width];
        for (int p = 0; p < t; p++)
            for (int j = 0; j < half; j++) {
                double angle = p * inverseFrequencies[j];
                float cj = (float) Math.cos(angle), sj = (float) Math.sin(angle);
                cos[p * width + j] = cj;
                sin[p * width + j] = sj;
                if (!adjacent) {
                    cos[p * width + j + half] = cj;
                    sin[p * width + j + half] = sj;
                }
            }
        return adjacent
                ? new Tensor[] {Tensor.of(cos, t, 1, half, 1), Tensor.of(sin, t, 1, half, 1)}
                : new Tensor[] {Tensor.of(cos, t, 1, width), Tensor.of(sin, t, 1, width)};
    }

    /**
     * Rotary position embedding of {@code x [b, t, heads * headSize]}: {@code x cos + rotated(x) sin},
     * where rotating a pair {@code (a, b)} gives {@code (-b, a)}, so each pair becomes
     * {@code (a cos - b sin, a sin + b cos)} as {@link Llama} rotates it. The pairs are adjacent
     * coordinates (NORM) or a coordinate and the one half a head further (NEOX).
     */
    private Tensor rope(Tensor x, int heads, Tensor[] rotation) {
        int b = x.dim(0), t = x.dim(1), hs = config.headSize(), half = hs / 2;
        Tensor rotated, heads4;
        if (config.ropeStyle() == LlamaConfig.RopeStyle.NORM) {
            heads4 = x.reshape(b, t, heads, half, 2);
            rotated = Tensor.concat(4, List.of(heads4.slice(4, 1, 2).neg(), heads4.slice(4, 0, 1)));
        } else {
            heads4 = x.reshape(b, t, heads, hs);
            rotated = Tensor.concat(3, List.of(heads4.slice(3, half, hs).neg(), heads4.slice(3, 0, half)));
        }
        return heads4.mul(rotation[0]).add(rotated.mul(rotation[1])).reshape(b, t, heads * hs);
    }

    /**
     * Keys or values {@code [b, t, kvHeads * headSize]} with each head repeated {@code group} times
     * side by side, {@code [b, t, heads * headSize]}: query head h reads key/value head h / group.
     */
    private Tensor repeatHeads(Tensor x, int group) {
        if (group == 1) return x;
        int b = x.dim(0), t = x.dim(1), kvHeads = config.kvHeads(), hs = config.headSize();
        Tensor one = x.reshape(b, t, kvHeads, 1, hs);
        List<Tensor> copies = new ArrayList<>(group);
        for (int g = 0; g < group; g++) copies.add(one);
        return Tensor.concat(3, copies).reshape(b, t, kvHeads * group * hs);
    }

    /** {@code [t, t]}: 0 where position i may look (j <= i), -infinity after it. */
    private static Tensor causalMask(int t) {
        float[] m = new float[t * t];
        for (int i = 0; i < t; i++)
            for (int j = i + 1; j < t; j++) m[i * t + j] = Float.NEGATIVE_INFINITY;
        return Tensor.of(m, t, t);
    }
}
