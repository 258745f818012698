package dev.jumbo.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jumbo.models.Llama;
import dev.jumbo.models.LlamaConfig;
import dev.jumbo.tensor.DType;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** {@code jumbo bench generate} on random models of known shapes and on Llama files. */
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
    void aGgufModelRunsToo() throws Exception {
        Path gguf = null;
        for (Path p = Path.of("").toAbsolutePath(); p != null && gguf == null; p = p.getParent())
            if (Files.exists(p.resolve("shared/data/llama2c/stories260K.gguf"))) gguf = p.resolve("shared/data/llama2c/stories260K.gguf");
        assertThat(gguf).as("shared/data beside the checkout").isNotNull();
        CliTest.Result r = bench("--model", gguf.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.lastJson().get("layers").asInt()).isEqualTo(5);
        assertThat(r.lastJson().get("decode_tokens_per_second").asDouble()).isPositive();
    }
}
