package dev.jumbo.text;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumbo.io.FormatException;
import dev.jumbo.io.Gguf;
import dev.jumbo.io.GgufFile;
import dev.jumbo.io.GgufValueType;
import dev.jumbo.io.GgufWriter;
import dev.jumbo.io.Json;
import dev.jumbo.models.Llama2c;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tokenizers built from GGUF metadata against llama.cpp's own test vectors
 * ({@code tests/test-tokenizer-0}: each input of {@code <vocab>.gguf.inp} tokenized without special
 * tokens, expected ids in {@code <vocab>.gguf.out}), against the tokenizers Jumbo reads from the
 * models' other files, and on malformed vocabularies.
 */
class GgufTokenizersTest {
    private static final Path VECTORS = SharedData.dir().resolve("tokenizer-tests");

    @TempDir
    Path tmp;

    /** The inputs of a vocabulary's .inp (each ended by a "__ggml_vocab_test__" line) and the ids of its .out, one line per input. */
    private record Vectors(List<String> inputs, List<int[]> expected) {
        static Vectors of(String vocab) throws IOException {
            String inp = Files.readString(VECTORS.resolve(vocab + ".inp"), StandardCharsets.UTF_8);
            List<String> parts = Arrays.asList(inp.split("\n__ggml_vocab_test__\n", -1));
            List<String> out = Files.readAllLines(VECTORS.resolve(vocab + ".out"), StandardCharsets.UTF_8);
            List<int[]> ids = out.stream().map(String::strip)
                    .map(l -> l.isEmpty() ? new int[0] : Arrays.stream(l.split(" ")).mapToInt(Integer::parseInt).toArray()).toList();
            return new Vectors(parts.subList(0, parts.size() - 1), ids);
        }
    }

    /** Tokenizes every input of {@code vocab}'s test file with the tokenizer of the GGUF file and returns how many passed (all, or it fails). */
    private static int passesEveryVector(String vocab, Class<? extends Tokenizer> kind) throws IOException {
        Vectors v = Vectors.of(vocab);
        assertThat(v.inputs()).hasSize(v.expected().size()).hasSizeGreaterThan(40);
        try (GgufFile gguf = Gguf.open(VECTORS.resolve(vocab))) {
            Tokenizer t = Tokenizers.fromGguf(gguf);
            assertThat(t).isInstanceOf(kind);
            for (int i = 0; i < v.inputs().size(); i++)
                assertThat(t.encode(v.inputs().get(i))).as("%s input %d: '%s'", vocab, i, v.inputs().get(i)).containsExactly(v.expected().get(i));
        }
        return v.inputs().size();
    }

    @Test
    void llamaSpmPassesEveryLlamaCppVector() throws IOException {
        assertThat(passesEveryVector("ggml-vocab-llama-spm.gguf", SentencePieceBpe.class)).isEqualTo(46);
    }

    @Test
    void gpt2PassesEveryLlamaCppVector() throws IOException {
        assertThat(passesEveryVector("ggml-vocab-gpt-2.gguf", ByteLevelBpe.class)).isEqualTo(46);
    }

    @Test
    void bertBgePassesEveryLlamaCppVector() throws IOException {
        assertThat(passesEveryVector("ggml-vocab-bert-bge.gguf", WordPiece.class)).isEqualTo(46);
    }

    @Test
    void llamaSpmKeepsItsSpecialIdsAndSpacePrefix() throws IOException {
        try (GgufFile gguf = Gguf.open(VECTORS.resolve("ggml-vocab-llama-spm.gguf"))) {
            SentencePieceBpe t = (SentencePieceBpe) Tokenizers.fromGguf(gguf);
            assertThat(new int[] {t.bosId(), t.eosId(), t.unkId(), t.vocabSize()}).containsExactly(1, 2, 0, 32000);
            assertThat(t.addSpacePrefix()).isTrue();
            // a text that starts with a space keeps it as a piece of its own after the added one: "▁" "▁Hello"
            assertThat(t.encode(" Hello")).containsExactly(29871, 15043);
            assertThat(t.decode(t.encode(" Hello world"))).isEqualTo(" Hello world");
        }
    }

