package dev.jumbo.nn;

import static dev.jumbo.nn.LayerGradCheck.assertClose;
import static dev.jumbo.nn.LayerGradCheck.forwardWithDeclaredShape;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.testing.GradCheck;
import dev.jumbo.train.Sequential;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ResidualBlockTest {
    @TempDir
    Path tmp;

    private final Random rnd = GradCheck.random();

    /** Gives every BN of the block non-trivial moving statistics and affine parameters, so inference differs from identity. */
    private void randomiseNorms(ResidualBlock block) {
        for (Parameter p : block.parameters()) {
            float[] b = p.value().buffer();
            for (int i = 0; i < b.length; i++) b[i] += (float) (0.3 * rnd.nextGaussian());
        }
        for (var e : block.stateDict().entrySet())
            if (e.getKey().endsWith("moving_variance") || e.getKey().endsWith("moving_mean")) {
                float[] b = e.getValue().buffer();
                for (int i = 0; i < b.length; i++) b[i] = e.getKey().endsWith("variance") ? 0.5f + rnd.nextFloat() : (float) rnd.nextGaussian();
            }
    }

    /** The block computed by hand in inference mode: naive convolution, normalisation, ReLU and sum over plain arrays. */
    private static float[] reference(ResidualBlock block, Tensor x, int stride, boolean projects) {
        Map<String, Tensor> s = block.stateDict();
        int n = x.dim(0), h = x.dim(1), w = x.dim(2), c = x.dim(3);
        float[] h1 = relu(norm(conv(x.toFloatArray(), n, h, w, c, s.get("conv1.kernel"), s.get("conv1.bias"), stride), s, "bn1"));
        int oh = Math.ceilDiv(h, stride), ow = Math.ceilDiv(w, stride), f = s.get("conv1.bias").size();
        float[] h2 = norm(conv(h1, n, oh, ow, f, s.get("conv2.kernel"), s.get("conv2.bias"), 1), s, "bn2");
        float[] shortcut = projects
                ? norm(conv(x.toFloatArray(), n, h, w, c, s.get("shortcut_conv.kernel"), s.get("shortcut_conv.bias"), stride), s, "shortcut_bn")
                : x.toFloatArray();
        float[] out = new float[h2.length];
        for (int i = 0; i < out.length; i++) out[i] = Math.max(0, h2[i] + shortcut[i]);
        return out;
    }

    /** 'same' NHWC convolution, Keras padding (extra at the bottom/right), the naive six loops. */
    private static float[] conv(float[] x, int n, int h, int w, int c, Tensor kernel, Tensor bias, int stride) {
        int kh = kernel.dim(0), kw = kernel.dim(1), f = kernel.dim(3);
        int oh = Math.ceilDiv(h, stride), ow = Math.ceilDiv(w, stride);
        int padH = Math.max(0, (oh - 1) * stride + kh - h) / 2, padW = Math.max(0, (ow - 1) * stride + kw - w) / 2;
        float[] k = kernel.toFloatArray(), b = bias.toFloatArray(), out = new float[n * oh * ow * f];
        for (int e = 0; e < n; e++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                    for (int o = 0; o < f; o++) {
                        double sum = b[o];
                        for (int di = 0; di < kh; di++)
                            for (int dj = 0; dj < kw; dj++) {
                                int y = i * stride + di - padH, xx = j * stride + dj - padW;
                                if (y < 0 || y >= h || xx < 0 || xx >= w) continue;
                                for (int ch = 0; ch < c; ch++)
                                    sum += x[((e * h + y) * w + xx) * c + ch] * k[((di * kw + dj) * c + ch) * f + o];
                            }
                        out[((e * oh + i) * ow + j) * f + o] = (float) sum;
                    }
        return out;
    }

    private static float[] norm(float[] x, Map<String, Tensor> s, String bn) {
        float[] g = s.get(bn + ".gamma").toFloatArray(), b = s.get(bn + ".beta").toFloatArray();
        float[] m = s.get(bn + ".moving_mean").toFloatArray(), v = s.get(bn + ".moving_variance").toFloatArray();
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            int ch = i % g.length;
            out[i] = (float) (g[ch] * (x[i] - m[ch]) / Math.sqrt(v[ch] + 1e-3) + b[ch]);
        }
        return out;
    }

    private static float[] relu(float[] x) {
        float[] out = x.clone();
        for (int i = 0; i < out.length; i++) out[i] = Math.max(0, out[i]);
        return out;
    }

    @Test
    void identityBlockMatchesANaiveReferenceInInference() {
        ResidualBlock block = new ResidualBlock(3, 1);
        Tensor x = Tensor.randn(rnd, 2, 5, 4, 3);
        block.build(Shape.of(5, 4, 3));
        randomiseNorms(block);
        block.train(false);
        assertThat(block.children()).containsOnlyKeys("conv1", "bn1", "conv2", "bn2");
        assertClose(forwardWithDeclaredShape(block, x), reference(block, x, 1, false), 1e-4);
    }

    @Test
    void projectionBlockMatchesANaiveReferenceInInference() {
        ResidualBlock block = new ResidualBlock(4, 2);
        Tensor x = Tensor.randn(rnd, 2, 5, 6, 2);
        block.build(Shape.of(5, 6, 2));
        randomiseNorms(block);
        block.train(false);
        assertThat(block.children()).containsKeys("shortcut_conv", "shortcut_bn");
        Tensor y = forwardWithDeclaredShape(block, x);
        assertThat(y.shape()).isEqualTo(Shape.of(2, 3, 3, 4));
        assertClose(y, reference(block, x, 2, true), 1e-4);
    }

    /**
     * Through tanh in place of ReLU: the block's ReLUs sit right after batch normalisation, whose
     * outputs crowd around zero, so a finite difference crosses a kink on about every other run.
     * ReLU's own gradient is checked with the activations; here the convolutions, norms,
     * shortcut and sum are, in training mode (batch statistics) and inference.
     */
    @Test
    void gradientsMatchFiniteDifferences() {
        LayerGradCheck.inputAndParameters(new ResidualBlock(2, 1, Activation.TANH), Tensor.randn(rnd, 2, 3, 3, 2));
        LayerGradCheck.inputAndParameters(new ResidualBlock(3, 2, Activation.TANH), Tensor.randn(rnd, 2, 4, 3, 2));
        ResidualBlock inference = new ResidualBlock(2, 1, Activation.TANH);
        inference.build(Shape.of(3, 3, 2));
        randomiseNorms(inference);
        inference.train(false);
        LayerGradCheck.inputAndParameters(inference, Tensor.randn(rnd, 2, 3, 3, 2));
    }

    @Test
    void everyParameterOfThePartsGetsAGradient() {
        ResidualBlock block = new ResidualBlock(3, 2);
        block.forward(Tensor.randn(rnd, 2, 4, 4, 2)).sum().backward();
        assertThat(block.parameters()).hasSize(12).allSatisfy(p -> assertThat(p.value().grad()).as(p.name()).isNotNull());
    }

    @Test
    void countsFlopsOfItsThreeConvolutions() {
        // conv1 3x3x2->4 at 3x3 outputs, conv2 3x3x4->4, 1x1x2->4 projection; 2 per multiply-add
        assertThat(new ResidualBlock(4, 2).flops(Shape.of(6, 6, 2))).isEqualTo(2L * 3 * 3 * 4 * (9 * 2 + 9 * 4 + 2));
        assertThat(new ResidualBlock(2, 1).flops(Shape.of(5, 5, 2))).isEqualTo(2L * 5 * 5 * 2 * (9 * 2 + 9 * 2));
    }

    @Test
    void rejectsBadArgumentsAndShapesNamingThem() {
        assertThatThrownBy(() -> new ResidualBlock(0, 1)).hasMessageContaining("ResidualBlock").hasMessageContaining("filters");
        assertThatThrownBy(() -> new ResidualBlock(4, 0)).hasMessageContaining("ResidualBlock").hasMessageContaining("strides");
        assertThatThrownBy(() -> new ResidualBlock(4, 1, Activation.RELU, 1.5)).hasMessage("ResidualBlock momentum must be in [0, 1], got 1.5");
        assertThatThrownBy(() -> new ResidualBlock(4, 1).outputShape(Shape.of(16)))
                .hasMessageContaining("residual_block").hasMessageContaining("[16]");
        ResidualBlock built = new ResidualBlock(4, 1);
        built.build(Shape.of(4, 4, 3));
        assertThatThrownBy(() -> built.outputShape(Shape.of(4, 4, 5))).hasMessageContaining("3 channels").hasMessageContaining("[4, 4, 5]");
    }

    @Test
    void configAndWeightsRoundTripThroughASavedSequential() throws Exception {
        Init.seed(3);
        Sequential m = new Sequential(Shape.of(6, 6, 1), new Conv2D(2, 3, 3, 1, 1, "same", Activation.RELU),
                new ResidualBlock(2, 1), new ResidualBlock(4, 2).trainable(false), new GlobalAveragePooling2D(), new Dense(3, Activation.SOFTMAX));
        assertThat(Layers.fromConfig(m.layers().get(2).config()).config()).isEqualTo(m.layers().get(2).config());
        assertThat(Layers.fromConfig(Map.of("type", "ResidualBlock", "filters", 2, "activation", "tanh")).config())
                .isEqualTo(new ResidualBlock(2, 1, Activation.TANH).config());
        assertThat(m.layers().get(2).config()).containsEntry("type", "ResidualBlock").containsEntry("filters", 4).containsEntry("strides", 2)
                .containsEntry("trainable", false);
        m.save(tmp.resolve("m"));
        Sequential loaded = Sequential.load(tmp.resolve("m"));
        assertThat(loaded.configJson()).isEqualTo(m.configJson());
        assertThat(loaded.layers().get(2).trainable()).isFalse();
        assertThat(loaded.trainableParameterCount()).isEqualTo(m.trainableParameterCount());
        Tensor x = Tensor.randn(rnd, 3, 6, 6, 1);
        assertThat(loaded.predict(x, 8).toFloatArray()).containsExactly(m.predict(x, 8).toFloatArray());
        assertThat(loaded.stateDict().keySet()).contains("1.conv1.kernel", "1.bn2.moving_variance", "2.shortcut_conv.kernel", "2.shortcut_bn.gamma");
    }

    @Test
    void freezingTheBlockFreezesEveryPart() {
        ResidualBlock block = new ResidualBlock(4, 2);
        block.trainable(false); // before build: the parts made at build time start frozen
        block.build(Shape.of(4, 4, 2));
        assertThat(block.parameters()).isNotEmpty().allSatisfy(p -> assertThat(p.trainable()).as(p.name()).isFalse());
        block.trainable(true);
        assertThat(block.parameters()).allSatisfy(p -> assertThat(p.trainable()).as(p.name()).isTrue());
    }
}
