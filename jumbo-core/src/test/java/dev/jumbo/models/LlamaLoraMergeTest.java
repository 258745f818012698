package dev.jumbo.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumbo.io.Gguf;
import dev.jumbo.io.GgufFile;
import dev.jumbo.io.GgufWriter;
import dev.jumbo.tensor.DType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link LlamaLora#mergeFiles}: a PEFT adapter folded into stories260K, written as llama2.c and as GGUF, read back. */
class LlamaLoraMergeTest {
    private static final Path DATA = SharedData.dir();
    @TempDir
    Path tmp;
    private final Random rnd = dev.jumbo.testing.GradCheck.random();

    private static double maxAbsDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs((double) a[i] - b[i]));
        return m;
    }

    private int[] tokens(int n, int vocab) {
        int[] ids = new int[n];
        ids[0] = Llama2c.BOS;
        for (int i = 1; i < n; i++) ids[i] = rnd.nextInt(vocab);
        return ids;
    }

    @Test
    void llama2cWriterWritesWhatTheLoaderReads() throws Exception {
        Path original = DATA.resolve("llama2c/stories260K.bin"), copy = tmp.resolve("copy.bin");
        try (Llama base = Llama2c.load(original)) {
            Llama2c.write(base, copy);
            assertThat(Files.size(copy)).isEqualTo(Files.size(original));
            try (Llama back = Llama2c.load(copy)) {
                int[] ids = tokens(20, base.vocabSize());
                assertThat(back.logits(ids)).isEqualTo(base.logits(ids));
                assertThat(back.config()).isEqualTo(base.config());
            }
        }
    }

    @Test
    void mergedLlama2cFileRunsAsBasePlusAdapter() throws Exception {
        Path base = DATA.resolve("llama2c/stories260K.bin"), adapter = tmp.resolve("adapter"), out = tmp.resolve("merged.bin");
        try (Llama llama = Llama2c.load(base)) {
            LlamaLora lora = LlamaLoraTest.random(llama.config(), 4, 8, EnumSet.allOf(LlamaLora.Projection.class), rnd, 0.02);
            lora.write(adapter, "stories260K");
            LlamaLora.MergedFile m = LlamaLora.mergeFiles(base, adapter, out);
            assertThat(m.format()).isEqualTo("llama2.c");
            assertThat(m.modules()).isEqualTo(7 * llama.config().layers());
            try (Llama merged = Llama2c.load(out)) {
                int[] ids = tokens(40, llama.vocabSize());
                float[] adapted = llama.withAdapters(lora).logits(ids), folded = merged.logits(ids);
                System.out.printf("stories260K.bin merged with a rank-4 adapter: max |logit diff| against base + adapter %.2e (moved by %.2f)%n",
                        maxAbsDiff(adapted, folded), maxAbsDiff(adapted, llama.logits(ids)));
                assertThat(maxAbsDiff(adapted, llama.logits(ids))).isGreaterThan(0.2);
                assertThat(maxAbsDiff(adapted, folded)).isLessThanOrEqualTo(5e-5);
            }
        }
        assertThatThrownBy(() -> LlamaLora.mergeFiles(out, adapter, out)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("base model itself");
    }

    @Test
    void mergedHuggingFaceFolderHoldsTheBasesOtherFilesAndRunsAsBasePlusAdapter() throws Exception {
        LlamaConfig c = LlamaTest.tiny(4, 2, LlamaConfig.RopeStyle.NEOX, false);
        Path source = Files.createDirectories(tmp.resolve("config-only")), base = tmp.resolve("hf");
        Files.writeString(source.resolve("config.json"), """
                {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": %d, "intermediate_size": %d,
                 "num_hidden_layers": %d, "num_attention_heads": %d, "num_key_value_heads": %d, "vocab_size": %d,
                 "max_position_embeddings": %d, "rms_norm_eps": 1e-05, "rope_theta": 10000.0, "tie_word_embeddings": false,
                 "hidden_act": "silu", "torch_dtype": "float32"}
                """.formatted(c.dim(), c.hiddenDim(), c.layers(), c.heads(), c.kvHeads(), c.vocabSize(), c.contextLength()));
        Files.writeString(source.resolve("tokenizer.json"), "{}");
        Llama random = LlamaTest.Weights.random(c, rnd.nextLong()).llama();
        LlamaSafetensors.write(random, source, base);
        Path adapter = tmp.resolve("adapter"), out = tmp.resolve("merged");
        try (Llama llama = LlamaSafetensors.load(base)) {
            int[] ids = tokens(25, c.vocabSize());
            assertThat(llama.logits(ids)).isEqualTo(random.logits(ids)); // the writer wrote what the loader reads
            LlamaLora lora = LlamaLoraTest.random(c, 3, 6, EnumSet.of(LlamaLora.Projection.Q, LlamaLora.Projection.K, LlamaLora.Projection.O), rnd, 0.3);
            lora.write(adapter, base.toString());
            LlamaLora.MergedFile m = LlamaLora.mergeFiles(base, adapter, out);
            assertThat(m.format()).isEqualTo("HuggingFace safetensors");
            assertThat(out.resolve("tokenizer.json")).hasContent("{}");
            assertThat(out.resolve("config.json")).hasSameTextualContentAs(source.resolve("config.json"));
            try (Llama merged = LlamaSafetensors.load(out)) {
                float[] want = llama.withAdapters(lora).logits(ids);
                assertThat(maxAbsDiff(want, llama.logits(ids))).isGreaterThan(0.1);
                assertThat(maxAbsDiff(want, merged.logits(ids))).isLessThanOrEqualTo(1e-5);
            }
        }
        assertThatThrownBy(() -> LlamaLora.mergeFiles(base, adapter, out)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not overwritten");
        try (var left = Files.list(tmp)) {
            assertThat(left.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains(".tmp-"));
        }
    }

    @Test
    void mergedGgufKeepsTheTokenizerAndTheBasesType() throws Exception {
        Path base = DATA.resolve("llama2c/stories260K.gguf"), adapter = tmp.resolve("adapter");
        try (Llama llama = LlamaGguf.load(base, 0)) {
            LlamaLora lora = LlamaLoraTest.random(llama.config(), 2, 4, EnumSet.of(LlamaLora.Projection.Q, LlamaLora.Projection.K, LlamaLora.Projection.UP), rnd, 0.05);
            lora.write(adapter, null);
            Path out = tmp.resolve("merged.gguf");
            LlamaLora.MergedFile m = LlamaLora.mergeFiles(base, adapter, out);
            assertThat(m.type()).isEqualTo(llama.layers().getFirst().wq().type());
            int[] ids = tokens(30, llama.vocabSize());
            float[] adapted = llama.withAdapters(lora).logits(ids);
            try (Llama merged = LlamaGguf.load(out, 0); GgufFile file = Gguf.open(out); GgufFile source = Gguf.open(base)) {
                assertThat(file.strings("tokenizer.ggml.tokens")).isEqualTo(source.strings("tokenizer.ggml.tokens"));
                assertThat(maxAbsDiff(adapted, merged.logits(ids))).isLessThanOrEqualTo(5e-5);
            }

            // a Q8_0 base: merged in F32, written back in Q8_0
            Path q8 = tmp.resolve("q8.gguf");
            GgufWriter w = LlamaGguf.writer(llama, DType.Q8_0, "q8", kept -> {});
            w.put("tokenizer.ggml.model", "llama");
            w.write(q8);
            Path outQ8 = tmp.resolve("merged-q8.gguf");
            assertThat(LlamaLora.mergeFiles(q8, adapter, outQ8).type()).isEqualTo(DType.Q8_0);
            try (Llama q8Base = LlamaGguf.load(q8, 0); Llama merged = LlamaGguf.load(outQ8, 0)) {
                assertThat(merged.layers().getFirst().wq().type()).isEqualTo(DType.Q8_0);
                float[] want = q8Base.withAdapters(lora).logits(ids), got = merged.logits(ids);
                // requantizing the merged weights costs Q8_0's rounding, far less than what the adapter moves
                assertThat(maxAbsDiff(want, got)).isLessThan(0.2 * maxAbsDiff(want, q8Base.logits(ids)));
            }
        }
    }
}
