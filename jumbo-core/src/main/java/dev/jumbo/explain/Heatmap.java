package dev.jumbo.explain;

import dev.jumbo.io.AtomicFiles;

import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.awt.image.RenderedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * An image explanation as a picture: the input in grey (one channel) or colour (three), enlarged
 * with nearest neighbour so a 28x28 input is 252 pixels wide, the attributions drawn over it on a
 * {@link ColourScale} (diverging for signed maps, sequential for non-negative ones, see
 * {@link ColourScale#of}) with alpha growing with their size, a colour bar labelled with its ends,
 * and a title naming the method and the class explained. The scale ends where the largest values
 * holding 2% of the total |attribution| begin, as Captum's {@code visualize_image_attr} does, so one
 * extreme pixel does not leave the rest invisible; those beyond it take the end colour.
 *
 * <pre>{@code
 * ModelFunction f = ModelFunction.of(model, ModelFunction.Output.AS_IS);
 * Explanation ig = IntegratedGradients.defaults().explain(f, x, 9);    // x: a 28x28x1 image
 * BufferedImage picture = Heatmap.overlay(x, 28, 28, 1, ig, "ankle boot");
 * Heatmap.writePng(Heatmap.sideBySide(List.of(picture), List.of("Integrated Gradients")), Path.of("why.png"));
 * }</pre>
 *
 * Everything is drawn with Java2D into a {@link BufferedImage}; no display is needed (headless).
 */
public final class Heatmap {
    /** Longest side an input is enlarged to, at most (by a whole factor; larger inputs stay as they are). */
    static final int TARGET_SIDE = 252;
    /** Alpha of the colour at a scale's ends; 0 leaves the image as it is. */
    static final double MAX_ALPHA = 0.8;
    static final int MARGIN = 10, TITLE_HEIGHT = 26, BAR_WIDTH = 14, GAP = 8;
    static final Font TITLE_FONT = new Font(Font.SANS_SERIF, Font.BOLD, 13), LABEL_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 11);

    private Heatmap() {}

    /** {@link #overlay(float[], int, int, int, Explanation, String)} titled with the target's index ("class 3"). */
    public static BufferedImage overlay(float[] image, int h, int w, int channels, Explanation e) {
        return overlay(image, h, w, channels, e, "class " + e.target());
    }

    /**
     * The picture of {@code e} over {@code image}.
     *
     * @param image       {@code h * w * channels} values, row-major with channels last; in [0, 1], or
     *                    rescaled from their own minimum and maximum when any lies outside
     * @param channels    1 (drawn in grey) or 3 (RGB)
     * @param e           attributions of shape [H, W], [H, W, C] (summed over channels; a leading
     *                    batch dimension of 1 is ignored), either the image's size or a coarser
     *                    grid (a Grad-CAM map) that is spread over it by nearest neighbour
     * @param targetLabel the explained class's name, for the title
     * @throws IllegalArgumentException naming the method and what does not fit
     */
    public static BufferedImage overlay(float[] image, int h, int w, int channels, Explanation e, String targetLabel) {
        if (h <= 0 || w <= 0) throw new IllegalArgumentException(e.method() + ": image size " + h + "x" + w + " is not positive");
        if (channels != 1 && channels != 3)
            throw new IllegalArgumentException(e.method() + ": an image has 1 (grey) or 3 (RGB) channels, not " + channels);
        if ((long) h * w * channels != image.length)
            throw new IllegalArgumentException(e.method() + ": " + image.length + " image values are not " + h + "x" + w + "x" + channels);
        float[] map = pixelMap(e, h, w);
        int[] rgb = imageRgb(image, channels, e.method());
        ColourScale scale = ColourScale.of(map);
        float end = scaleEnd(map), max = 0;
        for (float v : map) max = Math.max(max, Math.abs(v));

        int s = Math.max(1, TARGET_SIDE / Math.max(h, w));
        String title = e.method() + ": " + targetLabel;
        // when the few largest values lie beyond the end, the labels say the end colours hold them too
        String beyond = max > end ? (LABEL_FONT.canDisplay('\u2265') ? "\u2265 " : ">= ") : "";
        String top = beyond + label(end), bottom = (scale.low() < 0 ? beyond.replace('\u2265', '\u2264').replace('>', '<') : "") + label(scale.low() * end);
        FontMetrics titleMetrics = metrics(TITLE_FONT), labelMetrics = metrics(LABEL_FONT);
        int labelWidth = Math.max(labelMetrics.stringWidth(top), labelMetrics.stringWidth(bottom));
        int width = Math.max(MARGIN + w * s + GAP + BAR_WIDTH + 4 + labelWidth + MARGIN, 2 * MARGIN + titleMetrics.stringWidth(title));
        int height = TITLE_HEIGHT + h * s + MARGIN;
        BufferedImage out = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = canvas(out);

        int x0 = MARGIN, y0 = TITLE_HEIGHT;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                int i = y * w + x;
                int c = ColourScale.over(scale.argb(scale.normalise(map[i], end), MAX_ALPHA), rgb[i]);
                for (int dy = 0; dy < s; dy++)
                    for (int dx = 0; dx < s; dx++) out.setRGB(x0 + x * s + dx, y0 + y * s + dy, c);
            }

        // The bar shows each colour as it would look over white, alpha included, top = +end.
        int bx = x0 + w * s + GAP, barHeight = h * s;
        for (int y = 0; y < barHeight; y++) {
            // rows 0 and barHeight - 1 are the border: the ends go just inside it
            double t = 1 - (1 - scale.low()) * Math.clamp((y - 1.0) / Math.max(1, barHeight - 3), 0, 1);
            int c = ColourScale.over(scale.argb(t, MAX_ALPHA), 0xFFFFFFFF);
            for (int x = 0; x < BAR_WIDTH; x++) out.setRGB(bx + x, y0 + y, c);
        }
        g.setColor(Color.GRAY);
        g.drawRect(bx, y0, BAR_WIDTH - 1, barHeight - 1);
        g.setColor(Color.BLACK);
        g.setFont(TITLE_FONT);
        g.drawString(title, MARGIN, TITLE_HEIGHT - 8);
        g.setFont(LABEL_FONT);
        g.drawString(top, bx + BAR_WIDTH + 4, y0 + labelMetrics.getAscent());
        g.drawString(bottom, bx + BAR_WIDTH + 4, y0 + barHeight);
        g.dispose();
        return out;
    }

    /**
     * Pictures next to each other, left to right, each under its title, top-aligned on white.
     *
     * @throws IllegalArgumentException if there are no pictures or not one title per picture
     */
    public static BufferedImage sideBySide(List<BufferedImage> pictures, List<String> titles) {
        if (pictures.isEmpty()) throw new IllegalArgumentException("no pictures to put side by side");
        if (titles.size() != pictures.size())
            throw new IllegalArgumentException(titles.size() + " titles for " + pictures.size() + " pictures");
        int width = MARGIN, height = 0;
        for (BufferedImage p : pictures) {
            width += p.getWidth() + MARGIN;
            height = Math.max(height, p.getHeight());
        }
        BufferedImage out = new BufferedImage(width, TITLE_HEIGHT + height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = canvas(out);
        g.setFont(TITLE_FONT);
        int x = MARGIN;
        for (int i = 0; i < pictures.size(); i++) {
            g.setColor(Color.BLACK);
            g.drawString(titles.get(i), x, TITLE_HEIGHT - 8);
            g.drawImage(pictures.get(i), x, TITLE_HEIGHT, null);
            x += pictures.get(i).getWidth() + MARGIN;
        }
        g.dispose();
        return out;
    }

    /** Writes {@code picture} as a PNG file, atomically (the old file stays whole if this fails). */
    public static void writePng(RenderedImage picture, Path file) throws IOException {
        byte[] png = pngBytes(picture);
        AtomicFiles.write(file, out -> out.write(png));
    }

    /** {@code picture} encoded as PNG. */
    public static byte[] pngBytes(RenderedImage picture) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try {
            if (!ImageIO.write(picture, "png", bytes)) throw new IllegalStateException("this JDK has no PNG writer");
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
        }
        return bytes.toByteArray();
    }

    /** Share of the total |attribution| that may lie beyond the colour scale's end: Captum's default {@code outlier_perc}. */
    static final double OUTLIER_SHARE = 0.02;

    /**
     * Where the colour scale ends: the smallest |value| at which the values up to it, added in
     * increasing order, hold {@code 1 - }{@value #OUTLIER_SHARE} of the total (Captum's
     * {@code _cumulative_sum_threshold}). A few extreme pixels would otherwise squeeze everything
     * else into the palest colours; beyond the end the colour stays at its end. 0 for an all-zero map.
     */
    static float scaleEnd(float[] map) {
        float[] sorted = new float[map.length];
        double total = 0;
        for (int i = 0; i < map.length; i++) {
            sorted[i] = Math.abs(map[i]);
            total += sorted[i];
        }
        if (total == 0) return 0;
        Arrays.sort(sorted);
        double sum = 0, goal = (1 - OUTLIER_SHARE) * total;
        for (float v : sorted) {
            sum += v;
            if (sum >= goal) return v;
        }
        return sorted[sorted.length - 1]; // rounding kept the sum just under the goal
    }

    /**
     * One attribution per pixel of an {@code h x w} image: channels summed, a coarser map spread by
     * nearest neighbour.
     */
    static float[] pixelMap(Explanation e, int h, int w) {
        int[] dims = e.shape().toArray();
        int from = 0;
        while (dims.length - from > 3 && dims[from] == 1) from++;
        int rank = dims.length - from;
        if (rank != 2 && rank != 3)
            throw new IllegalArgumentException(e.method() + ": attributions of shape " + e.shape() + " are not a map of an image ([H, W] or [H, W, C])");
        int mh = dims[from], mw = dims[from + 1], mc = rank == 3 ? dims[from + 2] : 1;
        if (mh > h || mw > w)
            throw new IllegalArgumentException(e.method() + ": attributions of shape " + e.shape() + " do not cover a " + h + "x" + w + " image");
        float[] a = e.attributions();
        float[] summed = new float[mh * mw];
        for (int i = 0; i < summed.length; i++) {
            float sum = 0;
            for (int c = 0; c < mc; c++) sum += a[i * mc + c];
            if (Float.isNaN(sum)) throw new IllegalArgumentException(e.method() + ": attribution at pixel (" + i / mw + ", " + i % mw + ") is NaN");
            summed[i] = sum;
        }
        if (mh == h && mw == w) return summed;
        float[] map = new float[h * w];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) map[y * w + x] = summed[y * mh / h * mw + x * mw / w];
        return map;
    }

    /** The image's pixels as opaque RGB, grey for one channel; values outside [0, 1] rescale the whole image from its range. */
    static int[] imageRgb(float[] image, int channels, String method) {
        float min = Float.POSITIVE_INFINITY, max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < image.length; i++) {
            if (!Float.isFinite(image[i])) throw new IllegalArgumentException(method + ": image value " + i + " is " + image[i]);
            min = Math.min(min, image[i]);
            max = Math.max(max, image[i]);
        }
        boolean rescale = min < 0 || max > 1;
        float offset = rescale ? min : 0, range = rescale && max > min ? max - min : 1;
        int[] rgb = new int[image.length / channels];
        for (int p = 0; p < rgb.length; p++) {
            int c = 0xFF000000;
            for (int k = 0; k < 3; k++) {
                float v = image[p * channels + (channels == 1 ? 0 : k)];
                c |= Math.round(255 * (v - offset) / range) << (16 - 8 * k);
            }
            rgb[p] = c;
        }
        return rgb;
    }

    static Graphics2D canvas(BufferedImage out) {
        Graphics2D g = out.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, out.getWidth(), out.getHeight());
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        return g;
    }

    static FontMetrics metrics(Font font) {
        BufferedImage scratch = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = scratch.createGraphics();
        try {
            return g.getFontMetrics(font);
        } finally {
            g.dispose();
        }
    }

    /** A scale end as a label: three significant digits. */
    static String label(double v) {
        return v == 0 ? "0" : String.format(Locale.ROOT, "%.3g", v);
    }
}
