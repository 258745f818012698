package dev.jumbo.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jumbo.models.GenerationConfig;
import dev.jumbo.models.Generator;
import dev.jumbo.models.Gpt2;
import dev.jumbo.text.ByteLevelBpe;
import dev.jumbo.text.Tokenizer;
import dev.jumbo.text.Tokenizers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainLmCommandTest {
    @TempDir
    Path tmp;

    @Test
    void trainsAndWritesAFolderThatGenerateLoads() throws Exception {
        Path text = tmp.resolve("text.txt");
        Files.writeString(text, "the cat sat on the mat. ".repeat(200));
        Path out = tmp.resolve("lm");
        CliTest.Result r = CliTest.run("train-lm", "--text", text.toString(), "--layers", "1", "--heads", "2", "--dim", "32",
                "--context", "16", "--batch-size", "8", "--iters", "60", "--eval-every", "30", "--out", out.toString(), "--json");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode j = r.lastJson();
        assertThat(j.get("iters").asInt()).isEqualTo(60);
        assertThat(j.get("val_loss").asDouble()).isPositive().isLessThan(Math.log(12)); // 12 distinct characters
        assertThat(j.get("train_loss").asDouble()).isPositive();
        assertThat(j.get("ms_per_iter").asDouble()).isPositive();
        assertThat(r.err()).contains("iter 30:").contains("iter 60:");
        for (String f : new String[] {"config.json", "model.safetensors", "tokenizer.json"}) assertThat(out.resolve(f)).exists();

        CliTest.Result g = CliTest.run("generate", "--model", out.toString(), "--prompt", "the ", "--max-new-tokens", "10", "--greedy", "--json");
        assertThat(g.code()).as(g.err()).isZero();
        assertThat(g.lastJson().get("sequences").get(0).get("token_ids").size()).isEqualTo(10);
    }

    @Test
    void withGpt2sTokenizerWritesAFolderWhoseTokenizerGivesTheSameIds() throws Exception {
        Path vocabulary = sharedData().resolve("gpt2-tokenizer");
        Path text = tmp.resolve("text.txt");
        Files.writeString(text, "ROMEO: the cat sat on the mat, my lord.\n".repeat(100));
        Path out = tmp.resolve("bpe");
        CliTest.Result r = CliTest.run("train-lm", "--text", text.toString(), "--tokenizer", "gpt2", "--tokenizer-dir", vocabulary.toString(),
                "--layers", "1", "--heads", "2", "--dim", "16", "--context", "16", "--batch-size", "4", "--iters", "6", "--eval-every", "3",
                "--out", out.toString(), "--json");
        assertThat(r.code()).as(r.err()).isZero();
        int tokens = ByteLevelBpe.load(vocabulary).encode(Files.readString(text)).length;
        assertThat(r.err()).contains(tokens + " tokens, vocabulary 50257");
        assertThat(r.lastJson().get("val_loss").asDouble()).isPositive().isLessThan(Math.log(50257) + 1);

        Gpt2 model = Gpt2.load(out);
        assertThat(model.vocabSize()).isEqualTo(50257);
        Tokenizer tokenizer = Tokenizers.load(out);
        String sample = "ROMEO: Wherefore art thou, Romeo? 1597 🦙\n";
        assertThat(tokenizer.encode(sample)).containsExactly(ByteLevelBpe.load(vocabulary).encode(sample));
        assertThat(tokenizer.decode(tokenizer.encode(sample))).isEqualTo(sample);
        Generator.Generation g = Generator.generate(model, tokenizer, "ROMEO:", GenerationConfig.defaults().maxNewTokens(5).greedy(true),
                (seq, id, piece) -> {});
        assertThat(g.sequences().getFirst().tokenIds()).hasSize(5);

        CliTest.Result generate = CliTest.run("generate", "--model", out.toString(), "--prompt", "ROMEO:", "--max-new-tokens", "4", "--seed", "1", "--json");
        assertThat(generate.code()).as(generate.err()).isZero();
        assertThat(generate.lastJson().get("sequences").get(0).get("token_ids").size()).isEqualTo(4);
    }

    @Test
    void aSecondRunWithTheOtherTokenizerReplacesTheFirstsTokenizer() throws Exception {
        Path text = tmp.resolve("text.txt");
        Files.writeString(text, "the cat sat on the mat. ".repeat(100));
        Path out = tmp.resolve("lm");
        List<String> common = List.of("--text", text.toString(), "--layers", "1", "--heads", "2", "--dim", "16", "--context", "8",
                "--batch-size", "2", "--iters", "2", "--out", out.toString());
        assertThat(CliTest.run(concat(List.of("train-lm", "--tokenizer", "gpt2", "--tokenizer-dir", sharedData().resolve("gpt2-tokenizer").toString()), common)).code()).isZero();
        assertThat(Tokenizers.load(out)).isInstanceOf(ByteLevelBpe.class);
        assertThat(CliTest.run(concat(List.of("train-lm"), common)).code()).isZero();
        assertThat(Tokenizers.load(out).vocabSize()).isEqualTo(Gpt2.load(out).vocabSize()).isEqualTo(11); // "the cat sat on the mat. " has 11 distinct characters
    }

    @Test
    void tokenizerOptionsAreCheckedWithOneLine() {
        Path text = tmp.resolve("text.txt");
        CliTest.Result unknown = CliTest.run("train-lm", "--text", text.toString(), "--tokenizer", "sentencepiece", "--out", tmp.resolve("o").toString());
        assertThat(unknown.code()).isNotZero();
        assertThat(unknown.err()).contains("jumbo: error: --tokenizer sentencepiece is not supported: use char or gpt2").doesNotContain("\tat ");
        CliTest.Result dirWithChar = CliTest.run("train-lm", "--text", text.toString(), "--tokenizer-dir", tmp.toString(), "--out", tmp.resolve("o").toString());
        assertThat(dirWithChar.err()).contains("--tokenizer-dir " + tmp + " goes with --tokenizer gpt2, not char");
    }

    @Test
    void aTokenizerDirWithoutTheVocabularyIsOneLineNamingIt() throws Exception {
        Path text = tmp.resolve("text.txt");
        Files.writeString(text, "the cat sat on the mat. ".repeat(100));
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        CliTest.Result r = CliTest.run("train-lm", "--text", text.toString(), "--tokenizer", "gpt2", "--tokenizer-dir", empty.toString(),
                "--out", tmp.resolve("o").toString());
        assertThat(r.code()).isNotZero();
        assertThat(r.err().lines().filter(l -> l.startsWith("jumbo: error:")).toList()).singleElement().asString()
                .contains(empty + ": no vocab.json + merges.txt or tokenizer.json");
        assertThat(r.err()).doesNotContain("\tat ");
    }

    @Test
    void aMissingTextIsOneLine() {
        CliTest.Result r = CliTest.run("train-lm", "--text", tmp.resolve("nope.txt").toString(), "--out", tmp.resolve("o").toString());
        assertThat(r.code()).isNotZero();
        assertThat(r.err()).contains("nope.txt").doesNotContain("\tat ");
    }

    private static String[] concat(List<String> a, List<String> b) {
        return java.util.stream.Stream.concat(a.stream(), b.stream()).toArray(String[]::new);
    }

    private static Path sharedData() {
        return CliTest.sharedData();
    }
}
