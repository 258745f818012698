package dev.jumbo.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jumbo.models.Gpt2;
import dev.jumbo.models.Gpt2Config;
import dev.jumbo.models.Perplexity;
import dev.jumbo.nn.Init;
import dev.jumbo.text.CharTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code jumbo perplexity} on a small GPT-2 folder with a character tokenizer, written here. */
class PerplexityCommandTest {
    @TempDir
    Path tmp;

    @Test
    void scoresEachPrecisionAgainstF32() throws Exception {
        String text = "To be, or not to be, that is the question: whether 'tis nobler in the mind to suffer. ".repeat(4);
        Path file = tmp.resolve("text.txt"), dir = tmp.resolve("gpt");
        Files.writeString(file, text);
        CharTokenizer chars = CharTokenizer.of(text);
        Init.seed(5);
        Gpt2 model = new Gpt2(new Gpt2Config(chars.vocabSize(), 32, 64, 2, 2, 1e-5));
        model.save(dir);
        chars.save(dir);
        CliTest.Result r = CliTest.run("perplexity", "--model", dir.toString(), "--text", file.toString(), "--split", "all", "--json");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode rows = r.lastJson().get("rows");
        assertThat(rows.findValuesAsText("type")).containsExactly("f32", "q8_0", "q4_0");
        double expected = Perplexity.evaluate(model, null, chars.encode(text), 32).perplexity();
        assertThat(rows.get(0).get("perplexity").asDouble()).isCloseTo(expected, Offset.offset(1e-9));
        assertThat(rows.get(0).get("tokens").asInt()).isEqualTo(text.length() - 1);
        assertThat(rows.get(1).get("kl_from_f32").asDouble()).isPositive().isLessThan(rows.get(2).get("kl_from_f32").asDouble());
        assertThat(r.out()).contains("q8_0  perplexity");
        assertThat(CliTest.run("perplexity", "--model", dir.toString(), "--text", file.toString(), "--types", "q8_0").err())
                .contains("--types must start with f32");
        assertThat(CliTest.run("perplexity", "--model", dir.toString(), "--text", tmp.resolve("none.txt").toString()).err()).contains("none.txt");
    }
}
