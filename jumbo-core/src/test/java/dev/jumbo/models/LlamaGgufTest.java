package dev.jumbo.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumbo.io.FormatException;
import dev.jumbo.io.Gguf;
import dev.jumbo.io.GgufField;
import dev.jumbo.io.GgufFile;
import dev.jumbo.io.GgufTensor;
import dev.jumbo.io.GgufValueType;
import dev.jumbo.io.GgufWriter;
import dev.jumbo.io.Json;
import dev.jumbo.tensor.WeightMatrix;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** stories260K converted to GGUF (../shared/data/llama2c/stories260K.gguf) against the llama2.c reference, and malformed variants of it. */
class LlamaGgufTest {
    private static final Path DATA = SharedData.dir();
    private static final Path MODEL = DATA.resolve("llama2c/stories260K.gguf");

    @TempDir
    Path tmp;

    private static Map<?, ?> reference() throws Exception {
        return (Map<?, ?>) Json.parse(Files.readString(DATA.resolve("reference/stories260K-reference.json")));
    }

    @Test
    void greedyTokensAndFirstLogitsEqualTheReference() throws Exception {
        Map<?, ?> ref = reference();
        int[] want = ((List<?>) ref.get("greedy_ids")).stream().mapToInt(x -> ((Long) x).intValue()).toArray();
        // the converted file states a context of 128 (the converter's default); the model was trained on 512, as the .bin says
        try (Llama llama = LlamaGguf.load(MODEL, 512); Llama fromBin = Llama2c.load(DATA.resolve("llama2c/stories260K.bin"))) {
            // the converter stored the tied classifier as a tensor of its own
            assertThat(llama.config()).isEqualTo(new LlamaConfig(64, 172, 5, 8, 4, 512, 512, 1e-5f, 10000, LlamaConfig.RopeStyle.NORM, false));
            float[] a = new float[64], b = new float[64];
            llama.output().row(7, a, 0);
            fromBin.embedding().row(7, b, 0);
            assertThat(a).containsExactly(b);
            Llama.Session s = llama.start();
            float[] logits = s.feed(new int[] {Llama2c.BOS});
            List<?> steps = (List<?>) ref.get("logits_first_3_steps");
            double worst = 0;
            for (int i = 0; i < want.length; i++) {
                if (i < steps.size()) {
                    List<?> w = (List<?>) steps.get(i);
                    for (int v = 0; v < w.size(); v++) worst = Math.max(worst, Math.abs(logits[v] - ((Number) w.get(v)).doubleValue()));
                }
                int best = 0;
                for (int v = 1; v < logits.length; v++) if (logits[v] > logits[best]) best = v;
                assertThat(best).as("token %d", i).isEqualTo(want[i]);
                if (i + 1 < want.length) logits = s.feed(new int[] {best});
            }
            assertThat(worst).as("largest logit difference over the first 3 steps").isLessThan(1e-4);
        }
        try (Llama small = LlamaGguf.load(MODEL, 0)) {
            assertThat(small.contextLength()).isEqualTo(128);
        }
    }

    @Test
    void theWriterEncodesEachMatrixAsTheFileIsWrittenAndTheFileRunsAsTheModel() throws Exception {
        for (boolean shared : new boolean[] {true, false}) {
            // dims of whole Q8_0 blocks, but a hidden width of 48: ffn_down stays F32
            LlamaTest.Weights w = LlamaTest.Weights.random(LlamaTest.tiny(4, 2, LlamaConfig.RopeStyle.NORM, shared), 31);
            Llama model = w.llama();
            Path f32 = tmp.resolve("f32-" + shared + ".gguf"), q8 = tmp.resolve("q8-" + shared + ".gguf");
            LlamaGguf.writer(model, dev.jumbo.tensor.DType.F32, "tiny", kept -> {}).write(f32);
            List<String> kept = new java.util.ArrayList<>();
            LlamaGguf.writer(model, dev.jumbo.tensor.DType.Q8_0, "tiny", kept::add).write(q8);
            assertThat(kept).containsExactly("blk.0.ffn_down.weight (rows of 48 values, not whole blocks of 32)",
                    "blk.1.ffn_down.weight (rows of 48 values, not whole blocks of 32)");
            int[] ids = LlamaTest.randomIds(30, w.c().vocabSize(), 2);
            try (Llama a = LlamaGguf.load(f32, 0); Llama b = LlamaGguf.load(q8, 0)) {
                assertThat(a.config()).isEqualTo(w.c());
                assertThat(a.logits(ids)).containsExactly(model.logits(ids)); // F32 is written as it was
                WeightMatrix wq = b.layers().get(1).wq();
                assertThat(wq.type()).isEqualTo(dev.jumbo.tensor.DType.Q8_0);
                float[] flat = new float[wq.rows() * wq.cols()];
                for (int r = 0; r < wq.rows(); r++) System.arraycopy(w.wq()[1][r], 0, flat, r * wq.cols(), wq.cols());
                assertThat(wq.data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE))
                        .isEqualTo(WeightMatrix.quantize(flat, wq.rows(), wq.cols(), dev.jumbo.tensor.DType.Q8_0).data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
                assertThat(b.layers().getFirst().w2().type()).isEqualTo(dev.jumbo.tensor.DType.F32);
                assertThat(b.output() == b.embedding()).isEqualTo(shared);
            }
        }
    }

