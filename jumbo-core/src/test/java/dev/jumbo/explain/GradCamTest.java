package dev.jumbo.explain;

import dev.jumbo.nn.Activation;
import dev.jumbo.nn.Conv2D;
import dev.jumbo.nn.Dense;
import dev.jumbo.nn.Flatten;
import dev.jumbo.nn.Init;
import dev.jumbo.nn.Layer;
import dev.jumbo.tensor.GradMode;
import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.train.Sequential;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class GradCamTest {

    /** Two tanh convolutions (smooth, so central differences through the suffix are a fair reference) and a softmax head. */
    static Sequential smoothCnn(long seed) {
        Init.seed(seed);
        return new Sequential(Shape.of(8, 8, 2), new Conv2D(4, 3, Activation.TANH), new Conv2D(3, 3, Activation.TANH),
                new Flatten(), new Dense(5, Activation.SOFTMAX));
    }

    /** Layers from {@code from} on, then the output mode, on one activation: the model's suffix as a plain function. */
    static float suffix(Sequential model, int from, float[] activation, int[] dims, ModelFunction.Output output, int target) {
        try (var scope = GradMode.noGrad()) {
            Tensor y = Tensor.of(activation.clone(), dims);
            List<Layer> layers = model.layers();
            for (int i = from; i < layers.size(); i++) y = layers.get(i).forward(y);
            if (output == ModelFunction.Output.LOGITS) y = y.logitsOf(Tensor.Squash.SOFTMAX);
            return y.toFloatArray()[target];
        }
    }

    /** The tent-kernel form of bilinear resizing: each output pixel sums every input pixel weighed by max(0, 1 - distance) per axis. */
    static float[] naiveBilinear(float[] map, int h, int w, int outH, int outW) {
        float[] out = new float[outH * outW];
        for (int y = 0; y < outH; y++)
            for (int x = 0; x < outW; x++) {
                double sy = Math.min(h - 1, Math.max(0, (y + 0.5) * h / outH - 0.5));
                double sx = Math.min(w - 1, Math.max(0, (x + 0.5) * w / outW - 0.5));
                double v = 0;
                for (int i = 0; i < h; i++)
                    for (int j = 0; j < w; j++)
                        v += Math.max(0, 1 - Math.abs(sy - i)) * Math.max(0, 1 - Math.abs(sx - j)) * map[i * w + j];
                out[y * outW + x] = (float) v;
            }
        return out;
    }

    @Test
    void alphasAndMapEqualFiniteDifferencesThroughTheSuffix() {
        Random r = new Random(System.nanoTime());
        Sequential model = smoothCnn(r.nextLong());
        for (int layer : new int[] {-1, 0})
            for (ModelFunction.Output output : ModelFunction.Output.values()) {
                float[] x = SaliencyTest.uniform(r, 128);
                int target = r.nextInt(5);
                GradCam.LayerMap m = GradCam.compute(model, output, layer, x, target);
                int chosen = layer == -1 ? 1 : layer;
                assertThat(m.layer()).isEqualTo(chosen);
                int h = m.activationShape().dim(0), w = m.activationShape().dim(1), c = m.activationShape().dim(2);
                assertThat(m.activationShape()).isEqualTo(chosen == 1 ? Shape.of(4, 4, 3) : Shape.of(6, 6, 4));

                // the activations by running the prefix by hand
                Tensor a = Tensor.of(x.clone(), 1, 8, 8, 2);
                try (var scope = GradMode.noGrad()) {
                    for (int i = 0; i <= chosen; i++) a = model.layers().get(i).forward(a);
                }
                assertThat(m.activations()).containsExactly(a.toFloatArray());

                // alpha_c = mean over h, w of central differences of the suffix
                float[] act = a.toFloatArray();
                int[] dims = {1, h, w, c};
                double[] alphas = new double[c];
                float eps = 1e-2f;
                for (int i = 0; i < act.length; i++) {
                    float[] plus = act.clone(), minus = act.clone();
                    plus[i] += eps;
                    minus[i] -= eps;
                    double d = ((double) suffix(model, chosen + 1, plus, dims, output, target)
                            - suffix(model, chosen + 1, minus, dims, output, target)) / ((double) plus[i] - minus[i]);
                    alphas[i % c] += d / (h * w);
                }
                double scale = 0;
                for (double al : alphas) scale = Math.max(scale, Math.abs(al));
                assertThat(scale).isGreaterThan(1e-5);
                for (int ch = 0; ch < c; ch++)
                    assertThat(m.alphas()[ch]).as("layer %d %s alpha %d", chosen, output, ch).isCloseTo(alphas[ch], within(3e-3 * scale + 1e-7));

                // map = ReLU(sum_c alpha_c A_c) with the finite-difference alphas, then upsampled
                float[] coarse = new float[h * w];
                double mapScale = 0;
                for (int i = 0; i < h * w; i++) {
                    double s = 0;
                    for (int ch = 0; ch < c; ch++) s += alphas[ch] * act[i * c + ch];
                    coarse[i] = (float) Math.max(0, s);
                    mapScale = Math.max(mapScale, Math.abs(s));
                }
                for (int i = 0; i < h * w; i++)
                    assertThat((double) m.coarse()[i]).as("coarse %d", i).isCloseTo(coarse[i], within(1e-2 * mapScale + 1e-7));
                Explanation e = m.explanation();
                assertThat(e.shape()).isEqualTo(Shape.of(8, 8));
                assertThat(e.details()).containsEntry("layer", (double) chosen).containsEntry("map_height", (double) h)
                        .containsEntry("map_width", (double) w);
                float[] up = naiveBilinear(m.coarse(), h, w, 8, 8);
                for (int i = 0; i < 64; i++) {
                    assertThat(e.attributions()[i]).isGreaterThanOrEqualTo(0);
                    assertThat(e.attributions()[i]).as("upsampled %d", i).isCloseTo(up[i], within(1e-6f * (1 + up[i])));
                }
                assertThat(e.prediction()).containsExactly(Gradients.outputs(ModelFunction.of(model, output), x, 1, 1));
            }
        assertThat(model.parameters()).allSatisfy(p -> {
            assertThat(p.value().requiresGrad()).isTrue();
            assertThat(p.trainable()).isTrue();
            assertThat(p.value().grad()).isNull();
        });
    }

    @Test
    void upsamplingMatchesPytorchsBilinearWithoutAlignedCorners() {
        // torch.nn.functional.interpolate(torch.tensor([[[[0., 1], [2, 3]]]]), size=4, mode="bilinear", align_corners=False)
        assertThat(GradCam.upsample(new float[] {0, 1, 2, 3}, 2, 2, 4, 4)).containsExactly(
                0f, 0.25f, 0.75f, 1f, 0.5f, 0.75f, 1.25f, 1.5f, 1.5f, 1.75f, 2.25f, 2.5f, 2f, 2.25f, 2.75f, 3f);
        Random r = new Random(System.nanoTime());
        for (int trial = 0; trial < 20; trial++) {
            int h = 1 + r.nextInt(7), w = 1 + r.nextInt(7), outH = h + r.nextInt(30), outW = w + r.nextInt(30);
            float[] map = SaliencyTest.uniform(r, h * w);
            float[] expected = naiveBilinear(map, h, w, outH, outW), actual = GradCam.upsample(map, h, w, outH, outW);
            for (int i = 0; i < expected.length; i++) assertThat(actual[i]).isCloseTo(expected[i], within(1e-6f));
        }
    }

    @Test
    void restoresTheTrainingModeAndPicksTheLastConvolutionOfAReluCnn() {
        Sequential model = IntegratedGradientsTest.cnn(new Random().nextLong());
        model.train(true);
        Explanation e = GradCam.explain(model, ModelFunction.Output.AS_IS, -1, IntegratedGradientsTest.image(new Random()), 2);
        assertThat(model.isTraining()).isTrue();
        assertThat(e.details()).containsEntry("layer", 2.0).containsEntry("map_height", 3.0);
        assertThat(e.shape()).isEqualTo(Shape.of(12, 12));
    }

    @Test
    void aLayerWithoutFeatureMapsIsOneClearError() {
        Sequential cnn = smoothCnn(1);
        assertThatThrownBy(() -> GradCam.explain(cnn, ModelFunction.Output.AS_IS, 2, new float[128], 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("Grad-CAM needs a convolutional layer: layer 2 (Flatten) has output [48], not [h, w, c]");
        assertThatThrownBy(() -> GradCam.explain(cnn, ModelFunction.Output.AS_IS, 4, new float[128], 0))
                .hasMessageContaining("there is no layer 4 (the model's layers are 0 to 3");
        assertThatThrownBy(() -> GradCam.explain(cnn, ModelFunction.Output.AS_IS, -1, new float[128], 5))
                .hasMessageContaining("class 5 does not exist");
        Sequential image = new Sequential(Shape.of(4, 4, 1), new Flatten(), new Dense(3, Activation.SOFTMAX));
        assertThatThrownBy(() -> GradCam.explain(image, ModelFunction.Output.AS_IS, -1, new float[16], 0))
                .hasMessageContaining("Grad-CAM needs a convolutional layer: no layer of the model has an output [h, w, c]");
        Sequential mlp = SaliencyTest.smoothModels(1)[1];
        assertThatThrownBy(() -> GradCam.explain(mlp, ModelFunction.Output.AS_IS, -1, new float[7], 0))
                .hasMessageContaining("Grad-CAM explains images [H, W, C]; the model takes inputs of shape [7]");
    }
}
