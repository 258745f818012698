package dev.jumbo.models;

import dev.jumbo.io.FormatException;
import dev.jumbo.io.GgmlType;
import dev.jumbo.io.Gguf;
import dev.jumbo.io.GgufFile;
import dev.jumbo.io.GgufValueType;
import dev.jumbo.io.GgufWriter;
import dev.jumbo.tensor.DType;
import dev.jumbo.tensor.WeightMatrix;
import dev.jumbo.text.SentencePieceBpe;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Llama-architecture models from GGUF files, as llama.cpp names and describes them: the
 * {@code llama.*} hyper-parameters, {@code token_embd}, {@code blk.N.attn_q/k/v/output},
 * {@code blk.N.ffn_gate/up/down}, the norms, and {@code output} (absent when the classifier is the
 * embedding). Weights stay in the file's types in the mapping ({@link GgufFile#matrix}); only the
 * norms are read to the heap. GGUF's Llama weights are arranged for adjacent-pair rotary
 * embeddings ({@link LlamaConfig.RopeStyle#NORM}), as llama.cpp's converter permutes them.
 *
 * <pre>{@code
 * try (Llama llama = LlamaGguf.load(Path.of("stories260K.gguf"), 0)) {
 *     float[] logits = llama.logits(new int[] {1});   // after BOS
 * }
 * }</pre>
 *
 * <p>{@link #writer} goes the other way: a model's weights re-encoded in one type (what
 * {@code jumbo quantize} writes), with {@link #putTokenizer} for its vocabulary.
 */
public final class LlamaGguf {
    private LlamaGguf() {}

    /**
     * Maps the file; close the model to unmap it.
     *
     * @param contextLength positions a session may hold; 0 takes the file's {@code llama.context_length}
     *                      (llama.cpp's {@code -c}: a converted file may state less than its model can use)
     * @throws FormatException naming the file and the key or tensor that is missing, of the wrong
     *     type or shape, or a feature this runtime does not have (partial or scaled rotary embeddings)
     */
    public static Llama load(Path file, int contextLength) throws IOException {
        GgufFile gguf = Gguf.open(file);
        try {
            return build(gguf, contextLength);
        } catch (IOException | RuntimeException e) {
            gguf.close(); // nobody else will: the caller never gets the model
            throw e;
        }
    }

    private static Llama build(GgufFile g, int contextLength) throws IOException {
        Path file = g.file();
        String arch = g.string("general.architecture");
        if (!arch.equals("llama"))
            throw new FormatException(file, "general.architecture is '" + arch + "'; this loader reads 'llama' (GPT-2 and BERT files have their own)");
        int dim = intKey(g, "llama.embedding_length"), heads = intKey(g, "llama.attention.head_count");
        int kvHeads = (int) g.integer("llama.attention.head_count_kv", heads);
        WeightMatrix embedding = g.matrix("token_embd.weight");
        int vocab = embedding.rows();
        int context = contextLength > 0 ? contextLength : intKey(g, "llama.context_length");
        if (heads > 0 && dim % heads == 0 && g.integer("llama.rope.dimension_count", dim / heads) != dim / heads)
            throw new FormatException(file, "llama.rope.dimension_count is " + g.integer("llama.rope.dimension_count") + ", not the head size "
                    + dim / heads + ": partial rotary embeddings are not supported");
        String scaling = g.string("llama.rope.scaling.type", "none");
        if (!scaling.equals("none")) throw new FormatException(file, "llama.rope.scaling.type is '" + scaling + "'; scaled rotary embeddings are not supported");
        boolean shared = !g.hasTensor("output.weight");
        LlamaConfig config;
        try {
            config = new LlamaConfig(dim, intKey(g, "llama.feed_forward_length"), intKey(g, "llama.block_count"), heads, kvHeads, vocab, context,
                    (float) g.number("llama.attention.layer_norm_rms_epsilon"), g.number("llama.rope.freq_base", 10000),
                    LlamaConfig.RopeStyle.NORM, shared);
        } catch (IllegalArgumentException e) {
            throw new FormatException(file, "hyper-parameters: " + e.getMessage());
        }
        List<Llama.Layer> layers = new ArrayList<>();
        for (int i = 0; i < config.layers(); i++) {
            String b = "blk." + i + ".";
            layers.add(new Llama.Layer(norm(g, b + "attn_norm.weight"), g.matrix(b + "attn_q.weight"), g.matrix(b + "attn_k.weight"),
                    g.matrix(b + "attn_v.weight"), g.matrix(b + "attn_output.weight"), norm(g, b + "ffn_norm.weight"),
                    g.matrix(b + "ffn_gate.weight"), g.matrix(b + "ffn_down.weight"), g.matrix(b + "ffn_up.weight")));
        }
        try {
            return new Llama(config, embedding, layers, norm(g, "output_norm.weight"), shared ? embedding : g.matrix("output.weight"), g);
        } catch (IllegalArgumentException e) {
            throw new FormatException(file, e.getMessage());
        }
    }

    private static int intKey(GgufFile g, String key) throws FormatException {
        long v = g.integer(key);
        if (v <= 0 || v > Integer.MAX_VALUE) throw new FormatException(g.file(), "key '" + key + "' is " + v + ", not a positive int");
        return (int) v;
    }

    private static float[] norm(GgufFile g, String name) throws FormatException {
        return g.tensor(name).toFloatArray();
    }

    // ---------------------------------------------------------------- writing

    /** llama.cpp's {@code general.file_type} ({@code enum llama_ftype}) of a file mostly in {@code type}. */
    public static int fileType(DType type) {
        return switch (type) {
            case F32 -> 0;
            case F16 -> 1;
            case Q4_0 -> 2;
            case Q8_0 -> 7;
            case BF16 -> 32;
            default -> throw new IllegalArgumentException("no llama.cpp file type for " + type + " weights");
        };
    }

    /**
     * A GGUF writer holding {@code llama} in llama.cpp's layout: {@code general.architecture} "llama",
     * the {@code llama.*} hyper-parameters, {@code general.file_type}, and the tensors
     * ({@code token_embd}, {@code blk.N.attn_q/k/v/output}, {@code blk.N.ffn_gate/down/up}, the norms
     * in F32, {@code output} unless the classifier is the embedding). Each matrix is read as F32 and
     * encoded in {@code type} ({@link WeightMatrix#quantize}); one whose rows are not whole blocks of
     * the type stays F32, and {@code keptF32} is told its name and row length. The tokenizer keys
     * are the caller's ({@link #putTokenizer}); then {@link GgufWriter#write}.
     *
     * @throws IllegalArgumentException if the model's rotary pairing is not GGUF's ({@link LlamaConfig.RopeStyle#NORM})
     */
    public static GgufWriter writer(Llama llama, DType type, String name, Consumer<String> keptF32) {
        LlamaConfig c = llama.config();
        if (c.ropeStyle() != LlamaConfig.RopeStyle.NORM)
            throw new IllegalArgumentException("the model's q and k are arranged for " + c.ropeStyle() + " rotary embeddings; GGUF's Llama layout needs NORM");
        GgufWriter w = new GgufWriter()
                .put("general.architecture", "llama")
                .put("general.name", name)
                .put("general.file_type", GgufValueType.UINT32, fileType(type))
                .put("llama.context_length", GgufValueType.UINT32, c.contextLength())
                .put("llama.embedding_length", GgufValueType.UINT32, c.dim())
                .put("llama.feed_forward_length", GgufValueType.UINT32, c.hiddenDim())
                .put("llama.block_count", GgufValueType.UINT32, c.layers())
                .put("llama.attention.head_count", GgufValueType.UINT32, c.heads())
                .put("llama.attention.head_count_kv", GgufValueType.UINT32, c.kvHeads())
                .put("llama.rope.dimension_count", GgufValueType.UINT32, c.headSize())
                .put("llama.attention.layer_norm_rms_epsilon", GgufValueType.FLOAT32, c.rmsNormEps())
                .put("llama.rope.freq_base", GgufValueType.FLOAT32, (float) c.ropeTheta());
        matrix(w, "token_embd.weight", llama.embedding(), type, keptF32);
        for (int i = 0; i < c.layers(); i++) {
            Llama.Layer l = llama.layers().get(i);
            String b = "blk." + i + ".";
            norm(w, b + "attn_norm.weight", l.attentionNorm());
            matrix(w, b + "attn_q.weight", l.wq(), type, keptF32);
            matrix(w, b + "attn_k.weight", l.wk(), type, keptF32);
            matrix(w, b + "attn_v.weight", l.wv(), type, keptF32);
            matrix(w, b + "attn_output.weight", l.wo(), type, keptF32);
            norm(w, b + "ffn_norm.weight", l.ffnNorm());
            matrix(w, b + "ffn_gate.weight", l.w1(), type, keptF32);
            matrix(w, b + "ffn_down.weight", l.w2(), type, keptF32);
            matrix(w, b + "ffn_up.weight", l.w3(), type, keptF32);
        }
        norm(w, "output_norm.weight", llama.finalNorm());
        if (!c.sharedClassifier()) matrix(w, "output.weight", llama.output(), type, keptF32);
        return w;
    }

    /**
     * Puts a SentencePiece vocabulary as llama.cpp's {@code tokenizer.ggml.*} keys: model "llama",
     * {@code tokens}, {@code scores}, {@code token_type}, and the BOS, EOS and unknown ids it has.
     */
    public static void putTokenizer(GgufWriter w, SentencePieceBpe tok) {
        int n = tok.vocabSize();
        List<String> tokens = new ArrayList<>(n);
        List<Float> scores = new ArrayList<>(n);
        List<Integer> types = new ArrayList<>(n);
        for (int id = 0; id < n; id++) {
            tokens.add(tok.token(id));
            scores.add(tok.score(id));
            types.add(tok.type(id).ordinal());
        }
        w.put("tokenizer.ggml.model", "llama")
                .putArray("tokenizer.ggml.tokens", GgufValueType.STRING, tokens)
                .putArray("tokenizer.ggml.scores", GgufValueType.FLOAT32, scores)
                .putArray("tokenizer.ggml.token_type", GgufValueType.INT32, types);
        if (tok.bosId() >= 0) w.put("tokenizer.ggml.bos_token_id", GgufValueType.UINT32, tok.bosId());
        if (tok.eosId() >= 0) w.put("tokenizer.ggml.eos_token_id", GgufValueType.UINT32, tok.eosId());
        if (tok.unkId() >= 0) w.put("tokenizer.ggml.unknown_token_id", GgufValueType.UINT32, tok.unkId());
    }

    /** {@code m} as F32, encoded in {@code type}, or kept F32 when its rows are not whole blocks. */
    private static void matrix(GgufWriter w, String name, WeightMatrix m, DType type, Consumer<String> keptF32) {
        float[] values = new float[Math.multiplyExact(m.rows(), m.cols())];
        for (int r = 0; r < m.rows(); r++) m.row(r, values, r * m.cols());
        DType stored = type;
        if (m.cols() % type.blockSize() != 0) {
            stored = DType.F32;
            keptF32.accept(name + " (rows of " + m.cols() + " values, not whole blocks of " + type.blockSize() + ")");
        }
        WeightMatrix q = WeightMatrix.quantize(values, m.rows(), m.cols(), stored);
        // ggml's dims: ne[0] is the row length
        w.addTensor(name, GgmlType.valueOf(stored.name()), new long[] {m.cols(), m.rows()}, q.data());
    }

    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private static void norm(GgufWriter w, String name, float[] weights) {
        MemorySegment bytes = MemorySegment.ofArray(new byte[4 * weights.length]);
        MemorySegment.copy(weights, 0, bytes, F32_LE, 0, weights.length);
        w.addTensor(name, GgmlType.F32, new long[] {weights.length}, bytes);
    }
}
