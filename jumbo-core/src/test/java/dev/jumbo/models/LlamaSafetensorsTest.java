package dev.jumbo.models;

import static dev.jumbo.models.LlamaTest.assertRunsAsTheReference;
import static dev.jumbo.models.LlamaTest.randomIds;
import static dev.jumbo.models.LlamaTest.tiny;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumbo.io.FormatException;
import dev.jumbo.io.Json;
import dev.jumbo.io.Safetensors;
import dev.jumbo.io.SafetensorsFolder;
import dev.jumbo.tensor.DType;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.tensor.WeightMatrix;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link LlamaSafetensors}: HuggingFace folders of random weights, against {@link LlamaTest}'s float64 reference. */
class LlamaSafetensorsTest {
    @TempDir
    Path tmp;

    /** The tensors of a HuggingFace folder holding {@code w}, by HuggingFace's names. */
    private static Map<String, Tensor> huggingFaceTensors(LlamaTest.Weights w, boolean storeTiedHead) {
        LlamaConfig c = w.c();
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("model.embed_tokens.weight", tensor(w.embedding()));
        for (int l = 0; l < c.layers(); l++) {
            String p = "model.layers." + l + ".";
            t.put(p + "input_layernorm.weight", Tensor.of(w.attentionNorm()[l].clone(), c.dim()));
            t.put(p + "self_attn.q_proj.weight", tensor(w.wq()[l]));
            t.put(p + "self_attn.k_proj.weight", tensor(w.wk()[l]));
            t.put(p + "self_attn.v_proj.weight", tensor(w.wv()[l]));
            t.put(p + "self_attn.o_proj.weight", tensor(w.wo()[l]));
            t.put(p + "self_attn.rotary_emb.inv_freq", Tensor.of(new float[c.headSize() / 2], c.headSize() / 2));
            t.put(p + "post_attention_layernorm.weight", Tensor.of(w.ffnNorm()[l].clone(), c.dim()));
            t.put(p + "mlp.gate_proj.weight", tensor(w.w1()[l]));
            t.put(p + "mlp.up_proj.weight", tensor(w.w3()[l]));
            t.put(p + "mlp.down_proj.weight", tensor(w.w2()[l]));
        }
        t.put("model.norm.weight", Tensor.of(w.finalNorm().clone(), c.dim()));
        if (!c.sharedClassifier() || storeTiedHead) t.put("lm_head.weight", tensor(w.output()));
        return t;
    }

