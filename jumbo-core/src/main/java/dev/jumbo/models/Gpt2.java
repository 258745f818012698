package dev.jumbo.models;

import dev.jumbo.io.FormatException;
import dev.jumbo.io.Safetensors;
import dev.jumbo.nn.Activation;
import dev.jumbo.nn.Dense;
import dev.jumbo.nn.Embedding;
import dev.jumbo.nn.LayerNorm;
import dev.jumbo.nn.Module;
import dev.jumbo.tensor.GradMode;
import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * GPT-2: token and position embeddings, {@code nLayer} pre-LN transformer blocks (causal
 * self-attention, then a GELU MLP, each added back onto the residual stream), a final layer
 * norm, and logits from the token embedding itself (tied weights).
 *
 * <pre>{@code
 * Gpt2 gpt2 = Gpt2.load(Path.of("models/gpt2"));          // config.json + model.safetensors
 * float[] next = gpt2.logits(new int[] {15496, 995});     // scores of the token after "Hello world"
 * }</pre>
 *
 * <p>Parameter names follow Jumbo's layers ({@code h.0.attn.c_attn.kernel}); {@link #fromHuggingFace}
 * maps HuggingFace's ({@code h.0.attn.c_attn.weight}, stored [in, out] like a Dense kernel).
 */
public final class Gpt2 extends Module implements CausalLm {
    private final Gpt2Config config;
    private final Embedding wte;
    private final Embedding wpe;
    private final Block[] h;
    private final LayerNorm lnF;

    /** A GPT-2 of the given shape with fresh weights. */
    public Gpt2(Gpt2Config config) {
        this.config = config;
        int d = config.nEmbd();
        wte = built(register("wte", new Embedding(config.vocabSize(), d)), Shape.of(1));
        wpe = built(register("wpe", new Embedding(config.nPositions(), d)), Shape.of(1));
        h = new Block[config.nLayer()];
        Module blocks = register("h", new Blocks());
        for (int i = 0; i < h.length; i++) h[i] = ((Blocks) blocks).add(i, new Block(config));
        lnF = built(register("ln_f", new LayerNorm(config.layerNormEpsilon())), Shape.of(d));
    }

    private static <L extends dev.jumbo.nn.Layer> L built(L layer, Shape input) {
        layer.build(input);
        return layer;
    }

    /** The shape. */
    public Gpt2Config config() {
        return config;
    }

    /**
     * Logits {@code [batch, time, vocab]} for token ids {@code [batch, time]} (held as floats).
     *
     * @throws IllegalArgumentException if the sequence is longer than {@code nPositions} or an id is outside the vocabulary
     */
    @Override
    public Tensor forward(Tensor ids) {
        if (ids.rank() != 2) throw new IllegalArgumentException("GPT-2 takes token ids [batch, time], got " + ids.shape());
        int b = ids.dim(0), t = ids.dim(1), d = config.nEmbd();
        if (t > config.nPositions())
            throw new IllegalArgumentException("sequence of " + t + " tokens is longer than the model's context of " + config.nPositions());
        float[] raw = ids.toFloatArray();
        int[] tokens = new int[raw.length];
        for (int i = 0; i < raw.length; i++) {
            tokens[i] = (int) raw[i];
            if (tokens[i] != raw[i] || tokens[i] < 0 || tokens[i] >= config.vocabSize())
                throw new IllegalArgumentException("token id " + raw[i] + " is outside the vocabulary of " + config.vocabSize());
        }
        Tensor x = embed(tokens, b, t, 0);
        Tensor mask = causalMask(t, 0);
        for (Block block : h) x = block.forward(x, mask, null, 0);
        return lnF.forward(x).matmul(wte.embeddings().value().transpose(0, 1));
    }

    /** Token plus position embeddings of {@code [b, t]} tokens whose first position is {@code start}. */
    private Tensor embed(int[] tokens, int b, int t, int start) {
        int[] positions = new int[t];
        for (int i = 0; i < t; i++) positions[i] = start + i;
        return wte.embeddings().value().rows(tokens).reshape(b, t, config.nEmbd())
                .add(wpe.embeddings().value().rows(positions));
    }

    /** An empty cache of keys and values: one per sequence being generated. */
    @Override
    public KvCache start() {
        return new KvCache(this);
    }

    @Override
    public int contextLength() {
        return config.nPositions();
    }

    @Override
    public int vocabSize() {
        return config.vocabSize();
    }

