package dev.jumbo.models;

import dev.jumbo.io.FormatException;
import dev.jumbo.io.GgmlType;
import dev.jumbo.io.Gguf;
import dev.jumbo.io.GgufFile;
import dev.jumbo.io.GgufTensor;
import dev.jumbo.io.GgufValueType;
import dev.jumbo.io.GgufWriter;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.tensor.WeightMatrix;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
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

    /**
     * A writer holding {@code model} as llama.cpp's converter lays GPT-2 out, the file {@link #gpt2}
     * reads back with the same weights: {@code gpt2.*} hyper-parameters, F32 tensors
     * {@code token_embd}, {@code position_embd}, {@code output_norm} and per block {@code attn_norm},
     * {@code attn_qkv}, {@code attn_output}, {@code ffn_norm}, {@code ffn_up}, {@code ffn_down}, the
     * matrices stored [out, in] as llama.cpp has them. No tokenizer keys: the caller adds them.
     */
    public static GgufWriter gpt2Writer(Gpt2 model, String name) {
        Gpt2Config c = model.config();
        Map<String, Tensor> w = model.stateDict();
        GgufWriter out = new GgufWriter()
                .put("general.architecture", "gpt2")
                .put("general.name", name)
                .put("general.file_type", GgufValueType.UINT32, 0) // all F32
                .put("gpt2.context_length", GgufValueType.UINT32, c.nPositions())
                .put("gpt2.embedding_length", GgufValueType.UINT32, c.nEmbd())
                .put("gpt2.feed_forward_length", GgufValueType.UINT32, 4 * c.nEmbd())
                .put("gpt2.block_count", GgufValueType.UINT32, c.nLayer())
                .put("gpt2.attention.head_count", GgufValueType.UINT32, c.nHead())
                .put("gpt2.attention.layer_norm_epsilon", GgufValueType.FLOAT32, (float) c.layerNormEpsilon());
        addF32(out, "token_embd.weight", w.get("wte.embeddings"));
        addF32(out, "position_embd.weight", w.get("wpe.embeddings"));
        addF32(out, "output_norm.weight", w.get("ln_f.gamma"));
        addF32(out, "output_norm.bias", w.get("ln_f.beta"));
        for (int i = 0; i < c.nLayer(); i++) {
            String b = "blk." + i + ".", h = "h." + i + ".";
            addF32(out, b + "attn_norm.weight", w.get(h + "norm1.gamma"));
            addF32(out, b + "attn_norm.bias", w.get(h + "norm1.beta"));
            // Jumbo's kernels are [in, out] (HuggingFace's Conv1D); llama.cpp stores [out, in]
            addF32(out, b + "attn_qkv.weight", w.get(h + "attention.qkv.kernel").transpose(0, 1).contiguous());
            addF32(out, b + "attn_qkv.bias", w.get(h + "attention.qkv.bias"));
            addF32(out, b + "attn_output.weight", w.get(h + "attention.output.kernel").transpose(0, 1).contiguous());
            addF32(out, b + "attn_output.bias", w.get(h + "attention.output.bias"));
            addF32(out, b + "ffn_norm.weight", w.get(h + "norm2.gamma"));
            addF32(out, b + "ffn_norm.bias", w.get(h + "norm2.beta"));
            addF32(out, b + "ffn_up.weight", w.get(h + "fc.kernel").transpose(0, 1).contiguous());
            addF32(out, b + "ffn_up.bias", w.get(h + "fc.bias"));
            addF32(out, b + "ffn_down.weight", w.get(h + "proj.kernel").transpose(0, 1).contiguous());
            addF32(out, b + "ffn_down.bias", w.get(h + "proj.bias"));
        }
        return out;
    }

    /** {@code t} (PyTorch's dimension order) as an F32 tensor: ggml's dimensions are the same reversed. */
    private static void addF32(GgufWriter out, String name, Tensor t) {
        int[] shape = t.shape().toArray();
        long[] dims = new long[shape.length];
        for (int i = 0; i < shape.length; i++) dims[i] = shape[shape.length - 1 - i];
        float[] values = t.toFloatArray();
        ByteBuffer bytes = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(values);
        out.addTensor(name, GgmlType.F32, dims, bytes.array());
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
