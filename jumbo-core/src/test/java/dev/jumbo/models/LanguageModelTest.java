package dev.jumbo.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class LanguageModelTest {
    @Test
    void aLlama2cCheckpointFindsItsTokenizerAndStartsEveryPromptFromBos() throws Exception {
        StringWriter notes = new StringWriter();
        try (LanguageModel lm = LanguageModel.load(SharedData.dir().resolve("llama2c/stories260K.bin"), null, 0, new PrintWriter(notes, true))) {
            assertThat(notes.toString()).contains("tok512.bin");
            assertThat(lm.model().contextLength()).isEqualTo(512);
            assertThat(lm.bosFor("Once")).isEqualTo(lm.bosFor("")).isEqualTo(Llama2c.BOS);
            assertThat(lm.eos()).isEqualTo(Llama2c.BOS); // run.c ends a story at the next BOS
            assertThat(lm.chatTemplate()).isNull();
        }
    }

    @Test
    void aMissingFileIsNamed() {
        assertThatThrownBy(() -> LanguageModel.load(Path.of("no/such/model.bin"), null, 0, new PrintWriter(new StringWriter())))
                .isInstanceOf(NoSuchFileException.class).hasMessageContaining("model.bin");
    }
}
