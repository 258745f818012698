package dev.jumbo.explain;

import dev.jumbo.tensor.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import javax.imageio.ImageIO;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class HeatmapTest {
    static final int X0 = Heatmap.MARGIN, Y0 = Heatmap.TITLE_HEIGHT, S = 9; // a 28x28 input is drawn 9 times larger

    static Explanation explanation(String method, Shape shape, float[] attributions) {
        return new Explanation(method, 2, new float[] {0.1f, 0.2f, 0.7f}, shape, attributions, Double.NaN, Map.of());
    }

    /** The centre of input pixel (y, x) in the picture. */
    static int at(BufferedImage p, int y, int x) {
        return p.getRGB(X0 + x * S + S / 2, Y0 + y * S + S / 2);
    }

    static boolean red(int rgb) {
        int r = rgb >> 16 & 0xFF, g = rgb >> 8 & 0xFF, b = rgb & 0xFF;
        return r > 100 && r > g + 60 && r > b + 60;
    }

    static boolean blue(int rgb) {
        int r = rgb >> 16 & 0xFF, b = rgb & 0xFF;
        return b > 120 && b > r + 80;
    }

    static BufferedImage decode(byte[] png) throws IOException {
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
        assertThat(img).as("decodes as PNG").isNotNull();
        return img;
    }

    @Test
    void aNonNegativeMapIsRedWhereItIsHotAndLeavesTheImageElsewhere(@TempDir Path dir) throws IOException {
        float[] white = new float[28 * 28];
        java.util.Arrays.fill(white, 1);
        float[] map = new float[28 * 28];
        for (int y = 4; y < 10; y++) for (int x = 16; x < 24; x++) map[y * 28 + x] = 1; // the hot region
        map[20 * 28 + 5] = 0.05f; // a faint one
        Path file = dir.resolve("saliency.png");
        Heatmap.writePng(Heatmap.overlay(white, 28, 28, 1, explanation("saliency", Shape.of(28, 28), map), "pullover"), file);
        BufferedImage p = decode(Files.readAllBytes(file));

        assertThat(p.getHeight()).isEqualTo(Heatmap.TITLE_HEIGHT + 252 + Heatmap.MARGIN);
        assertThat(p.getWidth()).isBetween(X0 + 252 + Heatmap.GAP + Heatmap.BAR_WIDTH, 400);
        for (int y = 0; y < 28; y++)
            for (int x = 0; x < 28; x++) {
                int c = at(p, y, x);
                if (map[y * 28 + x] == 1) assertThat(red(c)).as("hot pixel (%d, %d) is %06x", y, x, c & 0xFFFFFF).isTrue();
                else if (map[y * 28 + x] == 0) assertThat(c).as("cold pixel (%d, %d)", y, x).isEqualTo(0xFFFFFFFF);
            }
        int faint = at(p, 20, 5);
        assertThat(faint).as("faint is nearly white, not red").isNotEqualTo(0xFFFFFFFF);
        assertThat(red(faint)).isFalse();
        // nearest neighbour: every pixel of a block has the block's colour
        for (int dy = 0; dy < S; dy++)
            for (int dx = 0; dx < S; dx++) assertThat(p.getRGB(X0 + 16 * S + dx, Y0 + 4 * S + dy)).isEqualTo(at(p, 4, 16));
        // the colour bar: red at the top, white at the bottom
        int bar = X0 + 252 + Heatmap.GAP + Heatmap.BAR_WIDTH / 2;
        assertThat(red(p.getRGB(bar, Y0 + 2))).isTrue();
        assertThat(p.getRGB(bar, Y0 + 250)).as("the bottom row inside the border, 0").isEqualTo(0xFFFFFFFF);
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files).as("no temporary file left").containsExactly(file);
        }
    }

    @Test
    void aSignedMapIsRedAboveZeroBlueBelowAndTheGreyImageAtZero() throws IOException {
        Random r = new Random(System.nanoTime());
        float[] image = new float[28 * 28];
        for (int i = 0; i < image.length; i++) image[i] = r.nextFloat();
        float[] map = new float[28 * 28];
        for (int y = 2; y < 8; y++) for (int x = 2; x < 8; x++) map[y * 28 + x] = 3.6f + 0.4f * r.nextFloat();
        for (int y = 18; y < 26; y++) for (int x = 18; x < 26; x++) map[y * 28 + x] = -3.6f - 0.4f * r.nextFloat();
        BufferedImage p = decode(Heatmap.pngBytes(Heatmap.overlay(image, 28, 28, 1, explanation("ig", Shape.of(28, 28, 1), map))));
        for (int y = 0; y < 28; y++)
            for (int x = 0; x < 28; x++) {
                int c = at(p, y, x);
                float a = map[y * 28 + x];
                if (a > 0) assertThat(red(c)).as("(%d, %d) %06x", y, x, c & 0xFFFFFF).isTrue();
                else if (a < 0) assertThat(blue(c)).as("(%d, %d) %06x", y, x, c & 0xFFFFFF).isTrue();
                else {
                    int grey = Math.round(255 * image[y * 28 + x]);
                    assertThat(c).as("(%d, %d) shows the image", y, x).isEqualTo(0xFF000000 | grey << 16 | grey << 8 | grey);
                }
            }
        int bar = X0 + 252 + Heatmap.GAP + Heatmap.BAR_WIDTH / 2;
        assertThat(red(p.getRGB(bar, Y0 + 1))).isTrue();
        assertThat(blue(p.getRGB(bar, Y0 + 250))).isTrue();
        int middle = p.getRGB(bar, Y0 + 126);
        for (int shift = 0; shift <= 16; shift += 8)
            assertThat(middle >> shift & 0xFF).as("nearly white at 0, the bar's middle: %06x", middle & 0xFFFFFF).isGreaterThan(225);
    }

    @Test
    void aSmoothMapOverAPhotoHasManyColours() {
        Random r = new Random(System.nanoTime());
        float[] rgb = new float[28 * 28 * 3];
        for (int i = 0; i < rgb.length; i++) rgb[i] = r.nextFloat();
        float[] map = new float[28 * 28];
        for (int y = 0; y < 28; y++) for (int x = 0; x < 28; x++) map[y * 28 + x] = (x - 13.5f) * (y + 1);
        BufferedImage p = Heatmap.overlay(rgb, 28, 28, 3, explanation("ig", Shape.of(28, 28), map));
        Set<Integer> colours = new HashSet<>();
        for (int y = 0; y < 28; y++) for (int x = 0; x < 28; x++) colours.add(at(p, y, x));
        assertThat(colours).hasSizeGreaterThan(600);
    }

    @Test
    void channelsAreSummedAndACoarserMapIsSpreadOverTheImage() {
        Random r = new Random(System.nanoTime());
        float[] image = new float[28 * 28 * 3];
        for (int i = 0; i < image.length; i++) image[i] = r.nextFloat();
        float[] perChannel = new float[28 * 28 * 3], summed = new float[28 * 28];
        for (int i = 0; i < summed.length; i++)
            for (int c = 0; c < 3; c++) {
                perChannel[i * 3 + c] = (float) r.nextGaussian();
                summed[i] += perChannel[i * 3 + c];
            }
        BufferedImage a = Heatmap.overlay(image, 28, 28, 3, explanation("ig", Shape.of(28, 28, 3), perChannel));
        BufferedImage b = Heatmap.overlay(image, 28, 28, 3, explanation("ig", Shape.of(1, 28, 28, 1), summed));
        assertSamePixels(a, b);

        float[] coarse = new float[7 * 7];
        for (int i = 0; i < coarse.length; i++) coarse[i] = r.nextFloat();
        float[] spread = new float[28 * 28];
        for (int y = 0; y < 28; y++) for (int x = 0; x < 28; x++) spread[y * 28 + x] = coarse[y / 4 * 7 + x / 4];
        BufferedImage c = Heatmap.overlay(image, 28, 28, 3, explanation("gradcam", Shape.of(7, 7), coarse));
        BufferedImage d = Heatmap.overlay(image, 28, 28, 3, explanation("gradcam", Shape.of(28, 28), spread));
        assertSamePixels(c, d);
    }

    @Test
    void anImageOutsideZeroToOneIsRescaledFromItsRange() {
        Random r = new Random(System.nanoTime());
        float[] unit = new float[12 * 12], wide = new float[12 * 12];
        for (int i = 0; i < unit.length; i++) {
            unit[i] = r.nextFloat();
            wide[i] = unit[i] * 200 - 100;
        }
        unit[0] = 0;
        wide[0] = -100;
        unit[1] = 1;
        wide[1] = 100;
        Explanation e = explanation("ig", Shape.of(12, 12), new float[144]);
        assertSamePixels(Heatmap.overlay(wide, 12, 12, 1, e), Heatmap.overlay(unit, 12, 12, 1, e));
        assertThat(Heatmap.overlay(unit, 12, 12, 1, e).getHeight()).as("12x12 drawn 21 times larger").isEqualTo(Heatmap.TITLE_HEIGHT + 252 + Heatmap.MARGIN);
    }

    @Test
    void theScaleEndsWhereTheLargestTwoPercentOfTheMassBegins() {
        Random r = new Random(System.nanoTime());
        for (int trial = 0; trial < 200; trial++) {
            float[] map = new float[1 + r.nextInt(900)];
            for (int i = 0; i < map.length; i++) map[i] = (float) (r.nextBoolean() ? r.nextGaussian() : Math.pow(r.nextGaussian(), 5));
            float end = Heatmap.scaleEnd(map);
            double total = 0, above = 0, atOrAbove = 0;
            for (float v : map) {
                total += Math.abs(v);
                if (Math.abs(v) > end) above += Math.abs(v);
                if (Math.abs(v) >= end) atOrAbove += Math.abs(v);
            }
            assertThat(above).as("beyond the end: at most 2%% of %s", total).isLessThanOrEqualTo(0.02 * total * (1 + 1e-6));
            assertThat(atOrAbove).as("from the end up: more than 2%%").isGreaterThanOrEqualTo(0.02 * total * (1 - 1e-6));
        }
        float[] uniform = new float[50];
        java.util.Arrays.fill(uniform, -0.5f);
        assertThat(Heatmap.scaleEnd(uniform)).isEqualTo(0.5f);
        assertThat(Heatmap.scaleEnd(new float[9])).isZero();

        // one pixel holding 1% of the mass takes the end colour with the rest, not the whole scale for itself
        float[] map = new float[28 * 28];
        for (int i = 0; i < 600; i++) map[i] = 1;
        map[700] = 6;
        float[] white = new float[28 * 28];
        java.util.Arrays.fill(white, 1);
        BufferedImage p = Heatmap.overlay(white, 28, 28, 1, explanation("saliency", Shape.of(28, 28), map));
        assertThat(at(p, 25, 0)).isEqualTo(at(p, 0, 0));
        assertThat(red(at(p, 0, 0))).isTrue();
    }

    @Test
    void badInputIsRefusedNamingTheMethodAndTheProblem() {
        Explanation e = explanation("lime", Shape.of(28, 28), new float[784]);
        assertThatThrownBy(() -> Heatmap.overlay(new float[784], 28, 28, 2, e)).hasMessageContaining("lime").hasMessageContaining("2");
        assertThatThrownBy(() -> Heatmap.overlay(new float[700], 28, 28, 1, e)).hasMessageContaining("700 image values");
        assertThatThrownBy(() -> Heatmap.overlay(new float[30 * 30], 30, 30, 1, explanation("lime", Shape.of(31, 31), new float[961])))
                .hasMessageContaining("[31, 31]").hasMessageContaining("30x30");
        assertThatThrownBy(() -> Heatmap.overlay(new float[784], 28, 28, 1, explanation("lime", Shape.of(784), new float[784])))
                .hasMessageContaining("not a map of an image");
        float[] nan = new float[784];
        nan[30] = Float.NaN;
        assertThatThrownBy(() -> Heatmap.overlay(new float[784], 28, 28, 1, explanation("ig", Shape.of(28, 28), nan)))
                .hasMessageContaining("ig").hasMessageContaining("(1, 2)").hasMessageContaining("NaN");
        float[] badImage = new float[784];
        badImage[3] = Float.POSITIVE_INFINITY;
        assertThatThrownBy(() -> Heatmap.overlay(badImage, 28, 28, 1, e)).hasMessageContaining("image value 3");
    }

    @Test
    void sideBySidePlacesEachPictureUnderItsTitle() {
        Random r = new Random(System.nanoTime());
        float[] image = new float[784];
        for (int i = 0; i < image.length; i++) image[i] = r.nextFloat();
        float[] a = new float[784];
        for (int i = 0; i < a.length; i++) a[i] = (float) r.nextGaussian();
        BufferedImage one = Heatmap.overlay(image, 28, 28, 1, explanation("ig", Shape.of(28, 28), a));
        BufferedImage two = Heatmap.overlay(image, 14, 56, 1, explanation("saliency", Shape.of(14, 56), a));
        BufferedImage both = Heatmap.sideBySide(List.of(one, two), List.of("IG", "saliency"));
        assertThat(both.getWidth()).isEqualTo(3 * Heatmap.MARGIN + one.getWidth() + two.getWidth());
        assertThat(both.getHeight()).isEqualTo(Heatmap.TITLE_HEIGHT + Math.max(one.getHeight(), two.getHeight()));
        assertThat(both.getRGB(Heatmap.MARGIN + 40, Heatmap.TITLE_HEIGHT + 100)).isEqualTo(one.getRGB(40, 100));
        int x2 = 2 * Heatmap.MARGIN + one.getWidth();
        assertThat(both.getRGB(x2 + 30, Heatmap.TITLE_HEIGHT + 50)).isEqualTo(two.getRGB(30, 50));
        assertThatThrownBy(() -> Heatmap.sideBySide(List.of(one), List.of())).hasMessageContaining("0 titles for 1 pictures");
    }

    /** Same size and the same pixels below the title (titles may differ), the first difference named. */
    static void assertSamePixels(BufferedImage a, BufferedImage b) {
        assertThat(a.getWidth()).isEqualTo(b.getWidth());
        assertThat(a.getHeight()).isEqualTo(b.getHeight());
        for (int y = Y0; y < a.getHeight(); y++)
            for (int x = 0; x < a.getWidth(); x++)
                if (a.getRGB(x, y) != b.getRGB(x, y))
                    throw new AssertionError(String.format("pixel (%d, %d): %06x, not %06x", x, y, a.getRGB(x, y) & 0xFFFFFF, b.getRGB(x, y) & 0xFFFFFF));
    }
}