    @Test
    void gpt2PutIntoGgufHoldsLlamaCppsTokensAndMergesAndReadsBack(@TempDir Path tmp) throws IOException {
        ByteLevelBpe files = ByteLevelBpe.load(SharedData.dir().resolve("gpt2-tokenizer"));
        Path written = tmp.resolve("gpt2-vocab.gguf");
        GgufWriter w = new GgufWriter().put("general.architecture", "gpt2");
        files.putGguf(w);
        w.write(written);
        try (GgufFile mine = Gguf.open(written); GgufFile llamaCpp = Gguf.open(VECTORS.resolve("ggml-vocab-gpt-2.gguf"))) {
            assertThat(mine.strings("tokenizer.ggml.tokens")).containsExactly(llamaCpp.strings("tokenizer.ggml.tokens"));
            assertThat(mine.strings("tokenizer.ggml.merges")).containsExactly(llamaCpp.strings("tokenizer.ggml.merges"));
            assertThat(mine.string("tokenizer.ggml.pre")).isEqualTo(llamaCpp.string("tokenizer.ggml.pre", "gpt-2"));
            assertThat(mine.integer("tokenizer.ggml.eos_token_id")).isEqualTo(50256);
            Tokenizer t = Tokenizers.fromGguf(mine);
            for (String s : List.of("Hello world", " 🦙 llamas\n\n  and   spaces", "I'm 3.14159 sure"))
                assertThat(t.encode(s)).as(s).containsExactly(files.encode(s));
        }
    }

    @Test
    void gpt2FromGgufEqualsGpt2FromItsOwnFiles() throws IOException {
        ByteLevelBpe files = ByteLevelBpe.load(SharedData.dir().resolve("gpt2-tokenizer"));
        try (GgufFile gguf = Gguf.open(VECTORS.resolve("ggml-vocab-gpt-2.gguf"))) {
            Tokenizer t = Tokenizers.fromGguf(gguf);
            assertThat(t.vocabSize()).isEqualTo(files.vocabSize());
            assertThat(t.id("<|endoftext|>")).isEqualTo(50256);
            for (String s : List.of("Hello world", " 🦙 llamas\n\n  and   spaces", "I'm 3.14159 sure"))
                assertThat(t.encode(s)).as(s).containsExactly(files.encode(s));
        }
    }

    @Test
    void miniLmGgufGivesTheReferenceIdsOfItsTokenizerJson() throws IOException {
        try (InputStream in = GgufTokenizersTest.class.getResourceAsStream("/all-minilm-l6-v2-tokenizer.json")) {
            assertThat(in).as("all-minilm-l6-v2-tokenizer.json on the test class path").isNotNull();
            Files.copy(in, tmp.resolve("tokenizer.json"));
        }
        WordPiece json = WordPiece.load(tmp);
        Map<?, ?> ref = (Map<?, ?>) Json.parse(Files.readString(SharedData.dir().resolve("reference/minilm-reference.json")));
        try (GgufFile gguf = Gguf.open(SharedData.dir().resolve("gguf/all-minilm-l6-v2-q8_0.gguf"))) {
            WordPiece t = (WordPiece) Tokenizers.fromGguf(gguf);
            assertThat(t.vocabSize()).isEqualTo(json.vocabSize());
            for (Object o : (List<?>) ref.get("items")) {
                Map<?, ?> item = (Map<?, ?>) o;
                String text = (String) item.get("text");
                int[] want = ((List<?>) item.get("input_ids")).stream().mapToInt(x -> ((Long) x).intValue()).toArray();
                assertThat(t.encodeWithSpecialTokens(text)).as(text).containsExactly(want);
                assertThat(t.tokens(want)).as("tokens spelled as BERT spells them").isEqualTo(item.get("tokens"));
            }
            for (String s : List.of("[MASK] is kept whole", "Ünïcödé naïve 中文 text", "unaffable tokenization ##already"))
                assertThat(t.encodeWithSpecialTokens(s)).as(s).containsExactly(json.encodeWithSpecialTokens(s));
            assertThat(t.decode(t.encode("Hello, world!"))).isEqualTo("hello , world !");
        }
    }

