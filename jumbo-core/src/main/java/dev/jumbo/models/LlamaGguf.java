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
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
 * {@code jumbo quantize} writes), with {@link #putTokenizer} for its vocabulary. The matrices are
 * encoded a band at a time as the file is written, from a {@link Llama} or any {@link WeightSource}.
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
     * A model's weights as {@link #writer} reads them while the file is written, by llama.cpp's
     * tensor names ({@code token_embd.weight}, {@code blk.N.attn_q.weight} ...): a matrix a band of
     * rows at a time, as F32, a norm whole. A model file is then written without the model ever
     * being in memory in F32, or at all (random weights can be drawn row by row).
     */
    public interface WeightSource {
        /**
         * Rows {@code [from, from + n)} of matrix {@code tensor} ({@code [rows, cols]}, rows the
         * outputs, as {@link Llama} holds it) as F32 into {@code out[0 .. n cols)}.
         */
        void rows(String tensor, int from, int n, int cols, float[] out);

        /** The weights of norm {@code tensor}. */
        float[] norm(String tensor);
    }

    /**
     * A GGUF writer holding {@code llama} in llama.cpp's layout (see the other {@code writer}). Its
     * matrices are read and encoded when the file is written: the model must stay open until then.
     *
     * @throws IllegalArgumentException if the model's rotary pairing is not GGUF's ({@link LlamaConfig.RopeStyle#NORM})
     */
    public static GgufWriter writer(Llama llama, DType type, String name, Consumer<String> keptF32) {
        Map<String, WeightMatrix> matrices = new HashMap<>();
        Map<String, float[]> norms = new HashMap<>();
        matrices.put("token_embd.weight", llama.embedding());
        matrices.put("output.weight", llama.output());
        norms.put("output_norm.weight", llama.finalNorm());
        for (int i = 0; i < llama.config().layers(); i++) {
            Llama.Layer l = llama.layers().get(i);
            String b = "blk." + i + ".";
            norms.put(b + "attn_norm.weight", l.attentionNorm());
            norms.put(b + "ffn_norm.weight", l.ffnNorm());
            matrices.putAll(Map.of(b + "attn_q.weight", l.wq(), b + "attn_k.weight", l.wk(), b + "attn_v.weight", l.wv(),
                    b + "attn_output.weight", l.wo(), b + "ffn_gate.weight", l.w1(), b + "ffn_down.weight", l.w2(), b + "ffn_up.weight", l.w3()));
        }
        return writer(llama.config(), new WeightSource() {
            @Override
            public void rows(String tensor, int from, int n, int cols, float[] out) {
                WeightMatrix m = matrices.get(tensor);
                for (int r = 0; r < n; r++) m.row(from + r, out, r * cols);
            }

            @Override
            public float[] norm(String tensor) {
                return norms.get(tensor);
            }
        }, type, name, keptF32);
    }

    /**
     * A GGUF writer holding a model of shape {@code c} in llama.cpp's layout: {@code general.architecture}
     * "llama", the {@code llama.*} hyper-parameters, {@code general.file_type}, and the tensors
     * ({@code token_embd}, {@code blk.N.attn_q/k/v/output}, {@code blk.N.ffn_gate/down/up}, the norms
     * in F32, {@code output} unless the classifier is the embedding). Each matrix is encoded in
     * {@code type} ({@link WeightMatrix#encode}) when {@link GgufWriter#write} runs, a band of rows
     * at a time, so writing holds about {@value #BAND_VALUES} values of it at once; one whose rows
     * are not whole blocks of the type stays F32, and {@code keptF32} is told its name and row
     * length now. The tokenizer keys are the caller's ({@link #putTokenizer}); then {@link GgufWriter#write}.
     *
     * @throws IllegalArgumentException if the model's rotary pairing is not GGUF's ({@link LlamaConfig.RopeStyle#NORM})
     */
    public static GgufWriter writer(LlamaConfig c, WeightSource weights, DType type, String name, Consumer<String> keptF32) {
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
        int d = c.dim(), kv = c.kvDim(), h = c.hiddenDim();
        Matrices m = new Matrices(w, weights, type, keptF32);
        m.add("token_embd.weight", c.vocabSize(), d);
        for (int i = 0; i < c.layers(); i++) {
            String b = "blk." + i + ".";
            norm(w, b + "attn_norm.weight", weights.norm(b + "attn_norm.weight"));
            m.add(b + "attn_q.weight", d, d);
            m.add(b + "attn_k.weight", kv, d);
            m.add(b + "attn_v.weight", kv, d);
            m.add(b + "attn_output.weight", d, d);
            norm(w, b + "ffn_norm.weight", weights.norm(b + "ffn_norm.weight"));
            m.add(b + "ffn_gate.weight", h, d);
            m.add(b + "ffn_down.weight", d, h);
            m.add(b + "ffn_up.weight", h, d);
        }
        norm(w, "output_norm.weight", weights.norm("output_norm.weight"));
        if (!c.sharedClassifier()) m.add("output.weight", c.vocabSize(), d);
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

    /**
     * Values of a matrix encoded at once while writing, at most (a band of whole rows, 256 KB of
     * F32): small enough to be young garbage, where a 4 MB band went straight to a serial
     * collector's old generation and grew the heap by hundreds of MB over a model.
     */
    private static final int BAND_VALUES = 1 << 16;

    /** Adds matrices to a writer as tensors encoded from the source when the file is written. */
    private record Matrices(GgufWriter w, WeightSource weights, DType type, Consumer<String> keptF32) {
        /** Matrix {@code tensor [rows, cols]} in the type, or in F32 when its rows are not whole blocks. */
        void add(String tensor, int rows, int cols) {
            DType stored = type;
            if (cols % type.blockSize() != 0) {
                stored = DType.F32;
                keptF32.accept(tensor + " (rows of " + cols + " values, not whole blocks of " + type.blockSize() + ")");
            }
            DType encoding = stored;
            int band = Math.clamp(BAND_VALUES / Math.max(cols, 1), 1, Math.max(rows, 1));
            // ggml's dims: ne[0] is the row length
            w.addTensor(tensor, GgmlType.valueOf(stored.name()), new long[] {cols, rows}, out -> {
                float[] values = new float[band * cols];
                for (int from = 0; from < rows; from += band) {
                    int n = Math.min(band, rows - from);
                    weights.rows(tensor, from, n, cols, values);
                    out.write(WeightMatrix.encode(values, 0, n * cols, encoding));
                }
            });
        }
    }

    private static void norm(GgufWriter w, String name, float[] weights) {
        w.addTensor(name, GgmlType.F32, new long[] {weights.length}, WeightMatrix.encode(weights, 0, weights.length, DType.F32));
    }
}
