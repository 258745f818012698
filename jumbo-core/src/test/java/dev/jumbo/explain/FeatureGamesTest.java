package dev.jumbo.explain;

import dev.jumbo.tensor.Shape;
import dev.jumbo.train.Sequential;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** TabularGame and ImageGame against the model run one input at a time. */
class FeatureGamesTest {

    static boolean[][] randomCoalitions(int n, int m, Random r) {
        boolean[][] s = new boolean[n][m];
        for (boolean[] row : s) for (int j = 0; j < m; j++) row[j] = r.nextBoolean();
        return s;
    }

    @Test
    void tabularValuesAreMeansOverTheBackgroundOfOneRowAtATime() {
        Random r = new Random(System.nanoTime());
        int m = 7, target = r.nextInt(3);
        ModelFunction f = ModelFunction.of(ShapleyTest.mlp(m, r), ModelFunction.Output.LOGITS);
        float[] x = ShapleyTest.rows(1, m, r)[0];
        float[][] background = ShapleyTest.rows(1 + r.nextInt(9), m, r);
        TabularGame g = new TabularGame(f, x, background, target);
        boolean[][] coalitions = randomCoalitions(50, m, r);
        coalitions[0] = new boolean[m];
        java.util.Arrays.fill(coalitions[1], true);
        double[] v = g.values(coalitions);
        for (int c = 0; c < coalitions.length; c++) {
            double sum = 0;
            for (float[] b : background) {
                float[] row = new float[m];
                for (int j = 0; j < m; j++) row[j] = coalitions[c][j] ? x[j] : b[j];
                sum += Gradients.outputs(f, row, 1, 1)[target];
            }
            assertThat(v[c]).as("coalition %d", c).isCloseTo(sum / background.length, within(1e-5));
        }
        assertThat(v[1]).isCloseTo(Gradients.outputs(f, x, 1, 1)[target], within(1e-5));
        assertThat(g.prediction()).containsExactly(Gradients.outputs(f, x, 1, 1));
        assertThat(g.features()).isEqualTo(m);
        assertThat(g.target()).isEqualTo(target);
    }

    @Test
    void aBadBackgroundOrRowIsAClearError() {
        ModelFunction f = ModelFunction.of(ShapleyTest.mlp(4, new Random(1)), ModelFunction.Output.AS_IS);
        assertThatThrownBy(() -> new TabularGame(f, new float[4], new float[0][], 0)).hasMessageContaining("background set is empty");
        assertThatThrownBy(() -> new TabularGame(f, new float[4], new float[][] {new float[4], new float[5]}, 0))
                .hasMessageContaining("background row 1 has 5 values, the model takes 4");
        assertThatThrownBy(() -> new TabularGame(f, new float[3], new float[][] {new float[4]}, 0)).hasMessageContaining("row explained has 3");
        assertThatThrownBy(() -> new TabularGame(f, new float[4], new float[][] {new float[4]}, 3)).hasMessageContaining("class 3 does not exist");
    }

    @Test
    void imageValuesFillAbsentSegmentsAndSpreadGoesBackAndForth() {
        Random r = new Random(System.nanoTime());
        Sequential cnn = IntegratedGradientsTest.cnn(r.nextLong());
        ModelFunction f = ModelFunction.of(cnn, ModelFunction.Output.AS_IS);
        float[] image = IntegratedGradientsTest.image(r);
        int[] segments = new int[144];
        for (int p = 0; p < 144; p++) segments[p] = (p / 12 / 4) * 3 + (p % 12) / 4;   // nine 4x4 blocks
        float[] fill = ImageGame.meanFill(image, segments, 1);
        for (int s = 0; s < 9; s++) {   // each block's fill is its mean
            double mean = 0;
            for (int p = 0; p < 144; p++) if (segments[p] == s) mean += image[p] / 16.0;
            for (int p = 0; p < 144; p++) if (segments[p] == s) assertThat((double) fill[p]).isCloseTo(mean, within(1e-5));
        }
        int target = r.nextInt(5);
        ImageGame g = new ImageGame(f, image, segments, fill, target);
        assertThat(g.features()).isEqualTo(9);
        boolean[][] coalitions = randomCoalitions(20, 9, r);
        double[] v = g.values(coalitions);
        for (int c = 0; c < 20; c++) {
            float[] masked = new float[144];
            for (int p = 0; p < 144; p++) masked[p] = coalitions[c][segments[p]] ? image[p] : fill[p];
            assertThat(v[c]).isCloseTo(Gradients.outputs(f, masked, 1, 1)[target], within(1e-6));
        }
        Explanation perSegment = KernelShap.explain(g, 0, 1);
        Explanation pixels = ImageGame.spread(perSegment, segments, Shape.of(12, 12, 1));
        assertThat(pixels.shape()).isEqualTo(Shape.of(12, 12, 1));
        assertThat(pixels.details()).containsEntry("segments", 9.0).containsEntry("exact", 1.0);
        for (int p = 0; p < 144; p++) assertThat(pixels.attributions()[p]).isEqualTo(perSegment.attributions()[segments[p]]);
        assertThat(ImageGame.segmentValues(pixels, segments)).containsExactly(perSegment.attributions());
        assertThat(pixels.completenessGap()).isEqualTo(perSegment.completenessGap());
    }

