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

    @Test
    void anEmptyPromptStartsGpt2FromEndOfText() throws Exception {
        CliTest.Result r = CliTest.run("generate", "--model", dir.toString(), "--max-new-tokens", "4", "--greedy", "--json");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.lastJson().get("prompt_token_ids").toString()).isEqualTo("[256]");
        // a prompt is fed as it is, without <|endoftext|> (GPT-2 is unchanged)
        CliTest.Result hello = CliTest.run("generate", "--model", dir.toString(), "--prompt", "Hi", "--max-new-tokens", "2", "--greedy", "--json");
        assertThat(hello.lastJson().get("prompt_token_ids").toString()).isEqualTo("[72,105]");
    }

    private static Path llama2c() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent())
            if (Files.isDirectory(p.resolve("shared/data/llama2c"))) return p.resolve("shared/data/llama2c");
        throw new IllegalStateException("shared/data/llama2c not found beside the checkout");
    }

    @Test
    void aLlama2cCheckpointGeneratesRunCsStoryFromBos() throws Exception {
        Path data = llama2c();
        JsonNode ref = new com.fasterxml.jackson.databind.ObjectMapper().readTree(data.resolveSibling("reference/stories260K-reference.json").toFile());
        CliTest.Result r = CliTest.run("generate", "--model", data.resolve("stories260K.bin").toString(), "--greedy", "--max-new-tokens", "30", "--json");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).contains("tokenizer: " + data.resolve("tok512.bin").toAbsolutePath() + " (found beside the checkpoint)");
        JsonNode j = r.lastJson();
        assertThat(j.get("prompt_token_ids").toString()).isEqualTo("[1]");
        JsonNode seq = j.get("sequences").get(0);
        for (int i = 0; i < 30; i++) assertThat(seq.get("token_ids").get(i).asInt()).isEqualTo(ref.get("greedy_ids").get(i).asInt());
        assertThat(ref.get("greedy_text").asText()).startsWith(seq.get("text").asText());
        assertThat(r.out()).startsWith("Once upon a time");

        CliTest.Result prompted = CliTest.run("generate", "--model", data.resolve("stories260K.bin").toString(), "--tokenizer",
                data.resolve("tok512.bin").toString(), "--prompt", "Once upon a time", "--max-new-tokens", "5", "--greedy", "--json");
        assertThat(prompted.code()).as(prompted.err()).isZero();
        assertThat(prompted.lastJson().get("prompt_token_ids").toString()).isEqualTo("[1,403,407,261,378]");
        // the continuation keeps the space its first word's piece starts with
        assertThat(prompted.out()).startsWith("Once upon a time, there was");
    }

    @Test
    void benchGenerateRunsALlama2cCheckpoint() throws Exception {
        CliTest.Result r = CliTest.run("bench", "generate", "--model", llama2c().resolve("stories260K.bin").toString(), "--prompt-tokens", "8",
                "--new-tokens", "4", "--warmup", "0", "--rounds", "1", "--json");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.lastJson().get("layers").asInt()).isEqualTo(5);
        assertThat(r.lastJson().get("prefill_tokens_per_second").asDouble()).isPositive();
        assertThat(r.lastJson().get("decode_tokens_per_second").asDouble()).isPositive();
        CliTest.Result tooLong = CliTest.run("bench", "generate", "--model", llama2c().resolve("stories260K.bin").toString(), "--prompt-tokens", "500",
                "--new-tokens", "20");
        assertThat(tooLong.err()).contains("context of 512");
    }

    @Test
    void badLlama2cFilesEndWithOneLine() throws Exception {
        Path data = llama2c();
        byte[] model = Files.readAllBytes(data.resolve("stories260K.bin"));
        Path cut = Files.write(dir.resolveSibling(dir.getFileName() + "-cut.bin"), java.util.Arrays.copyOf(model, 1000));
        CliTest.Result r = CliTest.run("generate", "--model", cut.toString(), "--tokenizer", data.resolve("tok512.bin").toString());
        assertThat(r.code()).isNotZero();
        assertThat(r.err()).contains(cut.toString()).contains("truncated").doesNotContain("\tat ");
        CliTest.Result folder = CliTest.run("generate", "--model", dir.toString(), "--tokenizer", data.resolve("tok512.bin").toString());
        assertThat(folder.code()).isNotZero();
        assertThat(folder.err()).contains("--tokenizer is for llama2.c checkpoints");
        CliTest.Result missing = CliTest.run("generate", "--model", dir.resolve("nope.bin").toString());
        assertThat(missing.err()).contains("nope.bin: no such file");
    }

    /** A tiny random HuggingFace Llama folder with a SentencePiece-style tokenizer.json of the 256 bytes and ▁Hi. */
    @Test
    void aHuggingFaceLlamaFolderStartsFromBos() throws Exception {
        Path llama = Files.createDirectories(dir.resolveSibling(dir.getFileName() + "-llama"));
        Map<String, Object> vocab = new LinkedHashMap<>();
        for (String special : new String[] {"<unk>", "<s>", "</s>"}) vocab.put(special, vocab.size());
        for (int b = 0; b < 256; b++) vocab.put(String.format("<0x%02X>", b), vocab.size());
        for (String piece : new String[] {"▁", "H", "i", "▁H", "▁Hi"}) vocab.put(piece, vocab.size());
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("type", "BPE");
        model.put("unk_token", "<unk>");
        model.put("byte_fallback", true);
        model.put("vocab", vocab);
        model.put("merges", java.util.List.of("▁H i", "▁ H"));
        Map<String, Object> tokenizer = new LinkedHashMap<>();
        tokenizer.put("added_tokens", java.util.List.of(Map.of("id", 0, "content", "<unk>", "special", true),
                Map.of("id", 1, "content", "<s>", "special", true), Map.of("id", 2, "content", "</s>", "special", true)));
        tokenizer.put("normalizer", Map.of("type", "Sequence", "normalizers", java.util.List.of(Map.of("type", "Prepend", "prepend", "▁"),
                Map.of("type", "Replace", "pattern", Map.of("String", " "), "content", "▁"))));
        tokenizer.put("model", model);
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        Files.writeString(llama.resolve("tokenizer.json"), json.writeValueAsString(tokenizer));
        int v = vocab.size(), d = 16, h = 32;
        Files.writeString(llama.resolve("config.json"), json.writeValueAsString(Map.of("model_type", "llama", "hidden_size", d,
                "intermediate_size", h, "num_hidden_layers", 1, "num_attention_heads", 2, "num_key_value_heads", 1, "vocab_size", v,
                "max_position_embeddings", 32, "tie_word_embeddings", true)));
        java.util.Random r = new java.util.Random(1);
        Map<String, dev.jumbo.tensor.Tensor> w = new LinkedHashMap<>();
        java.util.function.BiFunction<Integer, Integer, dev.jumbo.tensor.Tensor> random = (rows, cols) -> {
            float[] x = new float[rows * cols];
            for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextGaussian() * 0.3);
            return dev.jumbo.tensor.Tensor.of(x, rows, cols);
        };
        float[] ones = new float[d];
        java.util.Arrays.fill(ones, 1f);
        w.put("model.embed_tokens.weight", random.apply(v, d));
        w.put("model.layers.0.input_layernorm.weight", dev.jumbo.tensor.Tensor.of(ones.clone(), d));
        w.put("model.layers.0.post_attention_layernorm.weight", dev.jumbo.tensor.Tensor.of(ones.clone(), d));
        for (String m : new String[] {"q", "o"}) w.put("model.layers.0.self_attn." + m + "_proj.weight", random.apply(d, d));
        for (String m : new String[] {"k", "v"}) w.put("model.layers.0.self_attn." + m + "_proj.weight", random.apply(d / 2, d));
        w.put("model.layers.0.mlp.gate_proj.weight", random.apply(h, d));
        w.put("model.layers.0.mlp.up_proj.weight", random.apply(h, d));
        w.put("model.layers.0.mlp.down_proj.weight", random.apply(d, h));
        w.put("model.norm.weight", dev.jumbo.tensor.Tensor.of(ones.clone(), d));
        dev.jumbo.io.Safetensors.write(llama.resolve("model.safetensors"), w, Map.of("format", "pt"));

        CliTest.Result r1 = CliTest.run("generate", "--model", llama.toString(), "--prompt", "Hi", "--max-new-tokens", "3", "--greedy", "--json");
        assertThat(r1.code()).as(r1.err()).isZero();
        assertThat(r1.lastJson().get("prompt_token_ids").toString()).isEqualTo("[1," + vocab.get("▁Hi") + "]");
        assertThat(r1.lastJson().get("generated_tokens").asInt()).isBetween(0, 3);
        CliTest.Result empty = CliTest.run("generate", "--model", llama.toString(), "--max-new-tokens", "2", "--greedy", "--json");
        assertThat(empty.code()).as(empty.err()).isZero();
        assertThat(empty.lastJson().get("prompt_token_ids").toString()).isEqualTo("[1]");
    }
}
