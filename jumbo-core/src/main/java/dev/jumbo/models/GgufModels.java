package dev.jumbo.models;

import dev.jumbo.io.FormatException;
import dev.jumbo.io.Gguf;
import dev.jumbo.io.GgufFile;
import dev.jumbo.io.GgufTensor;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.tensor.WeightMatrix;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * BERT and GPT-2 from GGUF files, as llama.cpp's converter writes them ({@code bert.*} and
 * {@code gpt2.*} hyper-parameters, {@code token_embd}, {@code blk.N.*} tensors). These models are
 * Jumbo's trainable {@link Bert} and {@link Gpt2}, so their weights are converted to F32 on the
 * heap (quantized ones dequantized); GGUF's names are mapped to HuggingFace's and loaded as a
 * HuggingFace checkpoint would be. Llama files run on their mapped weights: {@link LlamaGguf}.
 *
 * <pre>{@code
 * Bert minilm = GgufModels.bert(Path.of("all-minilm-l6-v2-q8_0.gguf"));
 * }</pre>
 */
public final class GgufModels {
    private GgufModels() {}

    /**
     * A BERT encoder from a {@code general.architecture = bert} file.
     *
     * @throws FormatException naming the file and the missing or misshapen key or tensor
     */
    public static Bert bert(Path file) throws IOException {
        try (GgufFile g = Gguf.open(file)) {
            architecture(g, "bert");
            int hidden = positive(g, "bert.embedding_length"), layers = positive(g, "bert.block_count");
            Map<String, Tensor> hf = new LinkedHashMap<>();
            put(g, hf, "token_embd.weight", "embeddings.word_embeddings.weight");
            put(g, hf, "position_embd.weight", "embeddings.position_embeddings.weight");
            put(g, hf, "token_types.weight", "embeddings.token_type_embeddings.weight");
            put(g, hf, "token_embd_norm", "embeddings.LayerNorm");
            for (int i = 0; i < layers; i++) {
                String b = "blk." + i + ".", e = "encoder.layer." + i + ".";
                put(g, hf, b + "attn_q", e + "attention.self.query");
                put(g, hf, b + "attn_k", e + "attention.self.key");
                put(g, hf, b + "attn_v", e + "attention.self.value");
                put(g, hf, b + "attn_output", e + "attention.output.dense");
                put(g, hf, b + "attn_output_norm", e + "attention.output.LayerNorm");
                put(g, hf, b + "ffn_up", e + "intermediate.dense");
                put(g, hf, b + "ffn_down", e + "output.dense");
                put(g, hf, b + "layer_output_norm", e + "output.LayerNorm");
            }
            Tensor words = hf.get("embeddings.word_embeddings.weight"), positions = hf.get("embeddings.position_embeddings.weight"),
                    types = hf.get("embeddings.token_type_embeddings.weight");
            try {
                BertConfig config = new BertConfig(words.dim(0), hidden, layers, positive(g, "bert.attention.head_count"),
                        positive(g, "bert.feed_forward_length"), positions.dim(0), types.dim(0), epsilon(g, "bert.attention.layer_norm_epsilon"));
                return Bert.withWeights(config, hf);
            } catch (IllegalArgumentException e) {
                throw new FormatException(file, e.getMessage());
            }
        }
    }

    /**
     * A GPT-2 from a {@code general.architecture = gpt2} file. llama.cpp stores GPT-2's
     * {@code c_attn}, {@code c_proj} and {@code c_fc} as [out, in] (transposed from HuggingFace's
     * Conv1D); they are turned back.
     *
     * @throws FormatException naming the file and the missing or misshapen key or tensor
     */
    public static Gpt2 gpt2(Path file) throws IOException {
        try (GgufFile g = Gguf.open(file)) {
            architecture(g, "gpt2");
            int layers = positive(g, "gpt2.block_count");
            Map<String, Tensor> hf = new LinkedHashMap<>();
            put(g, hf, "token_embd.weight", "wte.weight");
            put(g, hf, "position_embd.weight", "wpe.weight");
            put(g, hf, "output_norm", "ln_f");
            for (int i = 0; i < layers; i++) {
                String b = "blk." + i + ".", h = "h." + i + ".";
                put(g, hf, b + "attn_norm", h + "ln_1");
                put(g, hf, b + "attn_qkv", h + "attn.c_attn");
                put(g, hf, b + "attn_output", h + "attn.c_proj");
                put(g, hf, b + "ffn_norm", h + "ln_2");
                put(g, hf, b + "ffn_up", h + "mlp.c_fc");
                put(g, hf, b + "ffn_down", h + "mlp.c_proj");
            }
            hf.replaceAll((name, t) -> name.startsWith("h.") && name.endsWith(".weight") && t.rank() == 2 ? t.transpose(0, 1).contiguous() : t);
            Tensor words = hf.get("wte.weight"), positions = hf.get("wpe.weight");
            try {
                Gpt2Config config = new Gpt2Config(words.dim(0), positions.dim(0), words.dim(1), layers,
                        positive(g, "gpt2.attention.head_count"), epsilon(g, "gpt2.attention.layer_norm_epsilon"));
                Gpt2 model = new Gpt2(config);
                model.loadStateDict(Gpt2.fromHuggingFace(hf));
                return model;
            } catch (IllegalArgumentException e) {
                throw new FormatException(file, e.getMessage());
            }
        }
    }

    private static void architecture(GgufFile g, String expected) throws FormatException {
        String arch = g.string("general.architecture");
        if (!arch.equals(expected)) throw new FormatException(g.file(), "general.architecture is '" + arch + "', not '" + expected + "'");
    }

    /** A float32 epsilon as the decimal it was written from (1e-5, not 9.99999974e-6), as HuggingFace's config would give it. */
    private static double epsilon(GgufFile g, String key) throws FormatException {
        return Double.parseDouble(Float.toString((float) g.number(key)));
    }

    private static int positive(GgufFile g, String key) throws FormatException {
        long v = g.integer(key);
        if (v <= 0 || v > Integer.MAX_VALUE) throw new FormatException(g.file(), "key '" + key + "' is " + v + ", not a positive int");
        return (int) v;
    }

    /**
     * {@code gguf} (a tensor name, or a module whose {@code .weight} and {@code .bias} are both
     * taken when present) under the HuggingFace name {@code hf}, as F32 in PyTorch's dimension order.
     */
    private static void put(GgufFile g, Map<String, Tensor> out, String gguf, String hf) throws FormatException {
        if (gguf.endsWith(".weight")) {
            out.put(hf, f32(g, gguf));
            return;
        }
        out.put(hf + ".weight", f32(g, gguf + ".weight"));
        if (g.hasTensor(gguf + ".bias")) out.put(hf + ".bias", f32(g, gguf + ".bias"));
    }

    private static Tensor f32(GgufFile g, String name) throws FormatException {
        GgufTensor info = g.tensorInfo(name);
        if (!info.type().isQuantized()) return g.tensor(name);
        WeightMatrix m = g.matrix(name); // a block type: dequantized row by row
        float[] values = new float[Math.multiplyExact(m.rows(), m.cols())];
        for (int r = 0; r < m.rows(); r++) m.row(r, values, r * m.cols());
        return Tensor.of(values, m.rows(), m.cols());
    }
}