    private static Tensor tensor(float[][] m) {
        return Tensor.of(LlamaTest.Weights.wm(m).data().toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT), m.length, m[0].length);
    }

    private Path folder(LlamaConfig c, String name) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve(name));
        Files.writeString(dir.resolve("config.json"), """
                {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": %d, "intermediate_size": %d,
                 "num_hidden_layers": %d, "num_attention_heads": %d, "num_key_value_heads": %d, "vocab_size": %d,
                 "max_position_embeddings": %d, "rms_norm_eps": 1e-05, "rope_theta": 10000.0, "tie_word_embeddings": %s,
                 "hidden_act": "silu", "attention_bias": false, "rope_scaling": null, "torch_dtype": "float32"}
                """.formatted(c.dim(), c.hiddenDim(), c.layers(), c.heads(), c.kvHeads(), c.vocabSize(), c.contextLength(), c.sharedClassifier()));
        return dir;
    }

    private Path saveHuggingFace(LlamaTest.Weights w, boolean storeTiedHead) throws Exception {
        Path dir = folder(w.c(), "hf-" + w.c().sharedClassifier() + storeTiedHead);
        Safetensors.write(dir.resolve("model.safetensors"), huggingFaceTensors(w, storeTiedHead), Map.of("format", "pt"));
        return dir;
    }

    private static List<WeightMatrix> matrices(Llama llama) {
        List<WeightMatrix> all = new ArrayList<>(List.of(llama.embedding(), llama.output()));
        for (Llama.Layer l : llama.layers()) all.addAll(List.of(l.wq(), l.wk(), l.wv(), l.wo(), l.w1(), l.w2(), l.w3()));
        return all;
    }

    @Test
    void aHuggingFaceFolderLoadsWithRotateHalfRope() throws Exception {
        for (boolean tied : new boolean[] {false, true}) {
            LlamaTest.Weights w = LlamaTest.Weights.random(tiny(4, 2, LlamaConfig.RopeStyle.NEOX, tied), 21);
            Path dir = saveHuggingFace(w, tied);
            try (Llama llama = LlamaSafetensors.load(dir)) {
                assertThat(llama.config()).isEqualTo(w.c());
                assertThat(llama.output() == llama.embedding()).isEqualTo(tied);
                assertRunsAsTheReference(llama, w, randomIds(70, w.c().vocabSize(), 9), "HF tied=" + tied);
            }
        }
    }

    @Test
    void theWeightsAreMappedNotCopiedAndRunAsTheHeapCopyDid() throws Exception {
        LlamaTest.Weights w = LlamaTest.Weights.random(tiny(4, 2, LlamaConfig.RopeStyle.NEOX, false), 22);
        Path dir = saveHuggingFace(w, false);
        Llama heap = w.llama(); // how the loader held them before: every matrix an F32 array on the heap
        WeightMatrix embedding;
        try (Llama mapped = LlamaSafetensors.load(dir)) {
            for (WeightMatrix m : matrices(mapped)) {
                assertThat(m.type()).isEqualTo(DType.F32);
                assertThat(m.data().heapBase()).as("a heap segment would be a copy").isEmpty();
                assertThat(m.data().isMapped()).isTrue();
            }
            int[] ids = randomIds(90, w.c().vocabSize(), 3);
            // the same F32 values through the same kernels: the same bits, prefill and decode
            assertThat(mapped.logits(ids)).containsExactly(heap.logits(ids));
            Llama.Session a = mapped.start(), b = heap.start();
            for (int id : ids) assertThat(a.feed(new int[] {id})).containsExactly(b.feed(new int[] {id}));
            embedding = mapped.embedding();
        }
        float[] row = new float[w.c().dim()];
        assertThatThrownBy(() -> embedding.row(0, row, 0)).as("close() unmaps the folder").isInstanceOf(IllegalStateException.class);
    }

    @Test
    void f16AndBf16ShardsStayInTheirTypeInTheMapping() throws Exception {
        for (DType type : new DType[] {DType.F16, DType.BF16}) {
            LlamaTest.Weights w = LlamaTest.Weights.random(tiny(4, 2, LlamaConfig.RopeStyle.NEOX, false), 23);
            roundTo(w, type); // the reference then computes with exactly the values the file stores
            Path dir = folder(w.c(), "hf-" + type);
            // two shards and an index, as HuggingFace splits large checkpoints
            Map<String, Tensor> all = huggingFaceTensors(w, false);
            Map<String, Tensor> first = new LinkedHashMap<>(), second = new LinkedHashMap<>();
            Map<String, Object> weightMap = new LinkedHashMap<>();
            int i = 0;
            for (Map.Entry<String, Tensor> e : all.entrySet()) {
                boolean one = i++ % 2 == 0;
                (one ? first : second).put(e.getKey(), e.getValue());
                weightMap.put(e.getKey(), one ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors");
            }
            writeUnaligned(dir.resolve("model-00001-of-00002.safetensors"), first, type);
            writeUnaligned(dir.resolve("model-00002-of-00002.safetensors"), second, type);
            Files.writeString(dir.resolve(SafetensorsFolder.INDEX), Json.write(Map.of("metadata", Map.of(), "weight_map", weightMap), false));
            try (Llama llama = LlamaSafetensors.load(dir)) {
                for (WeightMatrix m : matrices(llama)) {
                    assertThat(m.type()).isEqualTo(type);
                    assertThat(m.data().isMapped()).isTrue();
                }
                assertRunsAsTheReference(llama, w, randomIds(40, w.c().vocabSize(), 4), type.name());
            }
        }
    }

    /** Rounds every weight of {@code w}, in place, to a value {@code type} holds exactly. */
    private static void roundTo(LlamaTest.Weights w, DType type) {
        List<float[]> rows = new ArrayList<>(List.of(w.embedding()));
        rows.addAll(List.of(w.output()));
        rows.addAll(List.of(w.attentionNorm()));
        rows.addAll(List.of(w.ffnNorm()));
        rows.add(w.finalNorm());
        for (float[][][] m : List.of(w.wq(), w.wk(), w.wv(), w.wo(), w.w1(), w.w2(), w.w3())) for (float[][] layer : m) rows.addAll(List.of(layer));
        for (float[] r : rows)
            for (int j = 0; j < r.length; j++)
                r[j] = type == DType.F16 ? Float.float16ToFloat(Float.floatToFloat16(r[j])) : Float.intBitsToFloat(Float.floatToRawIntBits(r[j]) & 0xFFFF0000);
    }

    /**
     * A safetensors file of 16-bit {@code type} values whose header has an odd length, so every
     * tensor starts at an odd byte: the kernels must read the mapping unaligned.
     */
    private static void writeUnaligned(Path file, Map<String, Tensor> tensors, DType type) throws IOException {
        Map<String, Object> header = new LinkedHashMap<>();
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            float[] v = e.getValue().toFloatArray();
            ByteBuffer b = ByteBuffer.allocate(2 * v.length).order(ByteOrder.LITTLE_ENDIAN);
            for (float x : v) b.putShort(type == DType.F16 ? Float.floatToFloat16(x) : (short) (Float.floatToRawIntBits(x) >>> 16));
            header.put(e.getKey(), Map.of("dtype", type.name(), "shape", e.getValue().shape().toArray(),
                    "data_offsets", new long[] {data.size(), data.size() + b.capacity()}));
            data.writeBytes(b.array());
        }
        String json = Json.write(header, false);
        if (json.length() % 2 == 0) json += " ";
        byte[] h = json.getBytes(StandardCharsets.UTF_8);
        ByteBuffer out = ByteBuffer.allocate(8 + h.length + data.size()).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(h.length).put(h).put(data.toByteArray());
        Files.write(file, out.array());
    }

    @Test
    void badHuggingFaceFoldersAreNamed() throws Exception {
        LlamaTest.Weights w = LlamaTest.Weights.random(tiny(4, 2, LlamaConfig.RopeStyle.NEOX, false), 21);
        Path dir = saveHuggingFace(w, false);
        Map<String, Tensor> t = new LinkedHashMap<>(Safetensors.read(dir.resolve("model.safetensors")));
        t.remove("model.layers.1.mlp.up_proj.weight");
        Safetensors.write(dir.resolve("model.safetensors"), t, Map.of());
        assertThatThrownBy(() -> LlamaSafetensors.load(dir)).isInstanceOf(FormatException.class)
                .hasMessageContaining("model.safetensors").hasMessageContaining("no tensor 'model.layers.1.mlp.up_proj.weight'");
        t.put("model.layers.1.mlp.up_proj.weight", Tensor.of(new float[48 * 31], 48, 31));
        Safetensors.write(dir.resolve("model.safetensors"), t, Map.of());
        assertThatThrownBy(() -> LlamaSafetensors.load(dir)).hasMessageContaining("'model.layers.1.mlp.up_proj.weight' has shape [48, 31], the config needs [48, 32]");
        t.put("model.layers.1.mlp.up_proj.weight", Tensor.of(new float[48 * 32], 48 * 32));
        Safetensors.write(dir.resolve("model.safetensors"), t, Map.of());
        assertThatThrownBy(() -> LlamaSafetensors.load(dir)).hasMessageContaining("'model.layers.1.mlp.up_proj.weight' has shape [1536], the config needs [48, 32]");
        t.put("model.layers.1.mlp.up_proj.weight", Tensor.of(new float[48 * 32], 48, 32));
        t.put("model.layers.0.self_attn.q_proj.bias", Tensor.of(new float[32], 32));
        Safetensors.write(dir.resolve("model.safetensors"), t, Map.of());
        assertThatThrownBy(() -> LlamaSafetensors.load(dir)).hasMessageContaining("unexpected tensors for a Llama: [model.layers.0.self_attn.q_proj.bias]");
        String config = Files.readString(dir.resolve("config.json"));
        Files.writeString(dir.resolve("config.json"), config.replace("\"rope_scaling\": null", "\"rope_scaling\": {\"rope_type\": \"llama3\"}"));
        assertThatThrownBy(() -> LlamaSafetensors.load(dir)).hasMessageContaining("config.json").hasMessageContaining("rope_scaling");
        Files.writeString(dir.resolve("config.json"), config.replace("\"num_key_value_heads\": 2", "\"num_key_value_heads\": 3"));
        assertThatThrownBy(() -> LlamaSafetensors.load(dir)).hasMessageContaining("heads 4 is not a multiple of kv_heads 3");
    }
}
