package dev.jumbo.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
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
    void aMissingTextIsOneLine() {
        CliTest.Result r = CliTest.run("train-lm", "--text", tmp.resolve("nope.txt").toString(), "--out", tmp.resolve("o").toString());
        assertThat(r.code()).isNotZero();
        assertThat(r.err()).contains("nope.txt").doesNotContain("\tat ");
    }
}
