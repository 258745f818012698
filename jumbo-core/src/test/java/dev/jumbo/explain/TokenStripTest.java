package dev.jumbo.explain;

import org.junit.jupiter.api.Test;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TokenStripTest {

    @Test
    void gpt2ByteLevelTokensReadAsTextWithSpaceAndNewlineMarks() {
        List<TokenStrip.Piece> p = TokenStrip.pieces(List.of("Hello", "\u0120world", "\u010A", "caf", "\u00C3\u00A9", "\u0109x", "<|endoftext|>"), new float[7], null);
        assertThat(p).extracting(TokenStrip.Piece::text).containsExactly("Hello", "\u2423world", "\u21B5", "caf", "\u00E9", "\u21E5x", "<|endoftext|>");
        assertThat(p).extracting(TokenStrip.Piece::lineBreak).containsExactly(false, false, true, false, false, false, false);
        assertThat(TokenStrip.decodeByteLevel("\u00E2\u0122\u00A6")).as("E2 80 A6").isEqualTo("\u2026");
        assertThat(TokenStrip.decodeByteLevel("\u0120\u00E2\u0124\u00A6")).as("20 E2 82 A6").isEqualTo(" \u20A6");
        assertThat(TokenStrip.decodeByteLevel("\u00E2\u0122")).as("a character cut in two").isEqualTo("\uFFFD");
    }

    @Test
    void wordPieceContinuationsAreJoinedAndSentencePieceSpacesMarked() {
        List<TokenStrip.Piece> p = TokenStrip.pieces(List.of("[CLS]", "play", "##ing", "##", "\u2581the"), new float[5], null);
        assertThat(p).extracting(TokenStrip.Piece::text).containsExactly("[CLS]", "play", "ing", "##", "\u2423the");
        assertThat(p).extracting(TokenStrip.Piece::joined).containsExactly(false, false, true, false, false);
    }

    @Test
    void boxesAreColouredBySignAndWrapIntoLines() {
        Random r = new Random(System.nanoTime());
        List<String> tokens = new ArrayList<>();
        float[] a = new float[120];
        for (int i = 0; i < a.length; i++) {
            tokens.add("\u0120word" + i);
            a[i] = i % 3 == 0 ? 1 + r.nextFloat() : i % 3 == 1 ? -1 - r.nextFloat() : 0;
        }
        BufferedImage p = TokenStrip.picture(tokens, a, "ig: positive");
        assertThat(p.getWidth()).isEqualTo(TokenStrip.WIDTH);
        int lines = (p.getHeight() - Heatmap.TITLE_HEIGHT - 40) / TokenStrip.LINE_HEIGHT;
        assertThat(lines).as("120 boxes of about 70 pixels need many lines").isGreaterThan(8);
        int red = 0, blue = 0;
        for (int y = 0; y < p.getHeight(); y++)
            for (int x = 0; x < p.getWidth(); x++) {
                if (HeatmapTest.red(p.getRGB(x, y))) red++;
                if (HeatmapTest.blue(p.getRGB(x, y))) blue++;
            }
        assertThat(red).isGreaterThan(40 * 200);
        assertThat(blue).isGreaterThan(40 * 200);
        // the first box (word0, the largest |a| or near it) is red at its left edge, inside its border
        assertThat(HeatmapTest.red(p.getRGB(TokenStrip.MARGIN + 2, Heatmap.TITLE_HEIGHT + 2))).isTrue();
    }

    @Test
    void aTokenLongerThanALineIsCutToFit() {
        BufferedImage p = TokenStrip.picture(List.of("a", "x".repeat(500), "b"), new float[] {1, 1, 1}, "t");
        assertThat(p.getWidth()).isEqualTo(TokenStrip.WIDTH);
        // three lines: a, the cut token, b; the cut box reaches to within a character of the right margin, not past it
        int y = Heatmap.TITLE_HEIGHT + TokenStrip.LINE_HEIGHT + 2;
        assertThat(HeatmapTest.red(p.getRGB(TokenStrip.MARGIN + 2, y))).isTrue();
        assertThat(HeatmapTest.red(p.getRGB(TokenStrip.WIDTH - TokenStrip.MARGIN - 14, y))).isTrue();
        assertThat(p.getRGB(TokenStrip.WIDTH - 2, y)).isEqualTo(0xFFFFFFFF);
        assertThat(HeatmapTest.red(p.getRGB(TokenStrip.MARGIN + 2, y + TokenStrip.LINE_HEIGHT))).as("b on the third line").isTrue();
    }

    @Test
    void htmlEscapesTokensAndCarriesEachValue() {
        String html = TokenStrip.html(List.of("<script>alert(1)</script>", "\u0120&amp;", "ok\"'"), new float[] {0.5f, -1, 0}, "ig <b>");
        assertThat(html).doesNotContain("<script").doesNotContain("<b>").contains("&lt;script&gt;").contains("ig &lt;b&gt;");
        assertThat(html).contains("&amp;amp;").contains("ok&quot;&#39;");
        assertThat(html).contains("background:#ffffff").as("0 is white").contains("background:#2166ac").as("-max is blue");
        assertThat(html).contains("title=\"1: \u0120&amp;amp; = -1.000\"");
        assertThat(html.split("<span style=\"background:", -1)).hasSize(4);
    }

    @Test
    void attributionsPerEmbeddingDimensionAreSummedPerToken() {
        Random r = new Random(System.nanoTime());
        float[] a = new float[4 * 6];
        for (int i = 0; i < a.length; i++) a[i] = (float) r.nextGaussian();
        Explanation e = new Explanation("ig", 0, new float[] {1}, dev.jumbo.tensor.Shape.of(4, 6), a, Double.NaN, java.util.Map.of());
        float[] sums = TokenStrip.perToken(e, 4);
        for (int t = 0; t < 4; t++) {
            float want = 0;
            for (int d = 0; d < 6; d++) want += a[t * 6 + d];
            assertThat(sums[t]).isCloseTo(want, org.assertj.core.api.Assertions.within(1e-5f));
        }
        assertThatThrownBy(() -> TokenStrip.perToken(e, 6)).hasMessageContaining("ig").hasMessageContaining("[4, 6]").hasMessageContaining("6 ([6] or [6, D])");
        Explanation flat = new Explanation("ig", 0, new float[] {1}, dev.jumbo.tensor.Shape.of(3), new float[] {1, 2, 3}, Double.NaN, java.util.Map.of());
        assertThat(TokenStrip.perToken(flat, 3)).containsExactly(1, 2, 3);
    }

    @Test
    void refusesAMismatchOrANonFiniteAttributionNamingTheToken() {
        assertThatThrownBy(() -> TokenStrip.html(List.of("a", "b"), new float[3], "t")).hasMessageContaining("2 tokens for 3 attributions");
        assertThatThrownBy(() -> TokenStrip.picture(List.of("a", "bee"), new float[] {0, Float.NaN}, "t"))
                .hasMessageContaining("token 1 (bee)").hasMessageContaining("NaN");
    }
}
