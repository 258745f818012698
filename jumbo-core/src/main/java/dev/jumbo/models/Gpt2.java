package dev.jumbo.models;

import dev.jumbo.io.FormatException;
import dev.jumbo.kernel.Gemm;
import dev.jumbo.kernel.LayerNormKernel;
import dev.jumbo.kernel.VectorMath;
import dev.jumbo.lora.LoraAdapter;
import dev.jumbo.lora.LoraTarget;
import dev.jumbo.nn.Activation;
import dev.jumbo.nn.Dense;
import dev.jumbo.nn.Embedding;
import dev.jumbo.nn.LayerNorm;
import dev.jumbo.nn.Module;
import dev.jumbo.nn.MultiHeadAttention;
import dev.jumbo.nn.PositionEmbedding;
import dev.jumbo.nn.TransformerBlock;
import dev.jumbo.tensor.GradMode;
import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.tensor.WeightMatrix;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * GPT-2: token and position embeddings, {@code nLayer} pre-LN {@link TransformerBlock}s (causal
 * self-attention, then a GELU (tanh form) MLP, each added back onto the residual stream), a final
 * layer norm, and logits from the token embedding itself (tied weights).
 *
 * <pre>{@code
 * Gpt2 gpt2 = Gpt2.load(Path.of("models/gpt2"));          // config.json + model.safetensors
 * float[] next = gpt2.logits(new int[] {15496, 995});     // scores of the token after "Hello world"
 * }</pre>
 *
 * <p>Parameter names follow Jumbo's layers ({@code h.0.attention.qkv.kernel}); {@link #fromHuggingFace}
 * maps HuggingFace's ({@code h.0.attn.c_attn.weight}, stored [in, out] like a Dense kernel).
 *
 * <p>LoRA: {@link #loraModules()} lists the linear layers under the names PEFT gives them in a
 * {@code GPT2LMHeadModel} ({@code transformer.h.0.attn.c_attn}, ...), for
 * {@link dev.jumbo.lora.LoraAdapters}; the training forward and the generation {@link Session}
 * both add attached adapters.
 */
public final class Gpt2 extends Module implements CausalLm {
    /** HuggingFace's module names (left) for Jumbo's (right); {@code *} is a layer number. */
    private static final List<HuggingFaceLayout.Rename> NAMES = List.of(
            new HuggingFaceLayout.Rename("h.*.ln_1", "h.*.norm1"),
            new HuggingFaceLayout.Rename("h.*.attn.c_attn", "h.*.attention.qkv"),
            new HuggingFaceLayout.Rename("h.*.attn.c_proj", "h.*.attention.output"),
            new HuggingFaceLayout.Rename("h.*.ln_2", "h.*.norm2"),
            new HuggingFaceLayout.Rename("h.*.mlp.c_fc", "h.*.fc"),
            new HuggingFaceLayout.Rename("h.*.mlp.c_proj", "h.*.proj"));

    private final Gpt2Config config;
    private final Embedding wte;
    private final PositionEmbedding wpe;
    private final TransformerBlock[] h;
    private final LayerNorm lnF;

    /** A GPT-2 of the given shape with fresh weights. */
    public Gpt2(Gpt2Config config) {
        this.config = config;
        int d = config.nEmbd();
        wte = register("wte", new Embedding(config.vocabSize(), d));
        wte.build(Shape.of(1));
        wpe = register("wpe", new PositionEmbedding(config.nPositions()));
        wpe.build(Shape.of(1, d));
        h = new TransformerBlock[config.nLayer()];
        Numbered blocks = register("h", new Numbered());
        for (int i = 0; i < h.length; i++) {
            h[i] = blocks.add(new TransformerBlock(config.nHead(), 4 * d, Activation.GELU_TANH, TransformerBlock.Norm.PRE, true, config.layerNormEpsilon()));
            h[i].build(Shape.of(1, d));
        }
        lnF = register("ln_f", new LayerNorm(config.layerNormEpsilon()));
        lnF.build(Shape.of(d));
    }

    /** The shape. */
    public Gpt2Config config() {
        return config;
    }

    /**
     * The linear layers LoRA can adapt, by the module path PEFT uses for a {@code GPT2LMHeadModel}
     * ({@code transformer.} + HuggingFace's name: {@code transformer.h.0.attn.c_attn},
     * {@code transformer.h.0.attn.c_proj}, {@code transformer.h.0.mlp.c_fc},
     * {@code transformer.h.0.mlp.c_proj}, ...), in layer order. HuggingFace's Conv1D stores these
     * weights [in, out] as Jumbo does: PEFT's {@code fan_in_fan_out} is true.
     */
    public Map<String, LoraTarget> loraModules() {
        Map<String, LoraTarget> out = new LinkedHashMap<>();
        denseLayers(this, "").forEach((path, dense) -> out.put("transformer." + hfPath(path, NAMES), LoraTarget.whole(dense)));
        return out;
    }

    /** A Jumbo module path under HuggingFace's name, through a model's rename table (unchanged if no entry applies). */
    static String hfPath(String path, List<HuggingFaceLayout.Rename> renames) {
        for (HuggingFaceLayout.Rename r : renames) {
            String hf = r.toHf(path);
            if (hf != null) return hf;
        }
        return path;
    }

    /** Every {@link Dense} under {@code module} by its Jumbo path, depth first in registration order. */
    static Map<String, Dense> denseLayers(Module module, String prefix) {
        Map<String, Dense> out = new LinkedHashMap<>();
        module.children().forEach((name, child) -> {
            if (child instanceof Dense d) out.put(prefix + name, d);
            else out.putAll(denseLayers(child, prefix + name + "."));
        });
        return out;
    }

    /** Whether any layer has a LoRA adapter attached. */
    boolean hasAdapters() {
        for (Dense d : denseLayers(this, "").values())
            if (!d.adapters().isEmpty()) return true;
        return false;
    }

    /**
     * Logits {@code [batch, time, vocab]} for token ids {@code [batch, time]} (held as floats).
     *
     * @throws IllegalArgumentException if the sequence is longer than {@code nPositions} or an id is outside the vocabulary
     */
    @Override
    public Tensor forward(Tensor ids) {
        if (ids.rank() != 2) throw new IllegalArgumentException("GPT-2 takes token ids [batch, time], got " + ids.shape());
        int b = ids.dim(0), t = ids.dim(1);
        if (t > config.nPositions())
            throw new IllegalArgumentException("sequence of " + t + " tokens is longer than the model's context of " + config.nPositions());
        float[] raw = ids.toFloatArray();
        int[] tokens = new int[raw.length];
        for (int i = 0; i < raw.length; i++) {
            tokens[i] = (int) raw[i];
            if (tokens[i] != raw[i] || tokens[i] < 0 || tokens[i] >= config.vocabSize())
                throw new IllegalArgumentException("token id " + raw[i] + " is outside the vocabulary of " + config.vocabSize());
        }
        return forwardEmbeddings(wte.embeddings().value().rows(tokens).reshape(b, t, config.nEmbd()));
    }

    /**
     * The token embeddings {@code [1, t, d]} of one sequence, before the position embeddings are
     * added: the input {@link #forwardEmbeddings} takes, which attribution methods vary.
     *
     * @throws IllegalArgumentException if an id is outside the vocabulary
     */
    public Tensor embed(int[] ids) {
        for (int id : ids)
            if (id < 0 || id >= config.vocabSize()) throw new IllegalArgumentException("token id " + id + " is outside the vocabulary of " + config.vocabSize());
        return wte.embeddings().value().rows(ids).reshape(1, ids.length, config.nEmbd());
    }

    /**
     * Logits {@code [batch, time, vocab]} from token embeddings {@code [batch, time, d]} (position
     * embeddings are added here): {@link #forward} runs its ids' embeddings through this, so the two agree
     * exactly, and gradients flow back to {@code x}.
     *
     * @throws IllegalArgumentException if {@code x} is not {@code [batch, time, d]} or is longer than {@code nPositions}
     */
    public Tensor forwardEmbeddings(Tensor x) {
        if (x.rank() != 3 || x.dim(2) != config.nEmbd())
            throw new IllegalArgumentException("GPT-2 takes embeddings [batch, time, " + config.nEmbd() + "], got " + x.shape());
        if (x.dim(1) > config.nPositions())
            throw new IllegalArgumentException("sequence of " + x.dim(1) + " tokens is longer than the model's context of " + config.nPositions());
        x = wpe.forward(x, 0);
        for (TransformerBlock block : h) x = block.forward(x, null, null);
        return lnF.forward(x).matmul(wte.embeddings().value().transpose(0, 1));
    }

    /** An empty cache of keys and values: one per sequence being generated. */
    @Override
    public Session start() {
        return new Session(this);
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
     * One sequence being generated: the keys and values of its tokens so far ({@link AttentionCache}),
     * and the buffers a forward pass runs in. Each {@link #feed} computes only the new tokens (all
     * of a prompt at once, in batches of at most {@value #PREFILL_BATCH}, then one at a time) and
     * returns the logits of the token that follows them.
     *
     * <p>The session runs the model's own weights as they are when a token is fed (so it sees
     * training's updates), on float arrays rather than {@link Tensor}s: no graph is built, and
     * once the buffers and the cache have grown to the sequence, decoding a token allocates
     * nothing of its own (the array returned is the session's, overwritten by the next call).
     * Weights are multiplied as they are stored, {@code [in, out]}, through {@link Gemm}; the
     * logits come from the token embedding {@code [vocab, d]} as a {@link WeightMatrix}. Not
     * thread-safe: one thread feeds a session.
     */
    public static final class Session implements CausalLm.Session {
        /** Tokens run through the layers together, at most. */
        static final int PREFILL_BATCH = 128;

        private final Gpt2 model;
        private final int d, ff;
        private final AttentionCache cache;
        private final float[] logits;
        private int length;
        /** Rows the batch buffers hold. */
        private int rows;
        private float[] x, xb, qkv, q, att, hidden, mean, rstd;
        /** Room for {@code x A} of LoRA adapters, {@code [rows, r]}; grown when a larger rank shows up. */
        private float[] loraTemp = new float[0];
        /** The classifier over the embedding array it was made for (rebuilt if the parameter is replaced). */
        private WeightMatrix classifier;
        private float[] classifierSource;

        Session(Gpt2 model) {
            this.model = model;
            Gpt2Config c = model.config;
            d = c.nEmbd();
            ff = 4 * d;
            cache = new AttentionCache(c.nLayer(), c.nPositions(), c.nHead(), c.nHead(), d / c.nHead());
            logits = new float[c.vocabSize()];
            ensureRows(1);
        }

        /** @throws IllegalArgumentException if the sequence would outgrow the context or an id is outside the vocabulary */
        @Override
        public float[] feed(int[] ids) {
            Gpt2Config config = model.config;
            if (ids.length == 0) throw new IllegalArgumentException("no tokens to feed");
            if (ids.length > config.nPositions() - length)
                throw new IllegalArgumentException("sequence of " + ((long) length + ids.length) + " tokens is longer than the model's context of " + config.nPositions());
            for (int id : ids)
                if (id < 0 || id >= config.vocabSize()) throw new IllegalArgumentException("token id " + id + " is outside the vocabulary of " + config.vocabSize());
            for (int from = 0; from < ids.length; from += PREFILL_BATCH)
                forward(ids, from, Math.min(PREFILL_BATCH, ids.length - from), from + PREFILL_BATCH >= ids.length);
            return logits;
        }

        @Override
        public int length() {
            return length;
        }

        /** Key/value positions allocated so far. */
        int cacheCapacity() {
            return cache.capacity();
        }

        /** Runs {@code n} tokens {@code ids[from ..]} through every block; the logits of the last one if asked. */
        private void forward(int[] ids, int from, int n, boolean wantLogits) {
            ensureRows(n);
            cache.reserve(length + n);
            int start = length;
            float[] tokens = model.wte.embeddings().value().buffer(), positions = model.wpe.table().buffer();
            for (int i = 0; i < n; i++) VectorMath.add(tokens, ids[from + i] * d, positions, (start + i) * d, x, i * d, d);
            for (int l = 0; l < model.h.length; l++) {
                TransformerBlock block = model.h[l];
                MultiHeadAttention attention = block.attention();
                normalize(block.norm1(), x, xb, n);
                linear(attention.qkv(), xb, n, qkv);
                for (int i = 0; i < n; i++) {
                    System.arraycopy(qkv, i * 3 * d, q, i * d, d);
                    cache.put(l, start + i, qkv, i * 3 * d + d, qkv, i * 3 * d + 2 * d);
                }
                cache.attend(l, q, n, start, att);
                linear(attention.output(), att, n, xb);
                VectorMath.add(x, 0, xb, 0, x, 0, n * d);
                normalize(block.norm2(), x, xb, n);
                linear(block.fc(), xb, n, hidden);
                VectorMath.geluTanh(hidden, 0, hidden, 0, n * ff);
                linear(block.proj(), hidden, n, xb);
                VectorMath.add(x, 0, xb, 0, x, 0, n * d);
            }
            length += n;
            if (wantLogits) {
                System.arraycopy(x, (n - 1) * d, att, 0, d);
                normalize(model.lnF, att, xb, 1);
                classifier(tokens).gemv(xb, 0, logits, 0);
            }
        }

        /** Layer norm of rows {@code 0 .. n-1} of {@code in} into {@code out}. */
        private void normalize(LayerNorm norm, float[] in, float[] out, int n) {
            LayerNormKernel.forward(in, norm.gamma().value().buffer(), norm.beta().value().buffer(), (float) norm.epsilon(),
                    out, mean, rstd, n, d);
        }

        /**
         * {@code out [n, units] = in [n, inputs] kernel + bias}, plus each attached LoRA adapter's
         * {@code scale · in A B} on its columns: the dense layer without its activation.
         */
        private void linear(Dense dense, float[] in, int n, float[] out) {
            float[] kernel = dense.kernel().value().buffer();
            int units = dense.units(), inputs = kernel.length / units;
            Gemm.sgemm(false, false, n, units, inputs, 1f, in, 0, inputs, kernel, 0, units, 0f, out, 0, units);
            float[] bias = dense.bias().value().buffer();
            for (int i = 0; i < n; i++) VectorMath.add(out, i * units, bias, 0, out, i * units, units);
            List<LoraAdapter> adapters = dense.adapters();
            for (int i = 0; i < adapters.size(); i++) { // indexed: no iterator per call
                LoraAdapter adapter = adapters.get(i);
                if (loraTemp.length < rows * adapter.rank()) loraTemp = new float[rows * adapter.rank()];
                adapter.addTo(in, n, out, units, loraTemp);
            }
        }

        private WeightMatrix classifier(float[] embedding) {
            if (embedding != classifierSource) {
                classifier = WeightMatrix.of(embedding, model.config.vocabSize(), d);
                classifierSource = embedding;
            }
            return classifier;
        }

        /** Batch buffers for at least {@code n} rows; they grow by doubling, up to {@value #PREFILL_BATCH}. */
        private void ensureRows(int n) {
            if (n <= rows) return;
            rows = Math.min(PREFILL_BATCH, Math.max(n, 2 * rows));
            x = new float[rows * d];
            xb = new float[rows * d];
            q = new float[rows * d];
            att = new float[rows * d];
            qkv = new float[rows * 3 * d];
            hidden = new float[rows * ff];
            mean = new float[rows];
            rstd = new float[rows];
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
            throw new FormatException(dir.resolve("model.safetensors"), HuggingFaceLayout.inHfNames(e.getMessage(), NAMES));
        }
        return model;
    }

    /**
     * Writes {@code dir/config.json} and {@code dir/model.safetensors} in HuggingFace's layout and
     * names (the file {@link #load} reads, and HuggingFace's {@code GPT2LMHeadModel} too). Each file
     * is replaced atomically.
     *
     * @throws IllegalStateException if LoRA adapters are attached (their weights are not part of the model's files)
     */
    public void save(Path dir) throws IOException {
        if (hasAdapters())
            throw new IllegalStateException("this GPT-2 has LoRA adapters attached: merge them into the weights (LoraAdapters.merge) or detach them before saving"
                    + " the model; save the adapters themselves with LoraAdapters.toPeft(...).write(dir)");
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("model_type", "gpt2");
        c.put("architectures", List.of("GPT2LMHeadModel"));
        c.put("vocab_size", config.vocabSize());
        c.put("n_positions", config.nPositions());
        c.put("n_ctx", config.nPositions());
        c.put("n_embd", config.nEmbd());
        c.put("n_layer", config.nLayer());
        c.put("n_head", config.nHead());
        c.put("layer_norm_epsilon", config.layerNormEpsilon());
        c.put("activation_function", "gelu_new");
        c.put("tie_word_embeddings", true);
        HuggingFaceLayout.save(dir, c, stateDict(), NAMES, false);
    }

    /**
     * HuggingFace's GPT-2 tensor names mapped onto this class's: a {@code transformer.} prefix and
     * the {@code lm_head} (tied to {@code wte}) and causal-mask buffers ({@code attn.bias},
     * {@code attn.masked_bias}) of older checkpoints are dropped; modules are renamed
     * ({@code attn.c_attn} is {@code attention.qkv}, {@code mlp.c_fc} is {@code fc}, ...); layer
     * norms' weight and bias become gamma and beta, linear layers' weight becomes kernel,
     * embeddings' weight becomes embeddings.
     */
    public static Map<String, Tensor> fromHuggingFace(Map<String, Tensor> hf) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        hf.forEach((name, value) -> {
            String n = name.startsWith("transformer.") ? name.substring("transformer.".length()) : name;
            if (n.equals("lm_head.weight") || n.endsWith(".attn.bias") || n.endsWith(".attn.masked_bias")) return;
            HuggingFaceLayout.toJumbo(n, value, NAMES, false, out);
        });
        return out;
    }

    /** Children registered as {@code 0}, {@code 1}, ... (HuggingFace's {@code h.0}, {@code h.1}). */
    static final class Numbered extends Module {
        private int count;

        <M extends Module> M add(M child) {
            return register(Integer.toString(count++), child);
        }

        @Override
        public Tensor forward(Tensor x) {
            throw new UnsupportedOperationException("numbered children run from their model's forward");
        }
    }
}
