package dev.jumbo.text;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link SentencePieceBpe} on small hand-made vocabularies, where the merges it must make can be
 * worked out by hand. (The llama2.c vocabulary is checked against run.c in {@code Llama2cTest}.)
 */
class SentencePieceBpeTest {
    private static final int NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER = 4, UNUSED = 5, BYTE = 6;

    /** <unk>, <s>, </s>, the 256 byte tokens, then the given pieces (type, score) in order. */
    private static SentencePieceBpe vocab(boolean bytes, boolean spacePrefix, Object... pieces) {
        List<String> tokens = new ArrayList<>(List.of("<unk>", "<s>", "</s>"));
        List<Integer> types = new ArrayList<>(List.of(UNKNOWN, CONTROL, CONTROL));
        List<Float> scores = new ArrayList<>(List.of(0f, 0f, 0f));
        if (bytes)
            for (int b = 0; b < 256; b++) {
                tokens.add(String.format("<0x%02X>", b));
                types.add(BYTE);
                scores.add(0f);
            }
        for (int i = 0; i < pieces.length; i += 3) {
            tokens.add((String) pieces[i]);
            types.add((Integer) pieces[i + 1]);
            scores.add(((Number) pieces[i + 2]).floatValue());
        }
        float[] s = new float[scores.size()];
        for (int i = 0; i < s.length; i++) s[i] = scores.get(i);
        return new SentencePieceBpe(tokens.toArray(String[]::new), s, types.stream().mapToInt(Integer::intValue).toArray(), 1, 2, 0, spacePrefix);
    }

    private static String[] pieces(SentencePieceBpe t, int[] ids) {
        String[] p = new String[ids.length];
        for (int i = 0; i < ids.length; i++) p[i] = t.token(ids[i]);
        return p;
    }

    @Test
    void mergesTheHighestScoringPieceFirstAndTheLeftmostOnTies() {
        SentencePieceBpe t = vocab(true, false, "a", NORMAL, -10, "b", NORMAL, -10, "c", NORMAL, -10,
                "ab", NORMAL, -1, "bc", NORMAL, -0.5, "aa", NORMAL, -1);
        // bc (-0.5) beats ab (-1), and a + bc is no piece: [a, bc] (ab first would give [ab, c])
        assertThat(pieces(t, t.encode("abc"))).containsExactly("a", "bc");
        // aa at 0-1 and 1-2 tie: the leftmost merges
        assertThat(pieces(t, t.encode("aaa"))).containsExactly("aa", "a");
        // aa (0-1) and ab (1-2) tie at -1: the leftmost again
        assertThat(pieces(t, t.encode("aab"))).containsExactly("aa", "b");
    }

    @Test
    void mergesFollowScoresNotLength() {
        SentencePieceBpe t = vocab(true, false, "x", NORMAL, -9, "y", NORMAL, -9, "z", NORMAL, -9,
                "xy", NORMAL, -5, "yz", NORMAL, -4, "xyz", NORMAL, -6);
        // yz first (-4), then x + yz = xyz
        assertThat(pieces(t, t.encode("xyz"))).containsExactly("xyz");
        assertThat(pieces(t, t.encode("xy"))).containsExactly("xy");
    }

    @Test
    void spacesAreWrittenAsTheSpaceSymbolWithOnePutBeforeTheText() {
        SentencePieceBpe t = vocab(true, true, "▁", NORMAL, -1, "h", NORMAL, -9, "i", NORMAL, -9, "▁h", NORMAL, -2, "▁hi", NORMAL, -1);
        assertThat(pieces(t, t.encode("hi hi"))).containsExactly("▁hi", "▁hi");
        assertThat(pieces(t, t.encode(" hi"))).containsExactly("▁", "▁hi");
        assertThat(t.encode("")).isEmpty();
        assertThat(t.decode(t.encode("hi hi"))).isEqualTo("hi hi");
        assertThat(t.decode(t.encode(" hi"))).isEqualTo(" hi");
        // without the prefix, nothing is added and nothing is dropped
        SentencePieceBpe plain = vocab(true, false, "▁", NORMAL, -1, "h", NORMAL, -9, "i", NORMAL, -9, "▁h", NORMAL, -2, "▁hi", NORMAL, -1);
        assertThat(pieces(plain, plain.encode("hi hi"))).containsExactly("h", "i", "▁hi");
        assertThat(plain.decode(plain.encode(" hi"))).isEqualTo(" hi");
    }

