package dev.jumbo.text;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumbo.io.FormatException;
import dev.jumbo.io.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** GPT-2's tokenizer against llama.cpp's GPT-2 test vectors, plus its file formats and their errors. */
class ByteLevelBpeTest {
    private static ByteLevelBpe gpt2;
    private static List<String> inputs;
    private static List<int[]> expected;

    @TempDir
    Path tmp;

    @BeforeAll
    static void load() throws IOException {
        Path data = SharedData.dir();
        gpt2 = ByteLevelBpe.load(data.resolve("gpt2-tokenizer"));
        // .inp: inputs, each followed by a "__ggml_vocab_test__" line; .out: one line of ids per input
        String inp = Files.readString(data.resolve("tokenizer-tests/ggml-vocab-gpt-2.gguf.inp"), StandardCharsets.UTF_8);
        List<String> parts = Arrays.asList(inp.split("\n__ggml_vocab_test__\n", -1));
        inputs = parts.subList(0, parts.size() - 1);
        List<String> out = Files.readAllLines(data.resolve("tokenizer-tests/ggml-vocab-gpt-2.gguf.out"), StandardCharsets.UTF_8);
        expected = out.stream().map(l -> l.isBlank() ? new int[0] : Arrays.stream(l.trim().split(" ")).mapToInt(Integer::parseInt).toArray()).toList();
    }

    @Test
    void passesEveryGpt2TestVector() {
        assertThat(inputs).hasSize(expected.size()).hasSizeGreaterThan(40);
        for (int i = 0; i < inputs.size(); i++)
            assertThat(gpt2.encode(inputs.get(i))).as("input %d: %s", i, inputs.get(i)).containsExactly(expected.get(i));
    }

    @Test
    void decodeGivesBackTheText() {
        for (String s : inputs) assertThat(gpt2.decode(gpt2.encode(s))).isEqualTo(s);
        assertThat(gpt2.vocabSize()).isEqualTo(50257);
        assertThat(gpt2.id("<|endoftext|>")).isEqualTo(50256);
        assertThat(gpt2.decode(new int[] {50256})).isEqualTo("<|endoftext|>");
    }

    @Test
    void aCharacterCutBetweenTokensDecodesToTheReplacementCharacter() {
        int[] ids = gpt2.encode(" 🦙");
        assertThat(ids.length).isGreaterThan(1);
        assertThat(gpt2.decode(Arrays.copyOf(ids, ids.length - 1))).endsWith("\uFFFD");
        assertThatThrownBy(() -> gpt2.decode(new int[] {50257})).hasMessageContaining("50257");
    }

    @Test
    void tokenizerJsonGivesTheSameIdsAsVocabAndMerges() throws IOException {
        Path data = SharedData.dir().resolve("gpt2-tokenizer");
        Object vocab = Json.parse(Files.readString(data.resolve("vocab.json")));
        List<String> merges = Files.readAllLines(data.resolve("merges.txt")).stream().skip(1).filter(l -> !l.isBlank()).toList();
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("type", "BPE");
        model.put("vocab", vocab);
        // half the merges as strings, half as pairs: both spellings occur in the wild
        model.put("merges", java.util.stream.IntStream.range(0, merges.size())
                .mapToObj(i -> i % 2 == 0 ? (Object) merges.get(i) : List.of(merges.get(i).split(" "))).toList());
        Files.writeString(tmp.resolve("tokenizer.json"), Json.write(Map.of("model", model), false));
        ByteLevelBpe fromJson = ByteLevelBpe.load(tmp);
        for (int i = 0; i < inputs.size(); i++)
            assertThat(fromJson.encode(inputs.get(i))).as("input %d", i).containsExactly(expected.get(i));
    }

    @Test
    void aSavedTokenizerJsonLoadsBackWithTheSameIds() throws IOException {
        gpt2.save(tmp);
        Tokenizer back = Tokenizers.load(tmp);
        assertThat(back).isInstanceOf(ByteLevelBpe.class);
        assertThat(back.vocabSize()).isEqualTo(50257);
        assertThat(back.id("<|endoftext|>")).isEqualTo(50256);
        for (int i = 0; i < inputs.size(); i++)
            assertThat(back.encode(inputs.get(i))).as("input %d", i).containsExactly(expected.get(i));
        Map<?, ?> root = (Map<?, ?>) Json.parse(Files.readString(tmp.resolve("tokenizer.json")));
        Map<?, ?> model = (Map<?, ?>) root.get("model");
        List<String> merges = Files.readAllLines(SharedData.dir().resolve("gpt2-tokenizer/merges.txt")).stream().skip(1).filter(l -> !l.isBlank()).toList();
        assertThat(model.get("merges")).as("merges best first, as in merges.txt").isEqualTo(merges);
        assertThat(((Map<?, ?>) root.get("pre_tokenizer")).get("type")).isEqualTo("ByteLevel");
    }

    @Test
    void malformedFilesAreNamedWithTheirProblem() throws IOException {
        Path vocab = tmp.resolve("vocab.json"), merges = tmp.resolve("merges.txt");
        Files.writeString(vocab, "{\"a\": 0, \"b\": 1, \"ab\": 2}");
        Files.writeString(merges, "#version: 0.2\na b\na c\n");
        assertThatThrownBy(() -> ByteLevelBpe.fromFiles(vocab, merges)).isInstanceOf(FormatException.class)
                .hasMessageContaining("merges.txt").hasMessageContaining("merge 2").hasMessageContaining("'c'");
        Files.writeString(merges, "#version: 0.2\na b c\n");
        assertThatThrownBy(() -> ByteLevelBpe.fromFiles(vocab, merges)).isInstanceOf(FormatException.class).hasMessageContaining("line 2");
        Files.writeString(merges, "#version: 0.2\n");
        Files.writeString(vocab, "{\"a\": 0, \"b\": 0}");
        assertThatThrownBy(() -> ByteLevelBpe.fromFiles(vocab, merges)).isInstanceOf(FormatException.class).hasMessageContaining("id 0");
        Files.writeString(vocab, "{\"a\": -3}");
        assertThatThrownBy(() -> ByteLevelBpe.fromFiles(vocab, merges)).isInstanceOf(FormatException.class).hasMessageContaining("-3");
        Files.writeString(vocab, "{\"a\": 0,");
        assertThatThrownBy(() -> ByteLevelBpe.fromFiles(vocab, merges)).isInstanceOf(FormatException.class).hasMessageContaining("vocab.json");
        Files.writeString(tmp.resolve("tokenizer.json"), "{\"model\": {\"type\": \"WordPiece\"}}");
        assertThatThrownBy(() -> ByteLevelBpe.load(tmp)).isInstanceOf(FormatException.class).hasMessageContaining("WordPiece");
    }
}
