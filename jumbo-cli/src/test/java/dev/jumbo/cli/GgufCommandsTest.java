package dev.jumbo.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** generate, chat and embed on GGUF files from ../shared/data: stories260K (Llama, F32) and all-MiniLM-L6-v2 (BERT, Q8_0). */
class GgufCommandsTest {
    private static Path shared() {
        return CliTest.sharedData();
    }

    @Test
    void generateFromBosGivesTheReferenceStory() throws Exception {
        JsonNode ref = new ObjectMapper().readTree(shared().resolve("reference/stories260K-reference.json").toFile());
        CliTest.Result r = CliTest.run("generate", "--model", shared().resolve("llama2c/stories260K.gguf").toString(),
                "--greedy", "--max-new-tokens", "60", "--context", "512", "--json");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode got = r.lastJson();
        assertThat(got.get("prompt_token_ids").get(0).asInt()).isEqualTo(1);
        for (int i = 0; i < 60; i++) assertThat(got.get("sequences").get(0).get("token_ids").get(i).asInt()).as("token %d", i).isEqualTo(ref.get("greedy_ids").get(i).asInt());
        assertThat(ref.get("greedy_text").asText()).startsWith(got.get("sequences").get(0).get("text").asText());
    }

    @Test
    void generateStopsAtTheFilesContextAndSaysSo() {
        CliTest.Result r = CliTest.run("generate", "--model", shared().resolve("llama2c/stories260K.gguf").toString(), "--greedy", "--max-new-tokens", "200");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).contains("stopped at the model's context of 128 tokens");
    }

    @Test
    void chatAnswersEachLineUntilExit() {
        InputStream before = System.in;
        System.setIn(new ByteArrayInputStream("Once upon a time\n\nThe dog ran\n/exit\nnever read\n".getBytes(StandardCharsets.UTF_8)));
        CliTest.Result r;
        try {
            r = CliTest.run("chat", "--model", shared().resolve("llama2c/stories260K.gguf").toString(), "--max-new-tokens", "20", "--context", "512", "--seed", "3");
        } finally {
            System.setIn(before);
        }
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).contains("chat template: plain (the model has none)");
        // two turns answered (the empty line skipped), then the prompt for a line that /exit ended
        assertThat(r.out().split("> ", -1)).hasSize(5);
        assertThat(r.out().replace("> ", "").strip()).isNotEmpty();
    }

    @Test
    void embedAQ8_0BertFileGivesTheReferenceVector() throws Exception {
        JsonNode item = new ObjectMapper().readTree(shared().resolve("reference/minilm-reference.json").toFile()).get("items").get(0);
        CliTest.Result r = CliTest.run("embed", "--model", shared().resolve("gguf/all-minilm-l6-v2-q8_0.gguf").toString(), "--normalize", "--json",
                item.get("text").asText());
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode got = r.lastJson().get("embeddings").get(0);
        double cosine = 0;
        for (int k = 0; k < 384; k++) cosine += got.get(k).asDouble() * item.get("embedding").get(k).asDouble();
        assertThat(cosine).isGreaterThanOrEqualTo(0.999);
        CliTest.Result bert = CliTest.run("generate", "--model", shared().resolve("gguf/all-minilm-l6-v2-q8_0.gguf").toString(), "--prompt", "x");
        assertThat(bert.code()).isNotZero();
        assertThat(bert.err()).contains("does not generate text: use jumbo embed");
    }
}