    @Test
    void charactersOutsideTheVocabularyFallBackToBytesOrTheUnknownToken() {
        SentencePieceBpe t = vocab(true, false, "a", NORMAL, -1);
        int[] ids = t.encode("aé😀");
        assertThat(pieces(t, ids)).containsExactly("a", "<0xC3>", "<0xA9>", "<0xF0>", "<0x9F>", "<0x98>", "<0x80>");
        assertThat(t.decode(ids)).isEqualTo("aé😀");
        // a character cut between byte tokens decodes to U+FFFD until its last byte comes
        assertThat(t.decode(java.util.Arrays.copyOf(ids, 3))).isEqualTo("aé");
        assertThat(t.decode(java.util.Arrays.copyOf(ids, 5))).isEqualTo("aé\uFFFD");
        SentencePieceBpe noBytes = vocab(false, false, "a", NORMAL, -1);
        assertThat(noBytes.encode("aéa")).containsExactly(noBytes.id("a"), 0, noBytes.id("a"));
        SentencePieceBpe nothing = new SentencePieceBpe(new String[] {"a"}, new float[1], null, -1, -1, -1, false);
        assertThatThrownBy(() -> nothing.encode("ab")).hasMessageContaining("cannot encode 'b'");
    }

    @Test
    void decodingWritesNothingForControlUnknownAndUnusedTokens() {
        SentencePieceBpe t = vocab(true, true, "▁hi", NORMAL, -1, "<pad>", UNUSED, 0, "<tool>", USER, 0, "x", NORMAL, -1);
        int hi = t.id("▁hi"), tool = t.id("<tool>");
        // the space of the first piece that writes text is dropped, even after BOS (llama2.c does this after BOS)
        assertThat(t.decode(new int[] {1, hi, hi, 2, t.id("<pad>"), 0})).isEqualTo("hi hi");
        assertThat(t.decode(new int[] {tool, hi})).isEqualTo("<tool> hi");
        assertThat(t.decode(new int[0])).isEmpty();
        assertThatThrownBy(() -> t.decode(new int[] {t.vocabSize()})).hasMessageContaining("outside the vocabulary");
        assertThat(t.id("<s>")).isEqualTo(t.bosId()).isEqualTo(1);
        assertThat(t.id("nope")).isEqualTo(-1);
        assertThat(t.type(t.id("<pad>"))).isEqualTo(SentencePieceBpe.TokenType.UNUSED);
    }

    @Test
    void userDefinedTokensAreMatchedWholeBeforeMerging() {
        SentencePieceBpe t = vocab(true, true, "▁", NORMAL, -1, "a", NORMAL, -2, "▁a", NORMAL, -1, "<tool>", USER, 0, "<tool>x", USER, 0,
                "<", NORMAL, -5, "t", NORMAL, -5);
        // longest first; text after a matched token gets the space prefix again (llama.cpp's rule)
        assertThat(pieces(t, t.encode("a<tool>xa<tool>a"))).containsExactly("▁a", "<tool>x", "▁a", "<tool>", "▁a");
        // control tokens are not parsed from text
        assertThat(pieces(t, t.encode("<s>"))).doesNotContain("<s>");
    }

    @Test
    void randomTextRoundTrips() {
        SentencePieceBpe t = vocab(true, true, "▁", NORMAL, -1, "e", NORMAL, -3, "▁th", NORMAL, -2, "th", NORMAL, -2.5, "the", NORMAL, -1.5,
                "▁the", NORMAL, -1, "t", NORMAL, -4, "h", NORMAL, -4);
        Random r = new Random(7);
        String alphabet = "the th e  \n\té日😀ab";
        for (int n = 0; n < 300; n++) {
            StringBuilder s = new StringBuilder();
            for (int i = r.nextInt(30); i > 0; i--) s.appendCodePoint(alphabet.codePointAt(alphabet.offsetByCodePoints(0, r.nextInt(alphabet.codePointCount(0, alphabet.length())))));
            assertThat(t.decode(t.encode(s.toString()))).as("'%s'", s).isEqualTo(s.toString());
        }
    }

    @Test
    void badVocabulariesAreNamed() {
        assertThatThrownBy(() -> new SentencePieceBpe(new String[] {"a", "b"}, new float[1], null, -1, -1, -1, true))
                .hasMessageContaining("2 tokens but 1 scores");
        assertThatThrownBy(() -> new SentencePieceBpe(new String[] {"a"}, new float[1], new int[] {7}, -1, -1, -1, true))
                .hasMessageContaining("token type 7");
        assertThatThrownBy(() -> new SentencePieceBpe(new String[] {"<0xZZ>"}, new float[1], new int[] {BYTE}, -1, -1, -1, true))
                .hasMessageContaining("token 0 '<0xZZ>' is a byte token but not written <0xXX>");
        assertThatThrownBy(() -> new SentencePieceBpe(new String[] {"a"}, new float[1], null, 1, -1, -1, true))
                .hasMessageContaining("special token id 1 is outside the vocabulary of 1");
        assertThat(SentencePieceBpe.TokenType.ofGguf(6)).isEqualTo(SentencePieceBpe.TokenType.BYTE);
    }
}