    /**
     * {@link KvCache#feed}: {@code ids} after the tokens already in {@code cache} (all of a prompt at once, then one
     * token at a time) and returns the logits of the token that follows them. Only the new tokens
     * are computed: earlier ones' keys and values come from the cache, which grows by
     * {@code ids.length}. Records no gradients.
     *
     * @throws IllegalArgumentException if the cache would outgrow the context or an id is outside the vocabulary
     */
    float[] next(KvCache cache, int[] ids) {
        if (ids.length == 0) throw new IllegalArgumentException("no tokens to feed");
        int past = cache.length;
        if (past + ids.length > config.nPositions())
            throw new IllegalArgumentException("sequence of " + (past + ids.length) + " tokens is longer than the model's context of " + config.nPositions());
        for (int id : ids)
            if (id < 0 || id >= config.vocabSize()) throw new IllegalArgumentException("token id " + id + " is outside the vocabulary of " + config.vocabSize());
        try (var scope = GradMode.noGrad()) {
            Tensor x = embed(ids, 1, ids.length, past);
            Tensor mask = causalMask(ids.length, past);
            for (int l = 0; l < h.length; l++) x = h[l].forward(x, mask, cache, l);
            cache.length = past + ids.length;
            Tensor last = lnF.forward(x.slice(1, ids.length - 1, ids.length));
            return last.matmul(wte.embeddings().value().transpose(0, 1)).toFloatArray();
        }
    }

    /** Keys and values of the tokens fed so far, per layer, {@code [1, heads, length, headDim]}. */
    public static final class KvCache implements CausalLm.Session {
        private final Gpt2 model;
        private final Tensor[] keys;
        private final Tensor[] values;
        private int length;

        KvCache(Gpt2 model) {
            this.model = model;
            keys = new Tensor[model.h.length];
            values = new Tensor[model.h.length];
        }

        @Override
        public float[] feed(int[] ids) {
            return model.next(this, ids);
        }

        @Override
        public int length() {
            return length;
        }

        /** Appends this step's keys and values of layer {@code l} and returns all of them. */
        Tensor[] append(int l, Tensor k, Tensor v) {
            keys[l] = keys[l] == null ? k.contiguous() : Tensor.concat(2, java.util.List.of(keys[l], k));
            values[l] = values[l] == null ? v.contiguous() : Tensor.concat(2, java.util.List.of(values[l], v));
            return new Tensor[] {keys[l], values[l]};
        }
    }

    /** The next-token logits after {@code ids} (one sequence), without recording gradients. */
    public float[] logits(int[] ids) {
        float[] asFloats = new float[ids.length];
        for (int i = 0; i < ids.length; i++) asFloats[i] = ids[i];
        try (var scope = GradMode.noGrad()) {
            Tensor all = forward(Tensor.of(asFloats, 1, ids.length));
            return all.slice(1, ids.length - 1, ids.length).toFloatArray();
        }
    }

    /**
     * {@code [t, past + t]}: 0 where new token i (at position past + i) may look (itself and
     * earlier), -infinity where it may not.
     */
    private static Tensor causalMask(int t, int past) {
        int width = past + t;
        float[] m = new float[t * width];
        for (int i = 0; i < t; i++)
            for (int j = past + i + 1; j < width; j++) m[i * width + j] = Float.NEGATIVE_INFINITY;
        return Tensor.of(m, t, width);
    }

    /**
     * Loads {@code dir/config.json} and {@code dir/model.safetensors} (or the shards of
     * {@code model.safetensors.index.json}) with HuggingFace's names.
     *
     * @throws FormatException naming the file and the problem (a bad config, a missing or
     *     misshapen tensor, a truncated file)
     */
    public static Gpt2 load(Path dir) throws IOException {
        Gpt2Config config = Gpt2Config.read(dir.resolve("config.json"));
        Map<String, Tensor> hf = dev.jumbo.io.SafetensorsFolder.read(dir);
        Gpt2 model = new Gpt2(config);
        try {
            model.loadStateDict(fromHuggingFace(hf));
        } catch (IllegalArgumentException e) {
            throw new FormatException(dir.resolve("model.safetensors"), e.getMessage());
        }
        return model;
    }

    /**
     * Writes {@code dir/config.json} and {@code dir/model.safetensors} in HuggingFace's layout and
     * names (the file {@link #load} reads, and HuggingFace's {@code GPT2LMHeadModel} too). Each file
     * is replaced atomically.
     */
    public void save(Path dir) throws IOException {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("model_type", "gpt2");
        c.put("architectures", java.util.List.of("GPT2LMHeadModel"));
        c.put("vocab_size", config.vocabSize());
        c.put("n_positions", config.nPositions());
        c.put("n_ctx", config.nPositions());
        c.put("n_embd", config.nEmbd());
        c.put("n_layer", config.nLayer());
        c.put("n_head", config.nHead());
        c.put("layer_norm_epsilon", config.layerNormEpsilon());
        c.put("activation_function", "gelu_new");
        c.put("tie_word_embeddings", true);
        HuggingFaceLayout.save(dir, c, stateDict(), false);
    }

