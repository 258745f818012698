package dev.jumbo.explain;

import dev.jumbo.train.Sequential;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SmoothGradTest {

    @Test
    void withoutNoiseItIsSaliency() {
        Random r = new Random(System.nanoTime());
        for (Sequential model : SaliencyTest.smoothModels(r.nextLong())) {
            ModelFunction f = ModelFunction.of(model, ModelFunction.Output.LOGITS);
            float[] x = SaliencyTest.uniform(r, f.inputShape().size());
            int target = r.nextInt(f.outputs());
            Explanation saliency = Saliency.explain(f, x, target);
            Explanation smooth = new SmoothGrad(7, 0, r.nextLong()).explain(f, x, target);
            assertThat(smooth.method()).isEqualTo("smoothgrad");
            assertThat(smooth.details()).containsEntry("samples", 7.0).containsEntry("noise", 0.0);
            assertThat(smooth.prediction()).containsExactly(saliency.prediction());
            // the same gradient 7 times (computed in one batch instead of alone, so up to rounding)
            for (int i = 0; i < x.length; i++)
                assertThat(Math.abs(smooth.attributions()[i] - saliency.attributions()[i]))
                        .isLessThanOrEqualTo(1e-6f * saliency.maxAbs());
        }
    }

    @Test
    void isTheMeanAbsoluteGradientAtTheSeededNoisyInputs() {
        Random r = new Random(System.nanoTime());
        ModelFunction f = ModelFunction.of(SaliencyTest.smoothModels(r.nextLong())[0], ModelFunction.Output.AS_IS);
        float[] x = SaliencyTest.uniform(r, f.inputShape().size());
        x[3] = -2; // the others are in [0, 1), so the range is exactly 4
        x[5] = 2;
        SmoothGrad method = new SmoothGrad(5, 0.1, r.nextLong());
        // by hand: draw the same noise (sigma = 0.1 * 4) and average |saliency| over the noisy inputs
        Random noise = new Random(method.seed());
        float[][] noisy = new float[5][x.length];
        for (int s = 0; s < 5; s++)
            for (int i = 0; i < x.length; i++) noisy[s][i] = (float) (x[i] + 0.4 * noise.nextGaussian());
        double[] mean = new double[x.length];
        for (float[] n : noisy) {
            float[] g = Saliency.explain(f, n, 1).attributions();
            for (int i = 0; i < x.length; i++) mean[i] += g[i] / 5.0;
        }
        Explanation e = method.explain(f, x, 1);
        SaliencyTest.assertClose(e.attributions(), mean, "smoothgrad");
        for (float a : e.attributions()) assertThat(a).isGreaterThanOrEqualTo(0);
        // and it differs from plain saliency: the noise did something
        float[] plain = Saliency.explain(f, x, 1).attributions();
        double diff = 0;
        for (int i = 0; i < x.length; i++) diff = Math.max(diff, Math.abs(plain[i] - e.attributions()[i]));
        assertThat(diff).isGreaterThan(1e-3 * e.maxAbs());
        assertThat(method.explain(f, x, 1)).as("the seed reproduces it").isEqualTo(e);
    }

    @Test
    void badSettingsAreRefusedByName() {
        assertThatThrownBy(() -> new SmoothGrad(0, 0.1, 1)).hasMessageContaining("at least 1 sample, got 0");
        assertThatThrownBy(() -> new SmoothGrad(5, -0.1, 1)).hasMessageContaining("noise must be");
        assertThatThrownBy(() -> new SmoothGrad(5, Double.NaN, 1)).hasMessageContaining("noise must be");
    }
}
