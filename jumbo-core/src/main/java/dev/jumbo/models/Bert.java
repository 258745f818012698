package dev.jumbo.models;

import dev.jumbo.io.FormatException;
import dev.jumbo.lora.LoraTarget;
import dev.jumbo.nn.Activation;
import dev.jumbo.nn.Dense;
import dev.jumbo.nn.Embedding;
import dev.jumbo.nn.LayerNorm;
import dev.jumbo.nn.Module;
import dev.jumbo.nn.PositionEmbedding;
import dev.jumbo.nn.TransformerBlock;
import dev.jumbo.tensor.GradMode;
import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.text.EncodedBatch;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A BERT encoder: word, position and token-type embeddings with a layer norm, then post-LN
 * {@link TransformerBlock}s (bidirectional self-attention with a padding mask, then a GELU MLP,
 * each followed by {@code LayerNorm(x + sublayer(x))}); optionally the pooler (tanh of a dense
 * layer over the first token) and the masked-LM head.
 *
 * <pre>{@code
 * Bert bert = Bert.load(Path.of("models/all-MiniLM-L6-v2"));
 * float[][] vectors = bert.embed(new int[][] {{101, 7592, 2088, 102}}, true);   // mean-pooled, L2-normalised
 * }</pre>
 *
 * <p>Modules follow HuggingFace's nesting ({@code embeddings}, {@code encoder.layer.0},
 * {@code pooler.dense}, {@code cls.predictions}) with Jumbo's block inside each layer;
 * {@link #fromHuggingFace} maps the names and transposes HuggingFace's [out, in] linear weights
 * into Dense kernels [in, out].
 *
 * <p>LoRA: {@link #loraModules()} lists the linear layers under PEFT's module paths
 * ({@code encoder.layer.0.attention.self.query}, ...); every forward adds attached adapters.
 */
public final class Bert extends Module {
    /** How {@link #embed(EncodedBatch, Pooling, boolean)} makes one vector of a text's hidden states. */
    public enum Pooling {
        /** The mean over the text's tokens, padding excluded (sentence-transformers' default). */
        MEAN,
        /** The first token's ([CLS]) hidden state. */
        CLS,
        /** The pooler's output, {@code tanh(dense(h[CLS]))} (HuggingFace's {@code pooler_output}). */
        POOLER
    }

    /** HuggingFace's module names (left) for Jumbo's (right); {@code *} is a layer number. */
    private static final List<HuggingFaceLayout.Rename> NAMES = List.of(
            new HuggingFaceLayout.Rename("encoder.layer.*.attention.self.query", "encoder.layer.*.attention.query"),
            new HuggingFaceLayout.Rename("encoder.layer.*.attention.self.key", "encoder.layer.*.attention.key"),
            new HuggingFaceLayout.Rename("encoder.layer.*.attention.self.value", "encoder.layer.*.attention.value"),
            new HuggingFaceLayout.Rename("encoder.layer.*.attention.output.dense", "encoder.layer.*.attention.output"),
            new HuggingFaceLayout.Rename("encoder.layer.*.attention.output.LayerNorm", "encoder.layer.*.norm1"),
            new HuggingFaceLayout.Rename("encoder.layer.*.intermediate.dense", "encoder.layer.*.fc"),
            new HuggingFaceLayout.Rename("encoder.layer.*.output.dense", "encoder.layer.*.proj"),
            new HuggingFaceLayout.Rename("encoder.layer.*.output.LayerNorm", "encoder.layer.*.norm2"));

    private final BertConfig config;
    private final Embedding words;
    private final PositionEmbedding positions;
    private final Embedding types;
    private final LayerNorm embeddingNorm;
    private final TransformerBlock[] layers;
    private final Dense pooler;
    private final Dense mlmDense;
    private final LayerNorm mlmNorm;
    private final Tensor mlmBias;

    /** A BERT encoder with its pooler ({@code BertModel}) of the given shape with fresh weights. */
    public Bert(BertConfig c) {
        this(c, true, false);
    }

    /**
     * A BERT of the given shape with fresh weights; {@code pooler} adds the pooler
     * ({@code pooler.dense}), {@code mlmHead} BertForMaskedLM's prediction head ({@code cls.predictions}).
     */
    public Bert(BertConfig c, boolean pooler, boolean mlmHead) {
        this.config = c;
        int d = c.hiddenSize();
        Node embeddings = register("embeddings", new Node());
        words = built(embeddings.add("word_embeddings", new Embedding(c.vocabSize(), d)), Shape.of(1));
        positions = built(embeddings.add("position_embeddings", new PositionEmbedding(c.maxPositionEmbeddings())), Shape.of(1, d));
        types = built(embeddings.add("token_type_embeddings", new Embedding(c.typeVocabSize(), d)), Shape.of(1));
        embeddingNorm = built(embeddings.add("LayerNorm", new LayerNorm(c.layerNormEps())), Shape.of(d));
        Gpt2.Numbered layer = register("encoder", new Node()).add("layer", new Gpt2.Numbered());
        layers = new TransformerBlock[c.numHiddenLayers()];
        for (int i = 0; i < layers.length; i++)
            layers[i] = built(layer.add(new TransformerBlock(c.numAttentionHeads(), c.intermediateSize(), Activation.GELU,
                    TransformerBlock.Norm.POST, false, c.layerNormEps())), Shape.of(1, d));
        this.pooler = pooler ? built(register("pooler", new Node()).add("dense", new Dense(d, Activation.TANH)), Shape.of(d)) : null;
        if (mlmHead) {
            Node predictions = register("cls", new Node()).add("predictions", new Node());
            Node transform = predictions.add("transform", new Node());
            mlmDense = built(transform.add("dense", new Dense(d, Activation.GELU)), Shape.of(d));
            mlmNorm = built(transform.add("LayerNorm", new LayerNorm(c.layerNormEps())), Shape.of(d));
            mlmBias = predictions.parameter("bias", Tensor.zeros(c.vocabSize()));
        } else {
            mlmDense = null;
            mlmNorm = null;
            mlmBias = null;
        }
    }

    /** True when the masked-LM head is present (a BertForMaskedLM checkpoint). */
    public boolean hasMlmHead() {
        return mlmDense != null;
    }

    /** True when the pooler is present. */
    public boolean hasPooler() {
        return pooler != null;
    }

    /**
     * Vocabulary logits {@code [time, vocab]} at every position of one sequence (no padding),
     * from the masked-LM head; the output projection is the word embeddings (tied).
     *
     * @throws IllegalStateException if the model was loaded without the head
     */
    public float[] maskedLmLogits(int[] ids) {
        if (!hasMlmHead()) throw new IllegalStateException("this BERT has no masked-LM head (cls.predictions.*): load a BertForMaskedLM checkpoint");
        float[] f = new float[ids.length];
        for (int i = 0; i < ids.length; i++) f[i] = ids[i];
        try (var scope = GradMode.noGrad()) {
            return maskedLmLogits(forward(Tensor.of(f, 1, ids.length))).toFloatArray();
        }
    }

    /**
     * The masked-LM head's vocabulary logits {@code [batch, time, vocab]} of a last hidden state
     * {@code [batch, time, hidden]}, recorded for gradients.
     *
     * @throws IllegalStateException if the model was loaded without the head
     */
    public Tensor maskedLmLogits(Tensor hidden) {
        if (!hasMlmHead()) throw new IllegalStateException("this BERT has no masked-LM head (cls.predictions.*): load a BertForMaskedLM checkpoint");
        return mlmNorm.forward(mlmDense.forward(hidden)).matmul(words.embeddings().value().transpose(0, 1)).add(mlmBias);
    }

    private static <L extends dev.jumbo.nn.Layer> L built(L layer, Shape input) {
        layer.build(input);
        return layer;
    }

    /**
     * The linear layers LoRA can adapt, by the module path PEFT uses: HuggingFace's names
     * ({@code encoder.layer.0.attention.self.query}, {@code ...self.key}, {@code ...self.value},
     * {@code ...attention.output.dense}, {@code ...intermediate.dense}, {@code ...output.dense},
     * {@code pooler.dense}, {@code cls.predictions.transform.dense}), under {@code bert.} for a
     * model with the masked-LM head as {@code BertForMaskedLM} nests them. Query, key and value
     * are the thirds of Jumbo's fused projection. HuggingFace stores these weights [out, in]:
     * PEFT's {@code fan_in_fan_out} is false.
     */
    public Map<String, LoraTarget> loraModules() {
        String prefix = hasMlmHead() ? "bert." : "";
        Map<String, LoraTarget> out = new LinkedHashMap<>();
        Gpt2.denseLayers(this, "").forEach((path, dense) -> {
            String outer = path.startsWith("cls.") ? "" : prefix;
            if (path.endsWith(".qkv")) {
                int third = dense.units() / 3;
                String base = path.substring(0, path.length() - "qkv".length());
                List<String> parts = List.of("query", "key", "value");
                for (int i = 0; i < 3; i++)
                    out.put(outer + Gpt2.hfPath(base + parts.get(i), NAMES), new LoraTarget(dense, i * third, third));
            } else {
                out.put(outer + Gpt2.hfPath(path, NAMES), LoraTarget.whole(dense));
            }
        });
        return out;
    }

    /** The shape. */
    public BertConfig config() {
        return config;
    }

    /** The last hidden state {@code [batch, time, hidden]} of token ids {@code [batch, time]}, no padding. */
    @Override
    public Tensor forward(Tensor ids) {
        float[] raw = ids.toFloatArray();
        float[] ones = new float[raw.length];
        java.util.Arrays.fill(ones, 1f);
        return forward(ids, Tensor.of(ones, ids.shape()));
    }

    /**
     * The last hidden state for token ids {@code [batch, time]} and an attention mask of the same
     * shape (1 for a token, 0 for padding, which no token attends to). Token types are all 0.
     *
     * @throws IllegalArgumentException if the sequence is longer than the model's positions or an id is outside the vocabulary
     */
    public Tensor forward(Tensor ids, Tensor mask) {
        if (ids.rank() != 2 || !mask.shape().equals(ids.shape()))
            throw new IllegalArgumentException("BERT takes ids and a mask of the same shape [batch, time], got " + ids.shape() + " and " + mask.shape());
        int b = ids.dim(0), t = ids.dim(1), d = config.hiddenSize();
        if (t > config.maxPositionEmbeddings())
            throw new IllegalArgumentException("sequence of " + t + " tokens is longer than the model's " + config.maxPositionEmbeddings() + " positions");
        float[] raw = ids.toFloatArray();
        int[] tokens = new int[raw.length];
        for (int i = 0; i < raw.length; i++) {
            tokens[i] = (int) raw[i];
            if (tokens[i] != raw[i] || tokens[i] < 0 || tokens[i] >= config.vocabSize())
                throw new IllegalArgumentException("token id " + raw[i] + " is outside the vocabulary of " + config.vocabSize());
        }
        return forwardEmbeddings(words.embeddings().value().rows(tokens).reshape(b, t, d), mask);
    }

    /**
     * The word embeddings {@code [1, t, hidden]} of one sequence: the input {@link #forwardEmbeddings}
     * takes, before position and token-type embeddings and the embedding norm, which attribution methods vary.
     *
     * @throws IllegalArgumentException if an id is outside the vocabulary
     */
    public Tensor wordEmbeddings(int[] ids) {
        for (int id : ids)
            if (id < 0 || id >= config.vocabSize()) throw new IllegalArgumentException("token id " + id + " is outside the vocabulary of " + config.vocabSize());
        return words.embeddings().value().rows(ids).reshape(1, ids.length, config.hiddenSize());
    }

    /** The last hidden state {@code [batch, time, hidden]} of word embeddings {@code [batch, time, hidden]}, no padding. */
    public Tensor forwardEmbeddings(Tensor x) {
        if (x.rank() != 3)
            throw new IllegalArgumentException("BERT takes word embeddings [batch, time, " + config.hiddenSize() + "], got " + x.shape());
        float[] ones = new float[x.dim(0) * x.dim(1)];
        java.util.Arrays.fill(ones, 1f);
        return forwardEmbeddings(x, Tensor.of(ones, x.dim(0), x.dim(1)));
    }

    /**
     * The last hidden state of word embeddings {@code [batch, time, hidden]} and an attention mask
     * {@code [batch, time]}: position and token-type (all 0) embeddings are added and the embedding norm
     * applied here, so {@link #forward(Tensor, Tensor)} and this agree exactly and gradients flow back to {@code x}.
     *
     * @throws IllegalArgumentException if the shapes disagree or the sequence is longer than the model's positions
     */
    public Tensor forwardEmbeddings(Tensor x, Tensor mask) {
        int d = config.hiddenSize();
        if (x.rank() != 3 || x.dim(2) != d || !mask.shape().equals(Shape.of(x.dim(0), x.dim(1))))
            throw new IllegalArgumentException("BERT takes word embeddings [batch, time, " + d + "] and a mask [batch, time], got "
                    + x.shape() + " and " + mask.shape());
        int t = x.dim(1);
        if (t > config.maxPositionEmbeddings())
            throw new IllegalArgumentException("sequence of " + t + " tokens is longer than the model's " + config.maxPositionEmbeddings() + " positions");
        x = positions.forward(x, 0).add(types.embeddings().value().rows(new int[t]));
        x = embeddingNorm.forward(x);
        for (TransformerBlock layer : layers) x = layer.forward(x, mask, null);
        return x;
    }

    /**
     * Sentence vectors: the last hidden state averaged over each sequence's tokens (padding
     * excluded), optionally L2-normalised, as sentence-transformers' mean pooling. Sequences may
     * differ in length; they are padded to the longest.
     */
    public float[][] embed(int[][] sequences, boolean normalize) {
        return embed(EncodedBatch.pad(sequences, Integer.MAX_VALUE, 0, false), Pooling.MEAN, normalize);
    }

    /**
     * Vectors of a padded batch (as {@link dev.jumbo.text.WordPiece#encodeBatch} makes), pooled
     * as {@code pooling} says; optionally L2-normalised.
     *
     * @throws IllegalStateException for {@link Pooling#POOLER} when the model has no pooler
     */
    public float[][] embed(EncodedBatch batch, Pooling pooling, boolean normalize) {
        if (pooling == Pooling.POOLER && pooler == null)
            throw new IllegalStateException("this BERT has no pooler (pooler.dense.*): use mean or cls pooling");
        int b = batch.ids().length, t = b == 0 ? 0 : batch.ids()[0].length, d = config.hiddenSize();
        float[] ids = new float[b * t], mask = new float[b * t];
        for (int i = 0; i < b; i++)
            for (int j = 0; j < t; j++) {
                ids[i * t + j] = batch.ids()[i][j];
                mask[i * t + j] = batch.attentionMask()[i][j];
            }
        float[] h;
        try (var scope = GradMode.noGrad()) {
            Tensor hidden = forward(Tensor.of(ids, b, t), Tensor.of(mask, b, t));
            // the pooler reads the first token: its output takes that token's place and is "averaged" over 1
            h = pooling == Pooling.POOLER ? pooler.forward(hidden.slice(1, 0, 1)).toFloatArray() : hidden.toFloatArray();
            if (pooling == Pooling.POOLER) t = 1;
        }
        float[][] out = new float[b][d];
        for (int i = 0; i < b; i++) {
            double[] sum = new double[d];
            int n = pooling == Pooling.MEAN ? batch.lengths()[i] : Math.min(1, batch.lengths()[i]);
            for (int j = 0; j < n; j++)
                for (int k = 0; k < d; k++) sum[k] += h[(i * t + j) * d + k];
            double norm = 0;
            for (int k = 0; k < d; k++) {
                sum[k] /= Math.max(n, 1);
                norm += sum[k] * sum[k];
            }
            double scale = normalize ? 1 / Math.max(Math.sqrt(norm), 1e-12) : 1;
            for (int k = 0; k < d; k++) out[i][k] = (float) (sum[k] * scale);
        }
        return out;
    }

    /**
     * Loads {@code dir/config.json} and {@code dir/model.safetensors} (or the shards of
     * {@code model.safetensors.index.json}) with HuggingFace's names.
     *
     * @throws FormatException naming the file and the problem
     */
    public static Bert load(Path dir) throws IOException {
        BertConfig config = BertConfig.read(dir.resolve("config.json"));
        Map<String, Tensor> hf = dev.jumbo.io.SafetensorsFolder.read(dir);
        try {
            return withWeights(config, hf);
        } catch (IllegalArgumentException e) {
            throw new FormatException(dir.resolve("model.safetensors"), e.getMessage());
        }
    }

    /**
     * A BERT of the given shape holding HuggingFace-named weights, with the pooler and masked-LM
     * head if the weights include them.
     *
     * @throws IllegalArgumentException naming a missing, unexpected or misshapen tensor
     */
    public static Bert withWeights(BertConfig config, Map<String, Tensor> hf) {
        Map<String, Tensor> jumbo = fromHuggingFace(hf);
        Bert model = new Bert(config, jumbo.containsKey("pooler.dense.kernel"), jumbo.containsKey("cls.predictions.transform.dense.kernel"));
        try {
            model.loadStateDict(jumbo);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(HuggingFaceLayout.inHfNames(e.getMessage(), NAMES), e);
        }
        return model;
    }

    /**
     * Writes {@code dir/config.json} and {@code dir/model.safetensors} in HuggingFace's layout and
     * names ({@code BertModel}: linear weights [out, in]), each file replaced atomically.
     */
    public void save(Path dir) throws IOException {
        for (var dense : Gpt2.denseLayers(this, "").values())
            if (!dense.adapters().isEmpty())
                throw new IllegalStateException("this BERT has LoRA adapters attached: merge them into the weights (LoraAdapters.merge) or detach them before saving");
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("model_type", "bert");
        c.put("architectures", java.util.List.of("BertModel"));
        c.put("vocab_size", config.vocabSize());
        c.put("hidden_size", config.hiddenSize());
        c.put("num_hidden_layers", config.numHiddenLayers());
        c.put("num_attention_heads", config.numAttentionHeads());
        c.put("intermediate_size", config.intermediateSize());
        c.put("max_position_embeddings", config.maxPositionEmbeddings());
        c.put("type_vocab_size", config.typeVocabSize());
        c.put("layer_norm_eps", config.layerNormEps());
        c.put("hidden_act", "gelu");
        HuggingFaceLayout.save(dir, c, HuggingFaceLayout.splitQkv(stateDict()), NAMES, true);
    }

    /**
     * HuggingFace's BERT names onto this class's: a {@code bert.} prefix, {@code position_ids}
     * buffers and heads other than the masked-LM one are dropped; modules are renamed
     * ({@code attention.output.LayerNorm} is {@code norm1}, ...) and each layer's query, key and
     * value are joined into one {@code qkv} projection; linear weights are transposed into
     * kernels, layer norms' weight/bias become gamma/beta, embeddings' weight becomes embeddings.
     */
    public static Map<String, Tensor> fromHuggingFace(Map<String, Tensor> hf) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        hf.forEach((name, value) -> {
            String n = name.startsWith("bert.") ? name.substring(5) : name;
            // other heads, and the decoder copies of the tied embeddings and bias, are not used
            if (n.endsWith("position_ids") || n.startsWith("cls.") && !n.startsWith("cls.predictions.") || n.startsWith("cls.predictions.decoder.")) return;
            HuggingFaceLayout.toJumbo(n, value, NAMES, true, out);
        });
        return HuggingFaceLayout.fuseQkv(out);
    }

    /** A module that only names its children (HuggingFace's nesting: embeddings, encoder.layer, ...). */
    private static final class Node extends Module {
        <M extends Module> M add(String name, M child) {
            return register(name, child);
        }

        Tensor parameter(String name, Tensor value) {
            return addParameter(name, value).value();
        }

        @Override
        public Tensor forward(Tensor x) {
            throw new UnsupportedOperationException("a naming node has no forward");
        }
    }
}