    /**
     * HuggingFace's GPT-2 tensor names mapped onto this class's: a {@code transformer.} prefix and
     * the {@code lm_head} (tied to {@code wte}) and causal-mask buffers ({@code attn.bias},
     * {@code attn.masked_bias}) of older checkpoints are dropped; layer norms' weight and bias
     * become gamma and beta, linear layers' weight becomes kernel, embeddings' weight becomes embeddings.
     */
    public static Map<String, Tensor> fromHuggingFace(Map<String, Tensor> hf) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        hf.forEach((name, value) -> {
            String n = name.startsWith("transformer.") ? name.substring("transformer.".length()) : name;
            if (n.equals("lm_head.weight") || n.endsWith(".attn.bias") || n.endsWith(".attn.masked_bias")) return;
            HuggingFaceLayout.toJumbo(n, value, false, out);
        });
        return out;
    }

    /** The blocks, registered as {@code h.0}, {@code h.1}, ... */
    private static final class Blocks extends Module {
        Block add(int i, Block b) {
            return register(Integer.toString(i), b);
        }

        @Override
        public Tensor forward(Tensor x) {
            throw new UnsupportedOperationException("the blocks run from Gpt2.forward");
        }
    }

    /** Pre-LN block: {@code x + attn(ln_1(x))}, then {@code x + mlp(ln_2(x))}. */
    static final class Block extends Module {
        private final LayerNorm ln1;
        private final Attention attn;
        private final LayerNorm ln2;
        private final Mlp mlp;

        Block(Gpt2Config c) {
            ln1 = built(register("ln_1", new LayerNorm(c.layerNormEpsilon())), Shape.of(c.nEmbd()));
            attn = register("attn", new Attention(c));
            ln2 = built(register("ln_2", new LayerNorm(c.layerNormEpsilon())), Shape.of(c.nEmbd()));
            mlp = register("mlp", new Mlp(c));
        }

        Tensor forward(Tensor x, Tensor mask, KvCache cache, int layer) {
            x = x.add(attn.forward(ln1.forward(x), mask, cache, layer));
            return x.add(mlp.forward(ln2.forward(x)));
        }

        @Override
        public Tensor forward(Tensor x) {
            return forward(x, causalMask(x.dim(1), 0), null, 0);
        }
    }

    /** Causal multi-head self-attention: one projection to q, k and v, softmax(q k^T / sqrt(d)) v per head, an output projection. */
    static final class Attention extends Module {
        private final int heads;
        private final int headDim;
        private final Dense cAttn;
        private final Dense cProj;

        Attention(Gpt2Config c) {
            heads = c.nHead();
            headDim = c.headDim();
            cAttn = built(register("c_attn", new Dense(3 * c.nEmbd(), Activation.LINEAR)), Shape.of(c.nEmbd()));
            cProj = built(register("c_proj", new Dense(c.nEmbd(), Activation.LINEAR)), Shape.of(c.nEmbd()));
        }

        /** With a cache, the keys and values of earlier tokens are taken from it and this step's are added to it. */
        Tensor forward(Tensor x, Tensor mask, KvCache cache, int layer) {
            int b = x.dim(0), t = x.dim(1), d = heads * headDim;
            Tensor qkv = cAttn.forward(x);
            Tensor q = split(qkv, 0, b, t), k = split(qkv, d, b, t), v = split(qkv, 2 * d, b, t);
            if (cache != null) {
                Tensor[] kv = cache.append(layer, k, v);
                k = kv[0];
                v = kv[1];
            }
            Tensor att = q.matmul(k.transpose(2, 3)).mul((float) (1 / Math.sqrt(headDim))).add(mask).softmax();
            Tensor y = att.matmul(v).permute(0, 2, 1, 3).reshape(b, t, d);
            return cProj.forward(y);
        }

        /** Columns {@code from .. from+d} of {@code [b, t, 3d]} as {@code [b, heads, t, headDim]}. */
        private Tensor split(Tensor qkv, int from, int b, int t) {
            return qkv.slice(2, from, from + heads * headDim).reshape(b, t, heads, headDim).permute(0, 2, 1, 3);
        }

        @Override
        public Tensor forward(Tensor x) {
            return forward(x, causalMask(x.dim(1), 0), null, 0);
        }
    }

    /** {@code c_proj(gelu_tanh(c_fc(x)))}, 4x wide. */
    static final class Mlp extends Module {
        private final Dense cFc;
        private final Dense cProj;

        Mlp(Gpt2Config c) {
            cFc = built(register("c_fc", new Dense(4 * c.nEmbd(), Activation.LINEAR)), Shape.of(c.nEmbd()));
            cProj = built(register("c_proj", new Dense(c.nEmbd(), Activation.LINEAR)), Shape.of(4 * c.nEmbd()));
        }

        @Override
        public Tensor forward(Tensor x) {
            return cProj.forward(cFc.forward(x).geluTanh());
        }
    }
}