    @Test
    void aSourceThatFailsWhileTheFileIsWrittenLeavesThePreviousOne() throws Exception {
        LlamaConfig c = LlamaTest.tiny(4, 2, LlamaConfig.RopeStyle.NORM, true);
        Path out = tmp.resolve("model.gguf");
        Files.writeString(out, "previous");
        LlamaGguf.WeightSource failing = new LlamaGguf.WeightSource() {
            @Override
            public void rows(String tensor, int from, int n, int cols, float[] values) {
                if (tensor.startsWith("blk.1.")) throw new IllegalStateException("no rows for " + tensor);
                java.util.Arrays.fill(values, 0, n * cols, 0.5f);
            }

            @Override
            public float[] norm(String tensor) {
                return new float[c.dim()];
            }
        };
        GgufWriter w = LlamaGguf.writer(c, failing, dev.jumbo.tensor.DType.Q8_0, "failing", kept -> {});
        assertThatThrownBy(() -> w.write(out)).hasMessage("no rows for blk.1.attn_q.weight");
        assertThat(Files.readString(out)).isEqualTo("previous");
    }

    /** stories260K.gguf rewritten without {@code dropKeys} and {@code dropTensors}, then with {@code extra} keys (strings or u32). */
    private Path variant(String name, Set<String> dropKeys, Set<String> dropTensors, Map<String, Object> extra) throws IOException {
        Path out = tmp.resolve(name);
        try (GgufFile g = Gguf.open(MODEL)) {
            GgufWriter w = new GgufWriter();
            for (GgufField f : g.fields()) {
                if (dropKeys.contains(f.key())) continue;
                if (f.type() == GgufValueType.ARRAY) w.putArray(f.key(), f.itemType(), g.array(f.key()));
                else w.put(f.key(), f.type(), g.value(f.key()));
            }
            extra.forEach((k, v) -> {
                if (v instanceof String s) w.put(k, s);
                else w.put(k, GgufValueType.UINT32, v);
            });
            for (GgufTensor t : g.tensors()) if (!dropTensors.contains(t.name())) w.addTensor(t.name(), t.type(), t.dims(), g.data(t));
            w.write(out);
        }
        return out;
    }

    @Test
    void filesThisRuntimeCannotRunAreNamed() throws Exception {
        Path gpt2 = variant("gpt2.gguf", Set.of("general.architecture"), Set.of(), Map.of("general.architecture", "gpt2"));
        assertThatThrownBy(() -> LlamaGguf.load(gpt2, 0)).isInstanceOf(FormatException.class).hasMessageContaining("gpt2.gguf").hasMessageContaining("'gpt2'");
        Path noLayer = variant("no-layer.gguf", Set.of(), Set.of("blk.3.ffn_up.weight"), Map.of());
        assertThatThrownBy(() -> LlamaGguf.load(noLayer, 0)).isInstanceOf(FormatException.class).hasMessageContaining("blk.3.ffn_up.weight");
        Path partial = variant("partial.gguf", Set.of("llama.rope.dimension_count"), Set.of(), Map.of("llama.rope.dimension_count", 4));
        assertThatThrownBy(() -> LlamaGguf.load(partial, 0)).isInstanceOf(FormatException.class).hasMessageContaining("partial rotary");
        Path heads = variant("heads.gguf", Set.of("llama.attention.head_count_kv"), Set.of(), Map.of("llama.attention.head_count_kv", 3));
        assertThatThrownBy(() -> LlamaGguf.load(heads, 0)).isInstanceOf(FormatException.class).hasMessageContaining("heads.gguf");
        Path noEps = variant("no-eps.gguf", Set.of("llama.attention.layer_norm_rms_epsilon"), Set.of(), Map.of());
        assertThatThrownBy(() -> LlamaGguf.load(noEps, 0)).isInstanceOf(FormatException.class).hasMessageContaining("llama.attention.layer_norm_rms_epsilon");
    }
}
