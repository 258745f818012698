package dev.jumbo.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jumbo.io.Gguf;
import dev.jumbo.io.GgufFile;
import dev.jumbo.io.Safetensors;
import dev.jumbo.models.Llama;
import dev.jumbo.models.LlamaConfig;
import dev.jumbo.models.LlamaGguf;
import dev.jumbo.tensor.DType;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.text.SentencePieceBpe;
import dev.jumbo.text.Tokenizers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code jumbo bench generate} on random models of known shapes and on Llama files, and {@code --save-model}. */
class BenchGenerateTest {
    private static final String[] QUICK = {"--prompt-tokens", "4", "--new-tokens", "2", "--warmup", "0", "--rounds", "1", "--json"};

    private static CliTest.Result bench(String... args) {
        String[] all = new String[2 + args.length + QUICK.length];
        all[0] = "bench";
        all[1] = "generate";
        System.arraycopy(args, 0, all, 2, args.length);
        System.arraycopy(QUICK, 0, all, 2 + args.length, QUICK.length);
        return CliTest.run(all);
    }

    @Test
    void aRandomLlamaShapeReportsSpeedMemoryAndTheBandwidthLimit() throws Exception {
        CliTest.Result r = bench("--arch", "llama", "--shape", "stories110M", "--dtype", "q4_0");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode j = r.lastJson();
        assertThat(j.get("shape").asText()).isEqualTo("stories110M");
        assertThat(j.get("dtype").asText()).isEqualTo("q4_0");
        assertThat(j.get("decode_tokens_per_second").asDouble()).isPositive();
        assertThat(j.get("prefill_tokens_per_second").asDouble()).isPositive();
        // 110M weights in Q4_0 (18 bytes per 32) and F32 norms: about 59 MiB
        assertThat(j.get("weights_mb").asDouble()).isBetween(55.0, 62.0);
        double limit = 36e9 / j.get("bytes_per_token").asLong();
        assertThat(j.get("bandwidth_limit_tokens_per_second").asDouble()).isCloseTo(limit, org.assertj.core.data.Offset.offset(0.1));
        if (Files.exists(Path.of("/proc/self/status"))) assertThat(j.get("peak_rss_mb").asDouble()).isPositive();
    }

    @Test
    void severalSequencesDecodeTogetherAndReportTheirSum() throws Exception {
        CliTest.Result r = bench("--model", CliTest.sharedData().resolve("llama2c/stories260K.bin").toString(), "--sequences", "5");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode j = r.lastJson();
        assertThat(j.get("sequences").asInt()).isEqualTo(5);
        assertThat(j.get("decode_tokens_per_second").asDouble()).isPositive();
        // five sessions of 4 + 2 tokens, each holding one block of 64 positions: 5 layers * 2 * 64 * kvDim 32 * 4 bytes
        assertThat(j.get("kv_cache_mb").asDouble()).isCloseTo(5 * 5 * 2 * 64 * 32 * 4 / 1048576.0, offset(0.01));
        assertThat(r.out()).contains("5 sequences decoded together");
        CliTest.Result bad = bench("--model", CliTest.sharedData().resolve("llama2c/stories260K.bin").toString(), "--sequences", "0");
        assertThat(bad.code()).isNotZero();
        assertThat(bad.err()).contains("--sequences must be at least 1");
    }

    @Test
    void randomWeightsAreNormalScaledAndQuantizedAsAsked() {
        LlamaConfig tiny = new LlamaConfig(64, 96, 1, 4, 2, 40, 16, 1e-5f, 10000, LlamaConfig.RopeStyle.NORM, false);
        try (Llama f32 = BenchModels.randomLlama(tiny, DType.F32, 3); Llama q8 = BenchModels.randomLlama(tiny, DType.Q8_0, 3)) {
            assertThat(q8.layers().getFirst().w2().type()).isEqualTo(DType.Q8_0);
            float[] a = new float[96], b = new float[96];
            f32.layers().getFirst().w2().row(5, a, 0);
            q8.layers().getFirst().w2().row(5, b, 0);
            double sumSq = 0;
            for (int i = 0; i < a.length; i++) {
                sumSq += a[i] * a[i];
                assertThat(b[i]).isCloseTo(a[i], org.assertj.core.data.Offset.offset(0.001f)); // same seed, same values
            }
            assertThat(Math.sqrt(sumSq / a.length)).isBetween(0.01, 0.03);
            assertThat(f32.finalNorm()).containsOnly(1f);
        }
    }

