package dev.jumbo.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line's PNG of feature attributions. */
class FeatureChartTest {
    @TempDir
    Path tmp;

    /** Pixels of exactly the bar colours, counted per colour, over the columns {@code from} to {@code to}. */
    static int[] barPixels(BufferedImage img, int from, int to) {
        int[] counts = new int[2];
        for (int y = 0; y < img.getHeight(); y++)
            for (int x = from; x < to; x++) {
                int c = img.getRGB(x, y) & 0xFFFFFF;
                if (c == 0xB2182B) counts[0]++;
                if (c == 0x2166AC) counts[1]++;
            }
        return counts;
    }

    @Test
    void drawsTheLargestBarsRedUpAndBlueDownAsAPng() throws Exception {
        Random r = new Random(System.nanoTime());
        List<String> names = new ArrayList<>();
        float[] v = new float[30];
        for (int i = 0; i < v.length; i++) {
            names.add(i == 3 ? "same" : i == 4 ? "same" : "feature " + i);
            v[i] = (float) (r.nextGaussian() * 0.1);
        }
        v[7] = 5; // the largest by far: the first bar, red
        v[11] = -4; // the second, blue
        Path png = tmp.resolve("features.png");
        FeatureChart.png(names, v, "kernelshap: ankle boot", png);
        BufferedImage img = ImageIO.read(png.toFile());
        assertThat(img).isNotNull();
        assertThat(img.getWidth()).isEqualTo(FeatureChart.WIDTH);
        assertThat(img.getHeight()).isEqualTo(FeatureChart.HEIGHT);
        int[] all = barPixels(img, 0, img.getWidth());
        assertThat(all[0]).as("red bar pixels").isGreaterThan(1000);
        assertThat(all[1]).as("blue bar pixels").isGreaterThan(1000);
        int[] left = barPixels(img, 0, img.getWidth() / 3);
        assertThat(left[0]).as("the largest bars stand at the left").isGreaterThan(1000);
        assertThat(left[1]).isGreaterThan(800);
        try (Stream<Path> files = Files.list(tmp)) {
            assertThat(files).containsExactly(png);
        }
    }

    @Test
    void refusesMismatchesAndNaNNamingTheFeature() {
        assertThatThrownBy(() -> FeatureChart.image(List.of("a"), new float[2], "t")).hasMessageContaining("1 feature names for 2 values");
        assertThatThrownBy(() -> FeatureChart.image(List.of("a", "b"), new float[] {0, Float.NaN}, "t")).hasMessageContaining("feature 1 (b) is NaN");
        assertThatThrownBy(() -> FeatureChart.image(List.of(), new float[0], "t")).hasMessageContaining("no features");
    }
}