    @Test
    void stories260KGgufEqualsLlama2cTokenizer() throws IOException {
        Path dir = SharedData.dir().resolve("llama2c");
        SentencePieceBpe bin = Llama2c.loadTokenizer(dir.resolve("tok512.bin"), 512);
        try (GgufFile gguf = Gguf.open(dir.resolve("stories260K.gguf"))) {
            SentencePieceBpe t = (SentencePieceBpe) Tokenizers.fromGguf(gguf);
            assertThat(t.vocabSize()).isEqualTo(512);
            // its separator and padding ids are u32 -1 ("none"), which must not count as out of range
            assertThat(new int[] {t.bosId(), t.eosId(), t.unkId()}).containsExactly(bin.bosId(), bin.eosId(), bin.unkId());
            for (String s : List.of("Once upon a time, there was a little girl named Lily.", " She liked  to play\noutside.",
                    "Tom said: \"Wow! 123 🦙 café\"", ""))
                assertThat(t.encode(s)).as(s).containsExactly(bin.encode(s));
        }
    }

    // ---------------------------------------------------------------- malformed metadata

    /** A GGUF file holding only the metadata {@code build} puts. */
    private Path gguf(String name, UnaryOperator<GgufWriter> build) throws IOException {
        Path file = tmp.resolve(name + ".gguf");
        build.apply(new GgufWriter()).write(file);
        return file;
    }

    private static GgufWriter llama(GgufWriter w, List<String> tokens, List<Float> scores) {
        return w.put("tokenizer.ggml.model", "llama")
                .putArray("tokenizer.ggml.tokens", GgufValueType.STRING, tokens)
                .putArray("tokenizer.ggml.scores", GgufValueType.FLOAT32, scores);
    }

    private static FormatException failure(Path file) throws IOException {
        try (GgufFile g = Gguf.open(file)) {
            Tokenizers.fromGguf(g);
        } catch (FormatException e) {
            return e;
        }
        throw new AssertionError(file + " was accepted");
    }

    @Test
    void aSmallWrittenVocabularyWorks() throws IOException {
        Path file = gguf("ok", w -> llama(w, List.of("<unk>", "<s>", "</s>", "▁", "a", "b", "▁a", "▁ab"), List.of(0f, 0f, 0f, -1f, -1f, -1f, -2f, -3f))
                .putArray("tokenizer.ggml.token_type", GgufValueType.INT32, List.of(2, 3, 3, 1, 1, 1, 1, 1)));
        try (GgufFile g = Gguf.open(file)) {
            SentencePieceBpe t = (SentencePieceBpe) Tokenizers.fromGguf(g);
            assertThat(t.encode("ab a")).containsExactly(7, 6);
            assertThat(new int[] {t.bosId(), t.eosId(), t.unkId()}).as("llama.cpp's defaults").containsExactly(1, 2, 0);
        }
    }

    @Test
    void tokensAndScoresOfDifferentLengthsAreNamed() throws IOException {
        FormatException e = failure(gguf("lengths", w -> llama(w, List.of("<unk>", "a", "b"), List.of(0f, -1f))));
        assertThat(e.getMessage()).contains("lengths.gguf").contains("tokenizer.ggml.scores has 2 items").contains("tokenizer.ggml.tokens has 3");
        e = failure(gguf("types", w -> llama(w, List.of("<unk>", "a"), List.of(0f, -1f))
                .putArray("tokenizer.ggml.token_type", GgufValueType.INT32, List.of(2))));
        assertThat(e.getMessage()).contains("tokenizer.ggml.token_type has 1 items");
        e = failure(gguf("code", w -> llama(w, List.of("<unk>", "a"), List.of(0f, -1f))
                .putArray("tokenizer.ggml.token_type", GgufValueType.INT32, List.of(2, 9))));
        assertThat(e.getMessage()).contains("item 1 of tokenizer.ggml.token_type is 9");
    }