    @Test
    void gpt2RunsInF32OnlyAndSaysSo() throws Exception {
        CliTest.Result bad = bench("--arch", "gpt2", "--shape", "gpt2-124m", "--dtype", "q8_0");
        assertThat(bad.code()).isNotZero();
        assertThat(bad.err().lines().findFirst().orElseThrow()).contains("--arch gpt2").contains("f32 only");
        CliTest.Result r = bench("--arch", "gpt2", "--layers", "2", "--dim", "64", "--heads", "4", "--vocab", "300");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.lastJson().get("decode_tokens_per_second").asDouble()).isPositive();
        assertThat(r.lastJson().get("weights_mb").asDouble()).isPositive();
        CliTest.Result shape = bench("--shape", "nope");
        assertThat(shape.err()).contains("--shape 'nope' is not one of [stories110M, tinyllama-1.1b, gpt2-124m]");
    }

    @Test
    void aGgufModelReportsItsFileItsKvCacheAndTheRssLimit() throws Exception {
        Path gguf = CliTest.sharedData().resolve("llama2c/stories260K.gguf");
        CliTest.Result r = bench("--model", gguf.toString());
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode j = r.lastJson();
        assertThat(j.get("layers").asInt()).isEqualTo(5);
        assertThat(j.get("decode_tokens_per_second").asDouble()).isPositive();
        assertThat(j.get("file_mb").asDouble()).isEqualTo(BenchModels.mb(Files.size(gguf)));
        // 6 positions fed; the cache is allocated 64 at a time: 5 layers, keys and values, 64 x kvDim 32 floats
        assertThat(j.get("kv_cache_mb").asDouble()).isEqualTo(BenchModels.mb(5 * 2 * 64 * 32 * 4L));
        assertThat(j.get("rss_limit_mb").asDouble()).isCloseTo(j.get("file_mb").asDouble() + j.get("kv_cache_mb").asDouble() + 300, offset(0.11));
        assertThat(r.out()).contains("memory: file 1.1 MB + KV cache 0.1 MB + 300 MB = limit " + j.get("rss_limit_mb").asText() + " MB; peak RSS");
        if (Files.exists(Path.of("/proc/self/status"))) {
            assertThat(j.get("peak_rss_mb").asDouble()).isPositive();
            assertThat(j.get("within_rss_limit").asBoolean()).isEqualTo(j.get("peak_rss_mb").asDouble() <= j.get("rss_limit_mb").asDouble());
        }
    }

    @Test
    void saveModelWritesTheRandomModelAndTheFileRunsAsIt(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("s110-q4.gguf");
        CliTest.Result saved = CliTest.run("bench", "generate", "--shape", "stories110M", "--dtype", "q4_0", "--seed", "7", "--save-model", file.toString(), "--json");
        assertThat(saved.code()).as(saved.err()).isZero();
        JsonNode j = saved.lastJson();
        assertThat(j.get("saved_model").asText()).isEqualTo(file.toString());
        assertThat(j.get("file_mb").asDouble()).isEqualTo(BenchModels.mb(Files.size(file))).isBetween(55.0, 62.0);
        LlamaConfig shape = BenchModels.shape("stories110M").llama();
        int[] ids = {1, 500, 31999, 42};
        try (Llama fromFile = LlamaGguf.load(file, 0); Llama inMemory = BenchModels.randomLlama(shape, DType.Q4_0, 7);
             GgufFile g = Gguf.open(file)) {
            assertThat(fromFile.config()).isEqualTo(shape);
            assertThat(fromFile.layers().get(3).w2().type()).isEqualTo(DType.Q4_0);
            // the same seed gives the same weights, drawn row by row, in memory or written a band at a time
            assertThat(fromFile.logits(ids)).containsExactly(inMemory.logits(ids));
            SentencePieceBpe vocabulary = (SentencePieceBpe) Tokenizers.fromGguf(g);
            assertThat(vocabulary.vocabSize()).isEqualTo(32000);
            assertThat(vocabulary.decode(vocabulary.encode("Once upon a time"))).isEqualTo("Once upon a time");
        }
        CliTest.Result run = bench("--model", file.toString());
        assertThat(run.code()).as(run.err()).isZero();
        assertThat(run.lastJson().get("file_mb").asDouble()).isEqualTo(j.get("file_mb").asDouble());
        assertThat(run.lastJson().get("kv_cache_mb").asDouble()).isEqualTo(BenchModels.mb(12 * 2 * 64 * 768 * 4L));

        CliTest.Result both = bench("--model", file.toString(), "--save-model", dir.resolve("x.gguf").toString());
        assertThat(both.err()).contains("--model runs a Llama file");
        CliTest.Result gpt2 = bench("--arch", "gpt2", "--save-model", dir.resolve("x.gguf").toString());
        assertThat(gpt2.err()).contains("--save-model writes a random Llama");
        assertThat(dir.resolve("x.gguf")).doesNotExist();
    }

    @Test
    void aHuggingFaceFolderRunsMappedWithItsSafetensorsAsTheFile(@TempDir Path dir) throws Exception {
        LlamaConfig c = new LlamaConfig(32, 64, 2, 4, 2, 300, 64, 1e-5f, 10000, LlamaConfig.RopeStyle.NEOX, true);
        Files.writeString(dir.resolve("config.json"), """
                {"model_type": "llama", "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
                 "num_key_value_heads": 2, "vocab_size": 300, "max_position_embeddings": 64, "tie_word_embeddings": true}""");
        java.util.Random r = new java.util.Random(1);
        Map<String, Tensor> w = new LinkedHashMap<>();
        w.put("model.embed_tokens.weight", Tensor.randn(r, 300, 32));
        for (int l = 0; l < 2; l++) {
            String p = "model.layers." + l + ".";
            w.put(p + "input_layernorm.weight", Tensor.ones(32));
            w.put(p + "post_attention_layernorm.weight", Tensor.ones(32));
            for (String m : new String[] {"q", "o"}) w.put(p + "self_attn." + m + "_proj.weight", Tensor.randn(r, 32, 32));
            for (String m : new String[] {"k", "v"}) w.put(p + "self_attn." + m + "_proj.weight", Tensor.randn(r, c.kvDim(), 32));
            w.put(p + "mlp.gate_proj.weight", Tensor.randn(r, 64, 32));
            w.put(p + "mlp.up_proj.weight", Tensor.randn(r, 64, 32));
            w.put(p + "mlp.down_proj.weight", Tensor.randn(r, 32, 64));
        }
        w.put("model.norm.weight", Tensor.ones(32));
        Safetensors.write(dir.resolve("model.safetensors"), w, Map.of());
        CliTest.Result run = bench("--model", dir.toString());
        assertThat(run.code()).as(run.err()).isZero();
        assertThat(run.lastJson().get("layers").asInt()).isEqualTo(2);
        assertThat(run.lastJson().get("file_mb").asDouble()).isEqualTo(BenchModels.mb(Files.size(dir.resolve("model.safetensors"))));
    }
}
