package dev.jumbo.text;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumbo.io.FormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenizersTest {
    @TempDir
    Path tmp;

    @Test
    void aSavedCharacterTokenizerLoadsBackWithTheSameIds() throws IOException {
        CharTokenizer chars = CharTokenizer.of("To be, or not to be: ¿qué? 🦙");
        chars.save(tmp);
        Tokenizer back = Tokenizers.load(tmp);
        assertThat(back).isInstanceOf(CharTokenizer.class);
        assertThat(back.encode("be 🦙 or not")).containsExactly(chars.encode("be 🦙 or not"));
    }

    @Test
    void picksTheFormatFromTheFiles() throws IOException {
        assertThat(Tokenizers.load(SharedData.dir().resolve("gpt2-tokenizer"))).isInstanceOf(ByteLevelBpe.class);
        Files.writeString(tmp.resolve("vocab.txt"), "[UNK]\n[CLS]\n[SEP]\nhi\n");
        assertThat(Tokenizers.load(tmp)).isInstanceOf(WordPiece.class);
    }

    @Test
    void unsupportedOrMalformedFilesAreNamed() throws IOException {
        assertThatThrownBy(() -> Tokenizers.load(tmp)).isInstanceOf(FormatException.class).hasMessageContaining("no tokenizer.json");
        Files.writeString(tmp.resolve("tokenizer.json"), "{\"model\": {\"type\": \"Unigram\"}}");
        assertThatThrownBy(() -> Tokenizers.load(tmp)).isInstanceOf(FormatException.class).hasMessageContaining("Unigram");
        Files.writeString(tmp.resolve("tokenizer.json"), "{\"model\": {\"type\": \"WordLevel\", \"vocab\": {\"ab\": 0}}}");
        assertThatThrownBy(() -> Tokenizers.load(tmp)).isInstanceOf(FormatException.class).hasMessageContaining("'ab'");
        Files.writeString(tmp.resolve("tokenizer.json"), "{\"model\": {\"type\": \"WordLevel\", \"vocab\": {\"a\": 0, \"b\": 0}}}");
        assertThatThrownBy(() -> Tokenizers.load(tmp)).isInstanceOf(FormatException.class).hasMessageContaining("each once");
    }
}
