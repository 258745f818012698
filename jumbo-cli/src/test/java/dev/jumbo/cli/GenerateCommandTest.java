package dev.jumbo.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jumbo.models.Gpt2;
import dev.jumbo.models.Gpt2Config;
import dev.jumbo.nn.Init;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code jumbo generate} on a small random GPT-2 saved by Jumbo, with a byte-level vocabulary of
 * the 256 bytes (no merges) and {@code <|endoftext|>}.
 */
class GenerateCommandTest {
    @TempDir
    static Path dir;

    @BeforeAll
    static void makeModel() throws Exception {
        Init.seed(5);
        new Gpt2(new Gpt2Config(257, 64, 32, 2, 4, 1e-5)).save(dir);
        Map<String, Object> vocab = new LinkedHashMap<>();
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = b >= '!' && b <= '~' || b >= 0xA1 && b <= 0xAC || b >= 0xAE && b <= 0xFF;
            vocab.put(String.valueOf((char) (printable ? b : next++)), b);
        }
        vocab.put("<|endoftext|>", 256);
        Files.writeString(dir.resolve("vocab.json"), new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(vocab));
        Files.writeString(dir.resolve("merges.txt"), "#version: 0.2\n");
    }

    @Test
    void streamsTheContinuationAndReportsItAsJson() throws Exception {
        CliTest.Result r = CliTest.run("generate", "--model", dir.toString(), "--prompt", "Hello", "--max-new-tokens", "8",
                "--greedy", "--json");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode j = r.lastJson();
        assertThat(j.get("prompt_token_ids").size()).isEqualTo(5);
        JsonNode seq = j.get("sequences").get(0);
        int n = seq.get("token_ids").size();
        assertThat(j.get("generated_tokens").asInt()).isEqualTo(n).isBetween(0, 8);
        assertThat(r.out().lines().findFirst().orElseThrow()).startsWith("Hello");
        assertThat(j.get("tokens_per_second").asDouble()).isPositive();
        CliTest.Result again = CliTest.run("generate", "--model", dir.toString(), "--prompt", "Hello", "--max-new-tokens", "8", "--greedy", "--json");
        assertThat(again.lastJson().get("sequences")).isEqualTo(j.get("sequences"));
    }

    @Test
    void samplesSeveralSequencesReproducibly() throws Exception {
        String[] args = {"generate", "--model", dir.toString(), "--prompt", "abc", "--max-new-tokens", "6", "--top-k", "50",
                "--top-p", "0.9", "--temperature", "0.8", "--num-return-sequences", "2", "--seed", "11", "--json"};
        CliTest.Result a = CliTest.run(args), b = CliTest.run(args);
        assertThat(a.code()).as(a.err()).isZero();
        assertThat(a.lastJson().get("sequences")).hasSize(2).isEqualTo(b.lastJson().get("sequences"));
        assertThat(a.out()).contains("--- sequence 2");
    }

    @Test
    void benchGenerateReportsPrefillAndDecodeSpeed() throws Exception {
        CliTest.Result r = CliTest.run("bench", "generate", "--layers", "2", "--dim", "64", "--heads", "4", "--vocab", "300",
                "--prompt-tokens", "40", "--new-tokens", "5", "--json");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.lastJson().get("prefill_tokens_per_second").asDouble()).isPositive();
        assertThat(r.lastJson().get("decode_tokens_per_second").asDouble()).isPositive();
    }

    @Test
    void badFoldersEndWithOneLine() throws Exception {
        Path bad = dir.resolveSibling(dir.getFileName() + "-bad");
        Files.createDirectories(bad);
        Files.writeString(bad.resolve("config.json"), "{\"vocab_size\": 10, \"n_positions\": 8, \"n_embd\": -4, \"n_layer\": 1, \"n_head\": 1}");
        CliTest.Result r = CliTest.run("generate", "--model", bad.toString(), "--prompt", "x");
        assertThat(r.code()).isNotZero();
        assertThat(r.err()).contains("config.json").contains("n_embd must be positive").doesNotContain("\tat ");
    }
}
