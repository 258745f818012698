package dev.jumbo.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumbo.io.FormatException;
import dev.jumbo.io.Json;
import dev.jumbo.text.SentencePieceBpe;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * llama2.c's stories260K checkpoint and tok512 tokenizer (../shared/data/llama2c) against
 * ../shared/data/reference/stories260K-reference.json: run.c's greedy text, and the logits of an
 * independent float64 implementation.
 */
class Llama2cTest {
    private static final Path DATA = SharedData.dir();
    private static final Path MODEL = DATA.resolve("llama2c/stories260K.bin"), TOKENIZER = DATA.resolve("llama2c/tok512.bin");

    @TempDir
    Path tmp;

    private static Map<?, ?> reference() throws Exception {
        return (Map<?, ?>) Json.parse(Files.readString(DATA.resolve("reference/stories260K-reference.json")));
    }

    private static int[] ints(Object list) {
        return ((List<?>) list).stream().mapToInt(x -> ((Long) x).intValue()).toArray();
    }

    @Test
    void greedyGenerationFromBosReproducesRunC() throws Exception {
        Map<?, ?> ref = reference();
        int[] want = ints(ref.get("greedy_ids"));
        try (Llama llama = Llama2c.load(MODEL)) {
            assertThat(llama.config()).isEqualTo(new LlamaConfig(64, 172, 5, 8, 4, 512, 512, 1e-5f, 10000, LlamaConfig.RopeStyle.NORM, true));
            SentencePieceBpe tok = Llama2c.loadTokenizer(TOKENIZER, llama.vocabSize());
            StringBuilder streamed = new StringBuilder();
            Generator.Generation g = Generator.generate(llama, tok, "",
                    GenerationConfig.defaults().greedy(true).maxNewTokens(want.length).bosTokenId(Llama2c.BOS).eosTokenId(Llama2c.BOS),
                    (seq, id, text) -> streamed.append(text));
            assertThat(g.promptTokenIds()).containsExactly(Llama2c.BOS);
            assertThat(g.sequences().getFirst().tokenIds()).containsExactly(want);
            assertThat(g.sequences().getFirst().text()).isEqualTo(ref.get("greedy_text"));
            assertThat(streamed.toString()).isEqualTo(ref.get("greedy_text"));
            llama.close(); // and again by try-with-resources: closing twice does nothing
            assertThatThrownBy(() -> llama.start().feed(new int[] {1})).isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void samplingIsReproducibleBySeed() throws Exception {
        try (Llama llama = Llama2c.load(MODEL)) {
            SentencePieceBpe tok = Llama2c.loadTokenizer(TOKENIZER, llama.vocabSize());
            GenerationConfig c = GenerationConfig.defaults().maxNewTokens(40).temperature(0.9).topP(0.9).seed(5).numReturnSequences(2)
                    .bosTokenId(Llama2c.BOS).eosTokenId(Llama2c.BOS);
            Generator.Generation a = Generator.generate(llama, tok, "Once upon a time", c, null);
            Generator.Generation b = Generator.generate(llama, tok, "Once upon a time", c, null);
            assertThat(a.promptTokenIds()).containsExactly(1, 403, 407, 261, 378);
            for (int i = 0; i < 2; i++) assertThat(a.sequences().get(i).tokenIds()).containsExactly(b.sequences().get(i).tokenIds());
            assertThat(a.sequences().get(0).tokenIds()).isNotEqualTo(a.sequences().get(1).tokenIds());
            for (Generator.Sequence s : a.sequences()) assertThat(s.text()).isEqualTo(tok.decode(concat(a.promptTokenIds(), s.tokenIds())).substring("Once upon a time".length()));
        }
    }

    private static int[] concat(int[] a, int[] b) {
        int[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    @Test
    void firstLogitsMatchTheFloat64Reference() throws Exception {
        Map<?, ?> ref = reference();
        int[] ids = ints(ref.get("greedy_ids"));
        List<?> steps = (List<?>) ref.get("logits_first_3_steps");
        try (Llama llama = Llama2c.load(MODEL)) {
            Llama.Session s = llama.start();
            float[] logits = s.feed(new int[] {Llama2c.BOS});
            double worst = 0;
            for (int step = 0; step < steps.size(); step++) {
                List<?> want = (List<?>) steps.get(step);
                assertThat(want).hasSize(llama.vocabSize());
                for (int v = 0; v < want.size(); v++) worst = Math.max(worst, Math.abs(logits[v] - ((Number) want.get(v)).doubleValue()));
                logits = s.feed(new int[] {ids[step]});
            }
            assertThat(worst).as("largest logit difference over 3 steps").isLessThan(1e-4);
        }
    }

    @Test
    void tokenizerEncodesAsRunCDoes() throws Exception {
        SentencePieceBpe tok = Llama2c.loadTokenizer(TOKENIZER, 512);
        assertThat(tok.vocabSize()).isEqualTo(512);
        assertThat(tok.bosId()).isEqualTo(1);
        assertThat(tok.eosId()).isEqualTo(2);
        assertThat(tok.unkId()).isZero();
        assertThat(tok.type(1)).isEqualTo(SentencePieceBpe.TokenType.CONTROL);
        assertThat(tok.type(3 + 0x41)).isEqualTo(SentencePieceBpe.TokenType.BYTE);
        assertThat(tok.token(403)).isEqualTo("▁Once");
        // ids from llama2.c's run.c encode(t, text, bos=1, eos=0) (commit 350e04f, built with -DTESTING), BOS dropped
        Map<String, int[]> runC = Map.of(
                "Once upon a time", new int[] {403, 407, 261, 378},
                "Hello world", new int[] {346, 306, 414, 263, 304, 341},
                "Lily's mom said, \"Lily, let's go to the park.\"",
                new int[] {317, 439, 419, 357, 336, 432, 313, 438, 310, 432, 278, 316, 439, 419, 298, 414, 267, 265, 282, 295, 433, 426, 436},
                "héllo ☃ 日本", new int[] {270, 485, 306, 414, 410, 229, 155, 134, 410, 233, 154, 168, 233, 159, 175},
                "  two  spaces", new int[] {410, 410, 259, 424, 414, 410, 262, 427, 412, 331, 419},
                "tab\tand\nnewline", new int[] {259, 412, 430, 12, 412, 264, 13, 416, 411, 424, 421, 271, 411},
                "", new int[0]);
        runC.forEach((text, ids) -> {
            assertThat(tok.encode(text)).as(text).containsExactly(ids);
            assertThat(tok.decode(ids)).as(text).isEqualTo(text);
        });
        // the reference story's text encodes to exactly the ids the model generated (run.c agrees)
        Map<?, ?> ref = reference();
        assertThat(tok.encode((String) ref.get("greedy_text"))).containsExactly(ints(ref.get("greedy_ids")));
    }

    /**
     * The tok512 vocabulary written as HuggingFace's converter writes a SentencePiece model
     * (LlamaConverter: every split of a piece into two pieces is a merge, merges ordered by the
     * piece's score; ▁ prepended by the normalizer) loads through Tokenizers and encodes the same.
     */
    @Test
    void aHuggingFaceConversionOfTheVocabularyEncodesAsTheOriginal() throws Exception {
        SentencePieceBpe tok = Llama2c.loadTokenizer(TOKENIZER, 512);
        Map<String, Object> vocab = new java.util.LinkedHashMap<>();
        for (int id = 0; id < 512; id++) vocab.put(tok.token(id), (long) id);
        List<Object[]> merges = new java.util.ArrayList<>();
        for (int id = 0; id < 512; id++) {
            String piece = tok.token(id);
            List<Object[]> local = new java.util.ArrayList<>();
            for (int cut = 1; cut < piece.length(); cut++) {
                String l = piece.substring(0, cut), r = piece.substring(cut);
                if (tok.type(id) == SentencePieceBpe.TokenType.NORMAL && vocab.containsKey(l) && vocab.containsKey(r))
                    local.add(new Object[] {l, r, tok.score(id)});
            }
            local.sort(java.util.Comparator.comparingLong((Object[] m) -> (Long) vocab.get((String) m[0])).thenComparingLong(m -> (Long) vocab.get((String) m[1])));
            merges.addAll(local);
        }
        merges.sort(java.util.Comparator.comparingDouble((Object[] m) -> -(Float) m[2])); // stable: ties keep their order
        Map<String, Object> model = new java.util.LinkedHashMap<>();
        model.put("type", "BPE");
        model.put("unk_token", "<unk>");
        model.put("byte_fallback", true);
        model.put("vocab", vocab);
        model.put("merges", merges.stream().map(m -> m[0] + " " + m[1]).toList());
        Map<String, Object> root = new java.util.LinkedHashMap<>();
        root.put("added_tokens", List.of(Map.of("id", 0L, "content", "<unk>", "special", true), Map.of("id", 1L, "content", "<s>", "special", true),
                Map.of("id", 2L, "content", "</s>", "special", true)));
        root.put("normalizer", Map.of("type", "Sequence", "normalizers", List.of(Map.of("type", "Prepend", "prepend", "▁"),
                Map.of("type", "Replace", "pattern", Map.of("String", " "), "content", "▁"))));
        root.put("model", model);
        Files.writeString(tmp.resolve("tokenizer.json"), Json.write(root, false));
        dev.jumbo.text.Tokenizer hf = dev.jumbo.text.Tokenizers.load(tmp);
        assertThat(hf).isInstanceOf(SentencePieceBpe.class);
        SentencePieceBpe spm = (SentencePieceBpe) hf;
        assertThat(spm.bosId()).isEqualTo(1);
        assertThat(spm.eosId()).isEqualTo(2);
        assertThat(spm.type(1)).isEqualTo(SentencePieceBpe.TokenType.CONTROL);
        assertThat(spm.type(3 + 0x0A)).isEqualTo(SentencePieceBpe.TokenType.BYTE);
        String story = (String) reference().get("greedy_text");
        for (String text : List.of(story, "Hello world", "héllo ☃ 日本", "  two  spaces", "tab\tand\nnewline", "Once upon a time"))
            assertThat(spm.encode(text)).as(text).containsExactly(tok.encode(text));
        assertThat(spm.decode(spm.encode(story))).isEqualTo(story);
    }

    @Test
    void theTokenizerBesideTheCheckpointIsFound() throws Exception {
        assertThat(Llama2c.findTokenizer(MODEL)).isEqualTo(TOKENIZER.toAbsolutePath());
        Path lone = Files.copy(MODEL, tmp.resolve("model.bin"));
        assertThatThrownBy(() -> Llama2c.findTokenizer(lone)).hasMessageContaining("tokenizer.bin");
        Files.copy(TOKENIZER, tmp.resolve("tok512.bin"));
        Files.copy(TOKENIZER, tmp.resolve("tok4096.bin"));
        assertThatThrownBy(() -> Llama2c.findTokenizer(lone)).hasMessageContaining("several").hasMessageContaining("tok4096.bin");
        Files.copy(TOKENIZER, tmp.resolve("tokenizer.bin"));
        assertThat(Llama2c.findTokenizer(lone)).isEqualTo(tmp.resolve("tokenizer.bin").toAbsolutePath());
    }

    // ---------------------------------------------------------------- malformed files

    private Path withBytes(String name, byte[] bytes) throws Exception {
        return Files.write(tmp.resolve(name), bytes);
    }

    private static byte[] header(int... fields) {
        ByteBuffer b = ByteBuffer.allocate(4 * fields.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int f : fields) b.putInt(f);
        return b.array();
    }

    private void rejects(Path file, String... fragments) {
        var thrown = assertThatThrownBy(() -> Llama2c.load(file).close()).isInstanceOf(FormatException.class).hasMessageStartingWith(file.toString());
        for (String f : fragments) thrown.hasMessageContaining(f);
    }

    @Test
    void truncatedOrPaddedCheckpointsAreNamed() throws Exception {
        byte[] good = Files.readAllBytes(MODEL);
        rejects(withBytes("half.bin", Arrays.copyOf(good, good.length / 2)), "has " + good.length / 2 + " bytes", "describes " + good.length, "truncated");
        rejects(withBytes("short.bin", Arrays.copyOf(good, good.length - 1)), "truncated");
        rejects(withBytes("long.bin", Arrays.copyOf(good, good.length + 8)), "8 bytes unaccounted for");
        rejects(withBytes("tiny.bin", Arrays.copyOf(good, 20)), "too short");
        // the classifier is stored only when vocab_size is negative: the same file then lacks it
        byte[] unshared = good.clone();
        ByteBuffer.wrap(unshared).order(ByteOrder.LITTLE_ENDIAN).putInt(20, -512);
        rejects(withBytes("unshared.bin", unshared), "vocab_size=-512", "truncated");
    }

    @Test
    void impossibleHeadersAreNamed() throws Exception {
        rejects(withBytes("negative.bin", header(-64, 172, 5, 8, 4, 512, 512)), "dim must be positive, got -64");
        rejects(withBytes("heads.bin", header(64, 172, 5, 7, 7, 512, 512)), "not a multiple of heads 7");
        rejects(withBytes("kv.bin", header(64, 172, 5, 8, 3, 512, 512)), "not a multiple of kv_heads 3");
        rejects(withBytes("kv-more.bin", header(64, 172, 5, 8, 16, 512, 512)), "kv_heads 16");
        rejects(withBytes("vocab0.bin", header(64, 172, 5, 8, 4, 0, 512)), "vocab_size is out of range");
        rejects(withBytes("vocabmin.bin", header(64, 172, 5, 8, 4, Integer.MIN_VALUE, 512)), "vocab_size is out of range");
        rejects(withBytes("seq.bin", header(64, 172, 5, 8, 4, 512, -1)), "context_length must be positive");
        rejects(withBytes("huge.bin", header(1 << 30, 1 << 30, 1 << 30, 1 << 20, 1 << 20, 512, 512)), "more than 2^63 bytes");
        rejects(withBytes("big.bin", header(4096, 11008, 32, 32, 32, 32000, 2048)), "describes 26430423068", "truncated");
        rejects(withBytes("v1.bin", header(0x616b3432, 1, 64, 172, 5, 8, 4, 512, 512)), "version 1", "version 0");
    }

    @Test
    void randomHeadersAndBytesAreRefusedWithFormatErrorsOnly() throws Exception {
        byte[] good = Files.readAllBytes(MODEL), tokenizer = Files.readAllBytes(TOKENIZER);
        java.util.Random r = new java.util.Random(11);
        for (int round = 0; round < 300; round++) {
            byte[] bad = Arrays.copyOf(good, r.nextBoolean() ? good.length : r.nextInt(good.length));
            ByteBuffer header = ByteBuffer.wrap(bad).order(ByteOrder.LITTLE_ENDIAN);
            int field = r.nextInt(7);
            if (bad.length >= 28) header.putInt(4 * field, r.nextBoolean() ? r.nextInt() : r.nextInt(2 * header.getInt(4 * field) + 1) - 1);
            Path file = withBytes("random.bin", bad);
            try {
                Llama2c.load(file).close();
                // only a header describing this very file loads: the original, or one whose change cancels out
            } catch (FormatException expected) {
                assertThat(expected.getMessage()).startsWith(file.toString());
            }
            byte[] badTok = Arrays.copyOf(tokenizer, r.nextInt(tokenizer.length + 1));
            if (badTok.length > 8) badTok[r.nextInt(badTok.length)] = (byte) r.nextInt();
            Path tok = withBytes("random-tok.bin", badTok);
            try {
                Llama2c.loadTokenizer(tok, 512);
            } catch (FormatException expected) {
                assertThat(expected.getMessage()).startsWith(tok.toString());
            }
        }
    }

    @Test
    void malformedTokenizersAreNamed() throws Exception {
        byte[] good = Files.readAllBytes(TOKENIZER);
        Path cut = withBytes("cut.bin", Arrays.copyOf(good, good.length - 3));
        assertThatThrownBy(() -> Llama2c.loadTokenizer(cut, 512)).isInstanceOf(FormatException.class)
                .hasMessageStartingWith(cut.toString()).hasMessageContaining("truncated: token 511 of 512");
        assertThatThrownBy(() -> Llama2c.loadTokenizer(TOKENIZER, 500)).isInstanceOf(FormatException.class)
                .hasMessageContaining("follow the 500 tokens").hasMessageContaining("vocabulary size mismatch");
        assertThatThrownBy(() -> Llama2c.loadTokenizer(TOKENIZER, 600)).isInstanceOf(FormatException.class)
                .hasMessageContaining("truncated: token 512 of 600");
        Path zero = withBytes("zero.bin", header(0));
        assertThatThrownBy(() -> Llama2c.loadTokenizer(zero, 1)).hasMessageContaining("max_token_length is 0");
        ByteBuffer negative = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putInt(8).putFloat(0f).putInt(-5);
        Path neg = withBytes("neg.bin", negative.array());
        assertThatThrownBy(() -> Llama2c.loadTokenizer(neg, 1)).hasMessageContaining("token 0 has length -5");
        ByteBuffer longer = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putInt(8).putFloat(0f).putInt(9);
        Path over = withBytes("over.bin", longer.array());
        assertThatThrownBy(() -> Llama2c.loadTokenizer(over, 1)).hasMessageContaining("length 9, outside 0..8");
        ByteBuffer notUtf8 = ByteBuffer.allocate(14).order(ByteOrder.LITTLE_ENDIAN).putInt(8).putFloat(0f).putInt(2).put((byte) 0xC3).put((byte) 0x28);
        Path bad = withBytes("bad.bin", notUtf8.array());
        assertThatThrownBy(() -> Llama2c.loadTokenizer(bad, 1)).hasMessageContaining("token 0 is not valid UTF-8");
        ByteBuffer nan = ByteBuffer.allocate(13).order(ByteOrder.LITTLE_ENDIAN).putInt(8).putFloat(Float.NaN).putInt(1).put("a".getBytes(StandardCharsets.UTF_8));
        Path nanScore = withBytes("nan.bin", nan.array());
        assertThatThrownBy(() -> Llama2c.loadTokenizer(nanScore, 1)).hasMessageContaining("NaN score");
    }
}