    @Test
    void imageGamesOfSeveralChannelsKeepEachPixelsChannelsTogether() {
        Random r = new Random(System.nanoTime());
        // a function of a 2x2 image of 3 channels that weighs every value differently, so a misplaced value shows
        float[] weights = new float[12];
        for (int i = 0; i < 12; i++) weights[i] = (float) r.nextGaussian();
        ModelFunction f = new ModelFunction() {
            public Shape inputShape() { return Shape.of(2, 2, 3); }
            public int outputs() { return 1; }
            public dev.jumbo.tensor.Tensor apply(dev.jumbo.tensor.Tensor batch) {
                float[] x = batch.toFloatArray();
                float[] y = new float[batch.dim(0)];
                for (int i = 0; i < y.length; i++) for (int j = 0; j < 12; j++) y[i] += weights[j] * x[i * 12 + j];
                return dev.jumbo.tensor.Tensor.of(y, y.length, 1);
            }
        };
        float[] image = new float[12], fill = new float[12];
        for (int i = 0; i < 12; i++) {
            image[i] = r.nextFloat();
            fill[i] = -r.nextFloat();
        }
        int[] segments = {1, 0, 1, 2};
        ImageGame g = new ImageGame(f, image, segments, fill, 0);
        double[] v = g.values(new boolean[][] {{true, false, false}, {false, true, true}});
        double first = 0, second = 0;
        for (int p = 0; p < 4; p++)
            for (int c = 0; c < 3; c++) {
                first += weights[p * 3 + c] * (segments[p] == 0 ? image[p * 3 + c] : fill[p * 3 + c]);
                second += weights[p * 3 + c] * (segments[p] != 0 ? image[p * 3 + c] : fill[p * 3 + c]);
            }
        assertThat(v[0]).isCloseTo(first, within(1e-5));
        assertThat(v[1]).isCloseTo(second, within(1e-5));
        // a linear model's exact Shapley value of a segment is its pixels' weighted difference from the fill
        Explanation e = ExactShapley.explain(g);
        for (int s = 0; s < 3; s++) {
            double expected = 0;
            for (int p = 0; p < 4; p++)
                if (segments[p] == s) for (int c = 0; c < 3; c++) expected += weights[p * 3 + c] * (image[p * 3 + c] - fill[p * 3 + c]);
            assertThat((double) e.attributions()[s]).isCloseTo(expected, within(1e-5));
        }
        float[] pixels = ImageGame.spread(e, segments, Shape.of(2, 2, 3)).attributions();
        assertThat(pixels[3]).isEqualTo(pixels[4]).isEqualTo(pixels[5]).isEqualTo(e.attributions()[0]);
    }

    @Test
    void badImageArgumentsAreClearErrors() {
        ModelFunction f = ModelFunction.of(IntegratedGradientsTest.cnn(1), ModelFunction.Output.AS_IS);
        float[] image = new float[144];
        int[] segments = new int[144];
        assertThatThrownBy(() -> new ImageGame(f, new float[100], segments, image, 0)).hasMessageContaining("the image has 100");
        assertThatThrownBy(() -> new ImageGame(f, image, new int[50], image, 0)).hasMessageContaining("50 pixel labels do not cover");
        assertThatThrownBy(() -> new ImageGame(f, image, segments, new float[3], 0)).hasMessageContaining("the fill has 3 values");
        segments[7] = -2;
        assertThatThrownBy(() -> new ImageGame(f, image, segments, image, 0)).hasMessageContaining("pixel 7 has the negative segment label -2");
        assertThatThrownBy(() -> ImageGame.meanFill(image, new int[144], 2)).hasMessageContaining("not 144 pixels of 2 channels");
        Explanation two = new Explanation("shap", 0, new float[] {1}, Shape.of(2), new float[2], 0, Map.of());
        assertThatThrownBy(() -> ImageGame.spread(two, new int[] {0, 1, 2, 0}, Shape.of(2, 2, 1)))
                .hasMessageContaining("pixel 2 is in segment 2, the explanation has 2 segments");
    }
}
