package dev.jumbo.models;

import dev.jumbo.io.FormatException;
import dev.jumbo.io.Gguf;
import dev.jumbo.io.GgufFile;
import dev.jumbo.tensor.WeightMatrix;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

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
}
