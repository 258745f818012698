package dev.jumbo.explain;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** SLIC on synthetic images whose right answer is known. */
class SuperpixelsTest {

    /** The number of labels, after checking they are 0..k-1, numbered in the order of their first pixel, each one 4-connected region. */
    static int checkConnectedLabels(int[] labels, int h, int w) {
        int next = 0;
        for (int label : labels) {
            assertThat(label).isBetween(0, next);
            if (label == next) next++;
        }
        boolean[] seen = new boolean[labels.length], done = new boolean[next];
        int[] queue = new int[labels.length];
        for (int start = 0; start < labels.length; start++) {
            if (seen[start]) continue;
            assertThat(done[labels[start]]).as("label %d is in two separate pieces (pixel %d)", labels[start], start).isFalse();
            done[labels[start]] = true;
            int head = 0, tail = 0;
            queue[tail++] = start;
            seen[start] = true;
            while (head < tail) {
                int p = queue[head++], y = p / w, x = p % w;
                for (int q : new int[] {y > 0 ? p - w : -1, y < h - 1 ? p + w : -1, x > 0 ? p - 1 : -1, x < w - 1 ? p + 1 : -1})
                    if (q >= 0 && !seen[q] && labels[q] == labels[p]) {
                        seen[q] = true;
                        queue[tail++] = q;
                    }
            }
        }
        return next;
    }

    @Test
    void twoFlatRegionsStaySeparated() {
        Random r = new Random(System.nanoTime());
        int h = 40 + r.nextInt(20), w = 40 + r.nextInt(20);
        double cy = h * (0.3 + 0.4 * r.nextDouble()), cx = w * (0.3 + 0.4 * r.nextDouble()), radius = 8 + r.nextInt(8);
        float[] image = new float[h * w * 3];
        boolean[] inside = new boolean[h * w];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                int p = y * w + x;
                inside[p] = Math.hypot(y - cy, x - cx) < radius;
                float[] colour = inside[p] ? new float[] {0.9f, 0.2f, 0.1f} : new float[] {0.1f, 0.3f, 0.8f};
                System.arraycopy(colour, 0, image, p * 3, 3);
            }
        int requested = 20 + r.nextInt(20);
        int[] labels = Superpixels.slic(image, h, w, 3, requested, 0.1);
        int k = checkConnectedLabels(labels, h, w);
        boolean[] hasInside = new boolean[k], hasOutside = new boolean[k];
        for (int p = 0; p < h * w; p++) {
            if (inside[p]) hasInside[labels[p]] = true;
            else hasOutside[labels[p]] = true;
        }
        for (int s = 0; s < k; s++) assertThat(hasInside[s] && hasOutside[s]).as("superpixel %d straddles the edge", s).isFalse();
        assertThat(k).isBetween(requested / 2, requested * 2);
    }

    @Test
    void aSmoothImageGetsAboutTheRequestedCountOfConnectedSuperpixels() {
        Random r = new Random(System.nanoTime());
        int h = 64, w = 48;
        float[] image = new float[h * w];
        double a = r.nextDouble() * 6, b = r.nextDouble() * 6;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) image[y * w + x] = (float) (0.5 + 0.4 * Math.sin(a * y / h + b * x / w));
        for (int requested : new int[] {10, 48, 100}) {
            int k = checkConnectedLabels(Superpixels.slic(image, h, w, 1, requested, 0.1), h, w);
            assertThat(k).as("requested %d", requested).isBetween((int) (requested * 0.6), (int) (requested * 1.4));
        }
    }

    @Test
    void noiseStillGivesConnectedLabelsWithoutSlivers() {
        Random r = new Random(System.nanoTime());
        int h = 30, w = 30;
        float[] image = new float[h * w * 2];
        for (int i = 0; i < image.length; i++) image[i] = r.nextFloat();
        int[] labels = Superpixels.slic(image, h, w, 2, 25, 0.05);
        int k = checkConnectedLabels(labels, h, w);
        int[] size = new int[k];
        for (int label : labels) size[label]++;
        for (int s = 0; s < k; s++) assertThat(size[s]).as("superpixel %d", s).isGreaterThanOrEqualTo(18);   // half of 900 / 25
        assertThat(k).isBetween(5, 50);
    }

    @Test
    void oneSuperpixelAndTinyImagesWork() {
        float[] image = {0.1f, 0.9f, 0.5f, 0.3f};
        assertThat(Superpixels.slic(image, 2, 2, 1, 1, 0.1)).containsOnly(0);
        assertThat(checkConnectedLabels(Superpixels.slic(image, 2, 2, 1, 100, 0.1), 2, 2)).isBetween(1, 4);
    }

    @Test
    void badArgumentsAreClearErrors() {
        assertThatThrownBy(() -> Superpixels.slic(new float[10], 3, 3, 1, 4, 0.1)).hasMessageContaining("not 3 x 3 pixels of 1 channels");
        assertThatThrownBy(() -> Superpixels.slic(new float[9], 3, 3, 1, 0, 0.1)).hasMessageContaining("at least 1");
        assertThatThrownBy(() -> Superpixels.slic(new float[9], 3, 3, 1, 4, 0)).hasMessageContaining("compactness must be positive");
    }
}