    @Test
    void aMergeNamingAnUnknownTokenIsNamed() throws IOException {
        FormatException e = failure(gguf("merges", w -> w.put("tokenizer.ggml.model", "gpt2").put("tokenizer.ggml.pre", "gpt-2")
                .putArray("tokenizer.ggml.tokens", GgufValueType.STRING, List.of("a", "b", "ab"))
                .putArray("tokenizer.ggml.merges", GgufValueType.STRING, List.of("a b", "a c"))));
        assertThat(e.getMessage()).contains("merges.gguf").contains("tokenizer.ggml.merges").contains("'a c'").contains("'c'");
        e = failure(gguf("merge", w -> w.put("tokenizer.ggml.model", "gpt2").put("tokenizer.ggml.pre", "gpt-2")
                .putArray("tokenizer.ggml.tokens", GgufValueType.STRING, List.of("a", "b", "ab"))
                .putArray("tokenizer.ggml.merges", GgufValueType.STRING, List.of("ab"))));
        assertThat(e.getMessage()).contains("item 0 of tokenizer.ggml.merges ('ab') is not two tokens");
        e = failure(gguf("nomerges", w -> w.put("tokenizer.ggml.model", "gpt2").put("tokenizer.ggml.pre", "gpt-2")
                .putArray("tokenizer.ggml.tokens", GgufValueType.STRING, List.of("a", "b", "ab"))));
        assertThat(e.getMessage()).contains("tokenizer.ggml.merges");
        e = failure(gguf("pre", w -> w.put("tokenizer.ggml.model", "gpt2").put("tokenizer.ggml.pre", "llama-bpe")
                .putArray("tokenizer.ggml.tokens", GgufValueType.STRING, List.of("a", "b", "ab"))
                .putArray("tokenizer.ggml.merges", GgufValueType.STRING, List.of("a b"))));
        assertThat(e.getMessage()).contains("tokenizer.ggml.pre is 'llama-bpe'");
    }

    @Test
    void aSpecialIdOutOfRangeIsNamed() throws IOException {
        FormatException e = failure(gguf("bos", w -> llama(w, List.of("<unk>", "<s>", "</s>"), List.of(0f, 0f, 0f))
                .put("tokenizer.ggml.bos_token_id", GgufValueType.UINT32, 7)));
        assertThat(e.getMessage()).contains("bos.gguf").contains("tokenizer.ggml.bos_token_id is 7, outside the vocabulary of 3 tokens");
        e = failure(gguf("sep", w -> w.put("tokenizer.ggml.model", "bert")
                .putArray("tokenizer.ggml.tokens", GgufValueType.STRING, List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "▁a"))
                .put("tokenizer.ggml.unknown_token_id", GgufValueType.UINT32, 1)
                .put("tokenizer.ggml.cls_token_id", GgufValueType.UINT32, 2)
                .put("tokenizer.ggml.seperator_token_id", GgufValueType.UINT32, 0xFFFF_FFFFL)));
        assertThat(e.getMessage()).contains("tokenizer.ggml.seperator_token_id is absent or none");
    }

    @Test
    void aMissingKeyOrAnUnknownModelIsNamed() throws IOException {
        assertThat(failure(gguf("none", w -> w.put("general.architecture", "llama"))).getMessage()).contains("none.gguf").contains("'tokenizer.ggml.model'");
        assertThat(failure(gguf("t5", w -> w.put("tokenizer.ggml.model", "t5"))).getMessage()).contains("tokenizer.ggml.model is 't5'");
        assertThat(failure(gguf("noscores", w -> w.put("tokenizer.ggml.model", "llama")
                .putArray("tokenizer.ggml.tokens", GgufValueType.STRING, List.of("<unk>")))).getMessage()).contains("tokenizer.ggml.scores");
        assertThat(failure(gguf("twice", w -> llama(w, List.of("<unk>", "a", "a"), List.of(0f, -1f, -1f)))).getMessage())
                .contains("twice.gguf").contains("'a'");
    }

    @Test
    void bertSpellingIsWrittenBackAndUserDefinedTokensStayWhole() throws IOException {
        Path file = gguf("bert", w -> w.put("tokenizer.ggml.model", "bert")
                .putArray("tokenizer.ggml.tokens", GgufValueType.STRING, List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "▁un", "aff", "able", "▁a", "<x>"))
                .putArray("tokenizer.ggml.token_type", GgufValueType.INT32, List.of(3, 3, 3, 3, 3, 1, 1, 1, 1, 4))
                .put("tokenizer.ggml.unknown_token_id", GgufValueType.UINT32, 1)
                .put("tokenizer.ggml.cls_token_id", GgufValueType.UINT32, 2)
                .put("tokenizer.ggml.seperator_token_id", GgufValueType.UINT32, 3)
                .put("tokenizer.ggml.mask_token_id", GgufValueType.UINT32, 4));
        try (GgufFile g = Gguf.open(file)) {
            WordPiece t = (WordPiece) Tokenizers.fromGguf(g);
            assertThat(t.encodeWithSpecialTokens("UNAFFABLE a<x>b affable")).containsExactly(2, 5, 6, 7, 8, 9, 1, 1, 3);
            assertThat(t.tokens(new int[] {5, 6, 7})).containsExactly("un", "##aff", "##able");
        }
    }
}
