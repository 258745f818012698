package dev.jumbo.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumbo.io.FormatException;
import dev.jumbo.io.GgmlType;
import dev.jumbo.io.Gguf;
import dev.jumbo.io.GgufFile;
import dev.jumbo.io.GgufTensor;
import dev.jumbo.io.GgufValueType;
import dev.jumbo.io.GgufWriter;
import dev.jumbo.io.Json;
import dev.jumbo.io.Safetensors;
import dev.jumbo.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** BERT and GPT-2 from GGUF: all-MiniLM-L6-v2 in Q8_0 against ONNX Runtime's reference, and a GPT-2 written in llama.cpp's layout. */
class GgufModelsTest {
    private static final Path DATA = SharedData.dir();

    @TempDir
    Path tmp;

    @Test
    void miniLmInQ8_0GivesOnnxRuntimesEmbeddings() throws Exception {
        Bert bert = GgufModels.bert(DATA.resolve("gguf/all-minilm-l6-v2-q8_0.gguf"));
        assertThat(bert.config().hiddenSize()).isEqualTo(384);
        Map<?, ?> ref = (Map<?, ?>) Json.parse(Files.readString(DATA.resolve("reference/minilm-reference.json")));
        List<?> items = (List<?>) ref.get("items");
        assertThat(items).hasSize(5);
        for (Object o : items) {
            Map<?, ?> item = (Map<?, ?>) o;
            int[] ids = ((List<?>) item.get("input_ids")).stream().mapToInt(x -> ((Long) x).intValue()).toArray();
            float[] got = bert.embed(new int[][] {ids}, true)[0];
            List<?> want = (List<?>) item.get("embedding");
            double cosine = 0;
            for (int k = 0; k < got.length; k++) cosine += got[k] * ((Number) want.get(k)).doubleValue();
            assertThat(cosine).as("cosine to the fp32 reference for '%s'", item.get("text")).isGreaterThanOrEqualTo(0.999);
        }
    }

    /** The GPT-2 fixture (HuggingFace layout) written as llama.cpp's converter writes GPT-2: names mapped, Conv1D weights [out, in]. */
    private Path gpt2Gguf() throws Exception {
        Path dir = Path.of(GgufModelsTest.class.getResource("/gpt2-tiny").toURI());
        Gpt2Config c = Gpt2Config.read(dir.resolve("config.json"));
        Map<String, Tensor> hf = Safetensors.read(dir.resolve("model.safetensors"));
        GgufWriter w = new GgufWriter().put("general.architecture", "gpt2")
                .put("gpt2.block_count", GgufValueType.UINT32, c.nLayer()).put("gpt2.context_length", GgufValueType.UINT32, c.nPositions())
                .put("gpt2.embedding_length", GgufValueType.UINT32, c.nEmbd()).put("gpt2.feed_forward_length", GgufValueType.UINT32, 4 * c.nEmbd())
                .put("gpt2.attention.head_count", GgufValueType.UINT32, c.nHead())
                .put("gpt2.attention.layer_norm_epsilon", GgufValueType.FLOAT32, (float) c.layerNormEpsilon());
        Map<String, String> names = new java.util.LinkedHashMap<>();
        names.put("wte.weight", "token_embd.weight");
        names.put("wpe.weight", "position_embd.weight");
        names.put("ln_f.weight", "output_norm.weight");
        names.put("ln_f.bias", "output_norm.bias");
        for (int i = 0; i < c.nLayer(); i++)
            for (String[] p : new String[][] {{"ln_1", "attn_norm"}, {"attn.c_attn", "attn_qkv"}, {"attn.c_proj", "attn_output"}, {"ln_2", "ffn_norm"},
                    {"mlp.c_fc", "ffn_up"}, {"mlp.c_proj", "ffn_down"}})
                for (String leaf : new String[] {".weight", ".bias"}) names.put("h." + i + "." + p[0] + leaf, "blk." + i + "." + p[1] + leaf);
        for (Map.Entry<String, String> e : names.entrySet()) {
            Tensor t = hf.containsKey(e.getKey()) ? hf.get(e.getKey()) : hf.get("transformer." + e.getKey());
            assertThat(t).as(e.getKey()).isNotNull();
            if (e.getKey().startsWith("h.") && t.rank() == 2) t = t.transpose(0, 1).contiguous();
            int[] shape = t.shape().toArray();
            long[] dims = new long[shape.length];
            for (int k = 0; k < shape.length; k++) dims[k] = shape[shape.length - 1 - k]; // ggml order: the contiguous axis first
            w.addTensor(e.getValue(), GgmlType.F32, dims, MemorySegment.ofArray(t.toFloatArray()));
        }
        Path file = tmp.resolve("gpt2-tiny.gguf");
        w.write(file);
        return file;
    }

    @Test
    void gpt2InLlamaCppsLayoutGivesTheSameLogits() throws Exception {
        Path dir = Path.of(GgufModelsTest.class.getResource("/gpt2-tiny").toURI());
        Gpt2 fromHf = Gpt2.load(dir), fromGguf = GgufModels.gpt2(gpt2Gguf());
        assertThat(fromGguf.config()).isEqualTo(fromHf.config());
        int[] ids = {3, 14, 15, 9, 2, 6};
        assertThat(fromGguf.logits(ids)).containsExactly(fromHf.logits(ids));
    }

    @Test
    void gpt2WriterLaysOutWhatLlamaCppsConverterWritesAndLoadsBackWithIdenticalLogits() throws Exception {
        Gpt2 fromHf = Gpt2.load(Path.of(GgufModelsTest.class.getResource("/gpt2-tiny").toURI()));
        Path written = tmp.resolve("written.gguf");
        GgufModels.gpt2Writer(fromHf, "gpt2-tiny").write(written);
        Gpt2 back = GgufModels.gpt2(written);
        assertThat(back.config()).isEqualTo(fromHf.config());
        int[] ids = {3, 14, 15, 9, 2, 6};
        assertThat(back.logits(ids)).containsExactly(fromHf.logits(ids));
        // tensor for tensor the file the test writes by hand in the converter's layout above
        try (GgufFile mine = Gguf.open(written); GgufFile converter = Gguf.open(gpt2Gguf())) {
            assertThat(mine.tensors()).hasSameSizeAs(converter.tensors());
            for (GgufTensor t : converter.tensors()) {
                assertThat(mine.tensorInfo(t.name()).dims()).as(t.name()).containsExactly(t.dims());
                assertThat(mine.tensor(t.name()).toFloatArray()).as(t.name()).containsExactly(converter.tensor(t.name()).toFloatArray());
            }
        }
    }

    @Test
    void theWrongArchitectureIsNamed() throws Exception {
        Path gpt2 = gpt2Gguf();
        assertThatThrownBy(() -> GgufModels.bert(gpt2)).isInstanceOf(FormatException.class).hasMessageContaining("'gpt2', not 'bert'");
        assertThatThrownBy(() -> LlamaGguf.load(gpt2, 0)).isInstanceOf(FormatException.class).hasMessageContaining("'gpt2'");
    }
}
