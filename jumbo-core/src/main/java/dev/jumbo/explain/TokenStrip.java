package dev.jumbo.explain;

import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A text explanation as a strip of tokens, each in a box coloured on the {@link ColourScale#DIVERGING}
 * scale by its attribution over the largest absolute one (red pushed the output up, blue down),
 * wrapped into lines, with a legend. As a picture ({@link #picture}) or as an HTML fragment
 * ({@link #html}) with the exact value of each token in its tooltip.
 *
 * <p>Tokens are shown as text, not as a vocabulary spells them: a list of GPT-2 byte-level tokens
 * (one holds {@code Ġ} or {@code Ċ}) is decoded from its byte stand-ins, a space shown as
 * {@code ␣}, a newline as {@code ↵} and a line break, a tab as {@code ⇥}; SentencePiece's {@code ▁}
 * is a space too; a WordPiece continuation ({@code ##ing}) loses its {@code ##} and is joined to the
 * box before it with a dotted seam.
 *
 * <pre>{@code
 * Explanation ig = ...;                                   // attributions of shape [tokens]
 * Heatmap.writePng(TokenStrip.picture(tokens, ig.attributions(), "ig: positive"), Path.of("tokens.png"));
 * }</pre>
 */
public final class TokenStrip {
    static final int WIDTH = 760, MARGIN = 10, LINE_HEIGHT = 26, BOX_HEIGHT = 20, PAD = 4, GAP = 4;
    static final Font TOKEN_FONT = new Font(Font.MONOSPACED, Font.PLAIN, 13);

    private TokenStrip() {}

    /** How one token is shown: its text, whether it is glued to the token before, whether a line ends after it. */
    record Piece(String text, boolean joined, boolean lineBreak) {}

    /**
     * The strip as a picture, {@value #WIDTH} pixels wide and as tall as its lines need (write it with
     * {@link Heatmap#writePng}).
     *
     * @throws IllegalArgumentException if there is not one finite attribution per token
     */
    public static BufferedImage picture(List<String> tokens, float[] attributions, String title) {
        List<Piece> pieces = pieces(tokens, attributions, TOKEN_FONT);
        float end = maxAbs(attributions);
        FontMetrics fm = Heatmap.metrics(TOKEN_FONT);

        // Lay the boxes out first, to know the height.
        int[] bx = new int[pieces.size()], by = new int[pieces.size()], bw = new int[pieces.size()];
        int x = MARGIN, y = Heatmap.TITLE_HEIGHT;
        for (int i = 0; i < pieces.size(); i++) {
            Piece p = pieces.get(i);
            if (fm.stringWidth(p.text()) + 2 * PAD > WIDTH - 2 * MARGIN) pieces.set(i, p = fit(p, fm)); // a token longer than a line
            int w = fm.stringWidth(p.text()) + 2 * PAD;
            int left = x + (p.joined() || x == MARGIN ? 0 : GAP);
            if (left + w > WIDTH - MARGIN && x > MARGIN) {
                y += LINE_HEIGHT;
                left = MARGIN;
            }
            bx[i] = left;
            by[i] = y;
            bw[i] = w;
            x = left + w;
            if (p.lineBreak()) {
                y += LINE_HEIGHT;
                x = MARGIN;
            }
        }
        int legendY = (x == MARGIN ? y : y + LINE_HEIGHT) + 6;
        BufferedImage out = new BufferedImage(WIDTH, legendY + 34, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = Heatmap.canvas(out);
        g.setColor(Color.BLACK);
        g.setFont(Heatmap.TITLE_FONT);
        g.drawString(title, MARGIN, Heatmap.TITLE_HEIGHT - 8);

        g.setFont(TOKEN_FONT);
        ColourScale scale = ColourScale.DIVERGING;
        for (int i = 0; i < pieces.size(); i++) {
            double t = scale.normalise(attributions[i], end);
            g.setColor(new Color(scale.rgb(t)));
            g.fillRect(bx[i], by[i], bw[i], BOX_HEIGHT);
            g.setColor(Color.LIGHT_GRAY);
            g.drawRect(bx[i], by[i], bw[i] - 1, BOX_HEIGHT - 1);
            if (pieces.get(i).joined()) {
                g.setColor(Color.DARK_GRAY);
                for (int d = 2; d < BOX_HEIGHT - 2; d += 3) g.drawLine(bx[i], by[i] + d, bx[i], by[i] + d);
            }
            g.setColor(new Color(scale.textRgb(t)));
            g.drawString(pieces.get(i).text(), bx[i] + PAD, by[i] + (BOX_HEIGHT + fm.getAscent() - fm.getDescent()) / 2);
        }

        // Legend: the scale from -end to +end, 200 pixels wide.
        int lx = MARGIN, barWidth = 200;
        for (int i = 0; i < barWidth; i++) {
            g.setColor(new Color(scale.rgb(-1 + 2.0 * i / (barWidth - 1))));
            g.drawLine(lx + i, legendY, lx + i, legendY + 11);
        }
        g.setColor(Color.GRAY);
        g.drawRect(lx, legendY, barWidth - 1, 11);
        g.setColor(Color.BLACK);
        g.setFont(Heatmap.LABEL_FONT);
        FontMetrics lm = Heatmap.metrics(Heatmap.LABEL_FONT);
        String low = Heatmap.label(-end), high = Heatmap.label(end);
        g.drawString(low, lx, legendY + 12 + lm.getAscent());
        g.drawString("0", lx + barWidth / 2 - lm.stringWidth("0") / 2, legendY + 12 + lm.getAscent());
        g.drawString(high, lx + barWidth - lm.stringWidth(high), legendY + 12 + lm.getAscent());
        g.drawString("attribution (blue lowers the output, red raises it)", lx + barWidth + 12, legendY + 10);
        g.dispose();
        return out;
    }

    /**
     * The strip as an HTML fragment (one {@code <figure>}, styles inline so it stands alone): a box
     * per token whose tooltip gives its position, vocabulary spelling and attribution, and a legend.
     * All text is escaped.
     *
     * @throws IllegalArgumentException if there is not one finite attribution per token
     */
    public static String html(List<String> tokens, float[] attributions, String title) {
        List<Piece> pieces = pieces(tokens, attributions, null);
        float end = maxAbs(attributions);
        ColourScale scale = ColourScale.DIVERGING;
        StringBuilder s = new StringBuilder();
        s.append("<figure class=\"token-strip\" style=\"margin:0\">\n<figcaption style=\"font-weight:bold\">")
                .append(Html.escape(title)).append("</figcaption>\n<div style=\"line-height:2;font-family:monospace\">");
        for (int i = 0; i < pieces.size(); i++) {
            Piece p = pieces.get(i);
            double t = scale.normalise(attributions[i], end);
            s.append("<span style=\"background:").append(scale.css(t))
                    .append(";color:").append((scale.textRgb(t) & 0xFFFFFF) == 0 ? "#000" : "#fff")
                    .append(";padding:2px 4px;border:1px solid #ccc;white-space:pre;")
                    .append(p.joined() ? "margin-left:0;border-left:1px dotted #333" : "margin-left:4px")
                    .append("\" title=\"").append(Html.escape(i + ": " + tokens.get(i) + " = " + String.format(Locale.ROOT, "%.4g", attributions[i])))
                    .append("\">").append(Html.escape(p.text())).append("</span>");
            if (p.lineBreak()) s.append("<br>");
        }
        s.append("</div>\n<div style=\"font-size:small;margin-top:4px\">")
                .append(Html.escape(Heatmap.label(-end)))
                .append(" <span style=\"display:inline-block;width:200px;height:10px;vertical-align:middle;border:1px solid #888;background:linear-gradient(to right");
        for (double t : new double[] {-1, -0.5, 0, 0.5, 1}) s.append(',').append(scale.css(t));
        s.append(")\"></span> ").append(Html.escape(Heatmap.label(end)))
                .append(" attribution (blue lowers the output, red raises it)</div>\n</figure>\n");
        return s.toString();
    }

    /**
     * One attribution per token from {@code e}: its attributions as they are when there is one per
     * token, or summed over the last dimension when they are per token and embedding dimension
     * (shape [T, D], what Integrated Gradients gives on a transformer's embeddings).
     *
     * @throws IllegalArgumentException naming the method when the shape is neither [T] nor [T, D]
     */
    public static float[] perToken(Explanation e, int tokens) {
        int[] dims = e.shape().toArray();
        if (dims.length == 1 && dims[0] == tokens) return e.attributions().clone();
        if (dims.length == 2 && dims[0] == tokens) {
            float[] sums = new float[tokens];
            for (int t = 0; t < tokens; t++) {
                double sum = 0;
                for (int d = 0; d < dims[1]; d++) sum += e.attributions()[t * dims[1] + d];
                sums[t] = (float) sum;
            }
            return sums;
        }
        throw new IllegalArgumentException(e.method() + ": attributions of shape " + e.shape() + " are not one per token of " + tokens
                + " ([" + tokens + "] or [" + tokens + ", D])");
    }

    /**
     * How each token is shown. {@code font}, when given, is checked for the marks' glyphs; plain
     * ASCII marks stand in for those it lacks.
     */
    static List<Piece> pieces(List<String> tokens, float[] attributions, Font font) {
        if (tokens.size() != attributions.length)
            throw new IllegalArgumentException(tokens.size() + " tokens for " + attributions.length + " attributions");
        for (int i = 0; i < attributions.length; i++)
            if (!Float.isFinite(attributions[i]))
                throw new IllegalArgumentException("attribution of token " + i + " (" + tokens.get(i) + ") is " + attributions[i]);
        boolean byteLevel = tokens.stream().anyMatch(t -> t.indexOf('\u0120') >= 0 || t.indexOf('\u010A') >= 0);
        String space = mark(font, "\u2423", "_"), newline = mark(font, "\u21B5", "\\n"), tab = mark(font, "\u21E5", "\\t");
        List<Piece> pieces = new ArrayList<>(tokens.size());
        for (String token : tokens) {
            boolean joined = false;
            String text = token;
            if (byteLevel) text = decodeByteLevel(token);
            else if (token.startsWith("##") && token.length() > 2) {
                text = token.substring(2);
                joined = true;
            }
            boolean lineBreak = text.endsWith("\n");
            text = text.replace('\u2581', ' ').replace(" ", space).replace("\t", tab).replace("\r", "").replace("\n", newline);
            if (text.isEmpty()) text = mark(font, "\u2205", "(empty)");
            pieces.add(new Piece(text, joined, lineBreak));
        }
        return pieces;
    }

    /** {@code p} with its text cut (and "…" added) to fit on one line. */
    private static Piece fit(Piece p, FontMetrics fm) {
        String text = p.text();
        int end = text.length();
        while (end > 1 && fm.stringWidth(text.substring(0, end) + "\u2026") + 2 * PAD > WIDTH - 2 * MARGIN) end--;
        return new Piece(text.substring(0, end) + "\u2026", p.joined(), p.lineBreak());
    }

    /** GPT-2's byte-level spelling back to text: each character stands for a byte (see ByteLevelBpe), the bytes are UTF-8. */
    static String decodeByteLevel(String token) {
        byte[] bytes = new byte[token.length()];
        for (int i = 0; i < token.length(); i++) {
            int b = BYTE_OF.length > token.charAt(i) ? BYTE_OF[token.charAt(i)] : -1;
            if (b < 0) return token; // a character no byte stands for: not a byte-level spelling, shown as it is
            bytes[i] = (byte) b;
        }
        // a token may end inside a multi-byte character; its part shows as U+FFFD
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** The byte each of GPT-2's stand-in characters means, -1 for characters that stand for none. */
    private static final int[] BYTE_OF = new int[512];

    static {
        java.util.Arrays.fill(BYTE_OF, -1);
        int next = 256; // printable Latin-1 bytes are themselves, the other 68 take 256, 257, ... in byte order
        for (int b = 0; b < 256; b++) {
            boolean printable = b >= '!' && b <= '~' || b >= 0xA1 && b <= 0xAC || b >= 0xAE && b <= 0xFF;
            BYTE_OF[printable ? b : next++] = b;
        }
    }

    private static String mark(Font font, String preferred, String fallback) {
        return font == null || font.canDisplayUpTo(preferred) == -1 ? preferred : fallback;
    }

    static float maxAbs(float[] values) {
        float m = 0;
        for (float v : values) m = Math.max(m, Math.abs(v));
        return m;
    }
}
