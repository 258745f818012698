package dev.jumbo.data;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jumbo.tensor.Shape;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The real Fashion-MNIST files from Debian's dataset-fashion-mnist load whole and make sense. */
class FashionMnistInstalledTest {
    private static final Path INSTALLED = Path.of("/usr/share/datasets/fashion-mnist");

    @Test
    void loadsTheInstalledDataset() throws IOException {
        Assumptions.assumeTrue(Files.isDirectory(INSTALLED), INSTALLED + " is absent (apt-get install dataset-fashion-mnist)");
        Splits s = FashionMnist.load(INSTALLED);
        assertThat(s.train().x().shape()).isEqualTo(Shape.of(60000, 28, 28, 1));
        assertThat(s.train().y().shape()).isEqualTo(Shape.of(60000));
        assertThat(s.test().x().shape()).isEqualTo(Shape.of(10000, 28, 28, 1));
        assertThat(s.test().y().shape()).isEqualTo(Shape.of(10000));
        for (TensorDataset part : new TensorDataset[] {s.train(), s.test()}) {
            int[] perClass = new int[10];
            for (float label : part.y().buffer()) {
                assertThat(label).isBetween(0f, 9f).isEqualTo((float) Math.floor(label));
                perClass[(int) label]++;
            }
            // Fashion-MNIST is balanced: 6000 / 1000 examples per class
            assertThat(perClass).containsOnly(part.size() / 10);
            float min = Float.MAX_VALUE, max = -Float.MAX_VALUE;
            for (float v : part.x().buffer()) {
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
            assertThat(min).isEqualTo(0f);
            assertThat(max).isEqualTo(1f);
        }
    }
}
