package dev.jumbo.models;

import dev.jumbo.io.FormatException;
import dev.jumbo.io.Safetensors;
import dev.jumbo.nn.Activation;
import dev.jumbo.nn.Dense;
import dev.jumbo.nn.Embedding;
import dev.jumbo.nn.Layer;
import dev.jumbo.nn.LayerNorm;
import dev.jumbo.nn.Module;
import dev.jumbo.tensor.GradMode;
import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.text.EncodedBatch;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A BERT encoder: word, position and token-type embeddings with a layer norm, then post-LN
 * blocks (bidirectional self-attention with a padding mask, then a GELU MLP, each followed by
 * {@code LayerNorm(x + sublayer(x))}).
 *
 * <pre>{@code
 * Bert bert = Bert.load(Path.of("models/all-MiniLM-L6-v2"));
 * float[][] vectors = bert.embed(new int[][] {{101, 7592, 2088, 102}}, true);   // mean-pooled, L2-normalised
 * }</pre>
 *
 * <p>Module names follow HuggingFace's ({@code encoder.layer.0.attention.self.query}); its linear
 * weights are stored [out, in] and are transposed into Dense kernels [in, out] by {@link #fromHuggingFace}.
 */
public final class Bert extends Module {
    /** Added to the attention scores of padding keys: exp of it is 0, with no infinity arithmetic. */
    private static final float MASKED = -1e9f;

    private final BertConfig config;
    private final Embedding words;
    private final Embedding positions;
    private final Embedding types;
    private final LayerNorm embeddingNorm;
    private final Encoder[] layers;
    private final Dense mlmDense;
    private final LayerNorm mlmNorm;
    private final Tensor mlmBias;

    /** A BERT encoder of the given shape with fresh weights, without the masked-LM head. */
    public Bert(BertConfig c) {
        this(c, false);
    }

    /** A BERT of the given shape with fresh weights; {@code mlmHead} adds BertForMaskedLM's prediction head ({@code cls.predictions}). */
    public Bert(BertConfig c, boolean mlmHead) {
        this.config = c;
        int d = c.hiddenSize();
        Node embeddings = register("embeddings", new Node());
        words = built(embeddings.add("word_embeddings", new Embedding(c.vocabSize(), d)), Shape.of(1));
        positions = built(embeddings.add("position_embeddings", new Embedding(c.maxPositionEmbeddings(), d)), Shape.of(1));
        types = built(embeddings.add("token_type_embeddings", new Embedding(c.typeVocabSize(), d)), Shape.of(1));
        embeddingNorm = built(embeddings.add("LayerNorm", new LayerNorm(c.layerNormEps())), Shape.of(d));
        Node layer = register("encoder", new Node()).add("layer", new Node());
        layers = new Encoder[c.numHiddenLayers()];
        for (int i = 0; i < layers.length; i++) layers[i] = layer.add(Integer.toString(i), new Encoder(c));
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
            Tensor h = forward(Tensor.of(f, 1, ids.length));
            return mlmNorm.forward(mlmDense.forward(h)).matmul(words.embeddings().value().transpose(0, 1)).add(mlmBias).toFloatArray();
        }
    }

    private static <L extends Layer> L built(L layer, Shape input) {
        layer.build(input);
        return layer;
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
        int[] tokens = new int[raw.length], pos = new int[t], zeros = new int[t];
        for (int i = 0; i < raw.length; i++) {
            tokens[i] = (int) raw[i];
            if (tokens[i] != raw[i] || tokens[i] < 0 || tokens[i] >= config.vocabSize())
                throw new IllegalArgumentException("token id " + raw[i] + " is outside the vocabulary of " + config.vocabSize());
        }
        for (int i = 0; i < t; i++) pos[i] = i;
        Tensor x = words.embeddings().value().rows(tokens).reshape(b, t, d)
                .add(positions.embeddings().value().rows(pos)).add(types.embeddings().value().rows(zeros));
        x = embeddingNorm.forward(x);
        float[] m = mask.toFloatArray(), additive = new float[m.length];
        for (int i = 0; i < m.length; i++) additive[i] = m[i] != 0 ? 0f : MASKED;
        Tensor keyMask = Tensor.of(additive, b, 1, 1, t);
        for (Encoder e : layers) x = e.forward(x, keyMask);
        return x;
    }

    /**
     * Sentence vectors: the last hidden state averaged over each sequence's tokens (padding
     * excluded), optionally L2-normalised, as sentence-transformers' mean pooling. Sequences may
     * differ in length; they are padded to the longest.
     */
    public float[][] embed(int[][] sequences, boolean normalize) {
        return embed(EncodedBatch.pad(sequences, Integer.MAX_VALUE, 0, false), false, normalize);
    }

    /**
     * Vectors of a padded batch (as {@link dev.jumbo.text.WordPiece#encodeBatch} makes): the mean
     * over each text's tokens, or with {@code cls} its first token's hidden state; optionally L2-normalised.
     */
    public float[][] embed(EncodedBatch batch, boolean cls, boolean normalize) {
        int b = batch.ids().length, t = b == 0 ? 0 : batch.ids()[0].length, d = config.hiddenSize();
        float[] ids = new float[b * t], mask = new float[b * t];
        for (int i = 0; i < b; i++)
            for (int j = 0; j < t; j++) {
                ids[i * t + j] = batch.ids()[i][j];
                mask[i * t + j] = batch.attentionMask()[i][j];
            }
        float[] h;
        try (var scope = GradMode.noGrad()) {
            h = forward(Tensor.of(ids, b, t), Tensor.of(mask, b, t)).toFloatArray();
        }
        float[][] out = new float[b][d];
        for (int i = 0; i < b; i++) {
            double[] sum = new double[d];
            int n = cls ? Math.min(1, batch.lengths()[i]) : batch.lengths()[i];
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
        boolean head = hf.containsKey("cls.predictions.transform.dense.weight");
        Bert model = new Bert(config, head);
        try {
            model.loadStateDict(fromHuggingFace(hf));
        } catch (IllegalArgumentException e) {
            throw new FormatException(dir.resolve("model.safetensors"), e.getMessage());
        }
        return model;
    }

    /**
     * Writes {@code dir/config.json} and {@code dir/model.safetensors} in HuggingFace's layout and
     * names ({@code BertModel}: linear weights [out, in]), each file replaced atomically.
     */
    public void save(Path dir) throws IOException {
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
        HuggingFaceLayout.save(dir, c, stateDict(), true);
    }

    /**
     * HuggingFace's BERT names onto this class's: a {@code bert.} prefix, {@code position_ids}
     * buffers, the pooler and heads other than the masked-LM one are dropped; linear weights are
     * transposed into kernels, layer norms' weight/bias become gamma/beta, embeddings' weight
     * becomes embeddings.
     */
    public static Map<String, Tensor> fromHuggingFace(Map<String, Tensor> hf) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        hf.forEach((name, value) -> {
            String n = name.startsWith("bert.") ? name.substring(5) : name;
            // the pooler, other heads, and the decoder copies of the tied embeddings and bias are not used
            if (n.startsWith("pooler.") || n.endsWith("position_ids") || n.startsWith("cls.") && !n.startsWith("cls.predictions.")
                    || n.startsWith("cls.predictions.decoder.")) return;
            HuggingFaceLayout.toJumbo(n, value, true, out);
        });
        return out;
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

    /** One post-LN encoder block. */
    static final class Encoder extends Module {
        private final int heads;
        private final int headDim;
        private final Dense query;
        private final Dense key;
        private final Dense value;
        private final Dense attentionOut;
        private final LayerNorm attentionNorm;
        private final Dense intermediate;
        private final Dense output;
        private final LayerNorm outputNorm;

        Encoder(BertConfig c) {
            int d = c.hiddenSize();
            heads = c.numAttentionHeads();
            headDim = d / heads;
            Node attention = register("attention", new Node());
            Node self = attention.add("self", new Node());
            query = built(self.add("query", new Dense(d, Activation.LINEAR)), Shape.of(d));
            key = built(self.add("key", new Dense(d, Activation.LINEAR)), Shape.of(d));
            value = built(self.add("value", new Dense(d, Activation.LINEAR)), Shape.of(d));
            Node attentionOutput = attention.add("output", new Node());
            attentionOut = built(attentionOutput.add("dense", new Dense(d, Activation.LINEAR)), Shape.of(d));
            attentionNorm = built(attentionOutput.add("LayerNorm", new LayerNorm(c.layerNormEps())), Shape.of(d));
            intermediate = built(register("intermediate", new Node()).add("dense", new Dense(c.intermediateSize(), Activation.GELU)), Shape.of(d));
            Node out = register("output", new Node());
            output = built(out.add("dense", new Dense(d, Activation.LINEAR)), Shape.of(c.intermediateSize()));
            outputNorm = built(out.add("LayerNorm", new LayerNorm(c.layerNormEps())), Shape.of(d));
        }

        Tensor forward(Tensor x, Tensor keyMask) {
            int b = x.dim(0), t = x.dim(1), d = heads * headDim;
            Tensor q = heads(query.forward(x), b, t), k = heads(key.forward(x), b, t), v = heads(value.forward(x), b, t);
            Tensor att = q.matmul(k.transpose(2, 3)).mul((float) (1 / Math.sqrt(headDim))).add(keyMask).softmax();
            Tensor context = att.matmul(v).permute(0, 2, 1, 3).reshape(b, t, d);
            x = attentionNorm.forward(x.add(attentionOut.forward(context)));
            return outputNorm.forward(x.add(output.forward(intermediate.forward(x))));
        }

        private Tensor heads(Tensor x, int b, int t) {
            return x.reshape(b, t, heads, headDim).permute(0, 2, 1, 3);
        }

        @Override
        public Tensor forward(Tensor x) {
            return forward(x, Tensor.zeros(x.dim(0), 1, 1, x.dim(1)));
        }
    }
}
