package dev.jumbo.privacy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumbo.loss.Loss;
import dev.jumbo.loss.MeanSquaredError;
import dev.jumbo.loss.SparseCategoricalCrossentropy;
import dev.jumbo.nn.Activation;
import dev.jumbo.nn.BatchNormalization;
import dev.jumbo.nn.Conv2D;
import dev.jumbo.nn.Dense;
import dev.jumbo.nn.Embedding;
import dev.jumbo.nn.Flatten;
import dev.jumbo.nn.LayerNorm;
import dev.jumbo.nn.MaxPool2D;
import dev.jumbo.nn.Parameter;
import dev.jumbo.nn.SimpleRNN;
import dev.jumbo.tensor.PerExampleGrads;
import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.train.Sequential;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Per-example gradients from one batched pass against a loop that runs one example at a time. */
class PerExampleGradientsTest {
    private final Random rnd = new Random();

    @Test
    void denseOnVectorsMatchesOneExampleAtATime() {
        var model = new Sequential(Shape.of(7), new Dense(5, Activation.TANH), new Dense(3));
        assertMatchesLoop(model, new MeanSquaredError(), Tensor.randn(rnd, 6, 7), Tensor.randn(rnd, 6, 3));
    }

    @Test
    void denseOnSequencesSumsEachExamplesPositions() {
        var model = new Sequential(Shape.of(4, 5), new Dense(6, Activation.RELU), new LayerNorm(), new Flatten(), new Dense(2));
        assertMatchesLoop(model, new MeanSquaredError(), Tensor.randn(rnd, 5, 4, 5), Tensor.randn(rnd, 5, 2));
    }

    @Test
    void conv2dValidStridedSameAndPointwiseMatchOneExampleAtATime() {
        var model = new Sequential(Shape.of(9, 8, 2),
                new Conv2D(4, 3, Activation.RELU),
                new Conv2D(3, 3, 2, 2, 2, "same", Activation.TANH),
                new Conv2D(2, 1, Activation.LINEAR),   // pointwise: the gemm reads x itself
                new Flatten(), new Dense(3));
        assertMatchesLoop(model, new MeanSquaredError(), Tensor.randn(rnd, 4, 9, 8, 2), Tensor.randn(rnd, 4, 3));
    }

    @Test
    void embeddingScattersEachExamplesRows() {
        var model = new Sequential(Shape.of(5), new Embedding(11, 4), new LayerNorm(), new Flatten(), new Dense(3, Activation.SOFTMAX));
        float[] ids = new float[6 * 5], labels = new float[6];
        for (int i = 0; i < ids.length; i++) ids[i] = rnd.nextInt(11);
        ids[0] = ids[1] = 3;   // a repeated id inside one example adds up
        for (int i = 0; i < labels.length; i++) labels[i] = rnd.nextInt(3);
        assertMatchesLoop(model, new SparseCategoricalCrossentropy(), Tensor.of(ids, 6, 5), Tensor.of(labels, 6));
    }

    @Test
    void wholeSmallCnnMatchesOneExampleAtATime() {
        var model = new Sequential(Shape.of(12, 12, 1),
                new Conv2D(6, 3, Activation.TANH), new MaxPool2D(2),
                new Conv2D(8, 3, Activation.RELU), new Flatten(),
                new Dense(16, Activation.TANH), new Dense(10, Activation.SOFTMAX));
        float[] labels = new float[8];
        for (int i = 0; i < labels.length; i++) labels[i] = rnd.nextInt(10);
        assertMatchesLoop(model, new SparseCategoricalCrossentropy(), Tensor.randn(rnd, 8, 12, 12, 1), Tensor.of(labels, 8));
    }

    /** Each example's gradient against central finite differences of that example's own loss, every parameter element. */
    @Test
    void perExampleGradientsMatchFiniteDifferencesOfEachExamplesLoss() {
        var model = new Sequential(Shape.of(4, 4, 1), new Conv2D(2, 2, 2, 2, 2, "same", Activation.TANH), new Flatten(),
                new Dense(3, Activation.TANH), new LayerNorm(), new Dense(2));
        var loss = new MeanSquaredError();
        Tensor x = Tensor.randn(rnd, 3, 4, 4, 1), y = Tensor.randn(rnd, 3, 2);
        var per = PerExampleGradients.compute(model, loss, x, y);
        double eps = 1e-2;
        for (int b = 0; b < 3; b++) {
            Tensor xb = x.slice(0, b, b + 1).contiguous(), yb = y.slice(0, b, b + 1).contiguous();
            for (int p = 0; p < per.parameters().size(); p++) {
                float[] w = per.parameters().get(p).value().buffer(), g = per.perExample().get(p);
                for (int i = 0; i < w.length; i++) {
                    float keep = w[i];
                    double plus, minus;
                    try (var scope = dev.jumbo.tensor.GradMode.noGrad()) {
                        w[i] = (float) (keep + eps);
                        plus = loss.compute(model.forward(xb), yb).item();
                        w[i] = (float) (keep - eps);
                        minus = loss.compute(model.forward(xb), yb).item();
                    } finally {
                        w[i] = keep;
                    }
                    double numeric = (plus - minus) / (2 * eps), analytic = g[b * w.length + i];
                    assertThat(Math.abs(analytic - numeric)).as("%s[%d] of example %d: %s vs %s", per.parameters().get(p).name(), i, b, analytic, numeric)
                            .isLessThanOrEqualTo(2e-3 + 2e-2 * Math.max(Math.abs(analytic), Math.abs(numeric)));
                }
            }
        }
    }

    @Test
    void perExampleGradientsSumToTheBatchGradient() {
        var model = new Sequential(Shape.of(6, 6, 1), new Conv2D(3, 3, Activation.RELU), new Flatten(), new Dense(2));
        Tensor x = Tensor.randn(rnd, 5, 6, 6, 1), y = Tensor.randn(rnd, 5, 2);
        var loss = new MeanSquaredError();
        var per = PerExampleGradients.compute(model, loss, x, y);
        model.zeroGrad();
        loss.compute(model.forward(x), y).backward();
        for (int p = 0; p < per.parameters().size(); p++) {
            float[] batchGrad = per.parameters().get(p).value().grad().toFloatArray(), sum = new float[batchGrad.length];
            for (int b = 0; b < 5; b++) for (int i = 0; i < sum.length; i++) sum[i] += per.perExample().get(p)[b * sum.length + i] / 5;
            assertClose(sum, batchGrad, per.parameters().get(p).name());
        }
    }

    @Test
    void batchNormalizationIsRefusedWithAReplacement() {
        var model = new Sequential(Shape.of(4), new Dense(3), new BatchNormalization(), new Dense(2));
        assertThatThrownBy(() -> PerExampleGradients.compute(model, new MeanSquaredError(), Tensor.randn(rnd, 3, 4), Tensor.randn(rnd, 3, 2)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("model.1 is a BatchNormalization")
                .hasMessageContaining("BatchNormalization mixes examples of a batch; DP-SGD needs per-example gradients: remove it or use LayerNorm");
    }

    @Test
    void aParameterOfAnUnsupportedOperationIsRefusedByName() {
        var model = new Sequential(Shape.of(3, 2), new SimpleRNN(4), new Dense(2));
        assertThatThrownBy(() -> PerExampleGradients.compute(model, new MeanSquaredError(), Tensor.randn(rnd, 3, 3, 2), Tensor.randn(rnd, 3, 2)))
                .hasMessageContaining("parameter '0.")
                .hasMessageContaining("without per-example gradients");
    }

    @Test
    void aBatchThatDoesNotSplitIntoExamplesIsRefused() {
        Tensor w = Tensor.randn(rnd, 3, 2).requiresGrad(true);
        try (var scope = PerExampleGrads.record(4)) {
            Tensor out = Tensor.randn(rnd, 6, 3).linear(w, null).sum();
            assertThatThrownBy(out::backward).hasMessageContaining("does not split into the 4 examples");
        }
    }

    private void assertMatchesLoop(Sequential model, Loss loss, Tensor x, Tensor y) {
        var per = PerExampleGradients.compute(model, loss, x, y);
        int batch = x.dim(0);
        List<Parameter> params = per.parameters();
        assertThat(params).isNotEmpty();
        for (int b = 0; b < batch; b++) {
            model.zeroGrad();
            loss.compute(model.forward(x.slice(0, b, b + 1).contiguous()), y.slice(0, b, b + 1).contiguous()).backward();
            for (int p = 0; p < params.size(); p++) {
                Tensor grad = params.get(p).value().grad();
                int n = params.get(p).value().size();
                float[] expected = grad == null ? new float[n] : grad.toFloatArray();
                float[] actual = java.util.Arrays.copyOfRange(per.perExample().get(p), b * n, (b + 1) * n);
                assertClose(actual, expected, params.get(p).name() + " of example " + b);
            }
        }
    }

    private static void assertClose(float[] actual, float[] expected, String what) {
        double scale = 1e-6;
        for (float e : expected) scale = Math.max(scale, Math.abs(e));
        boolean anyNonZero = false;
        for (int i = 0; i < expected.length; i++) {
            assertThat((double) actual[i]).as("%s [%d]", what, i).isCloseTo(expected[i], org.assertj.core.api.Assertions.within(2e-5 * scale + 1e-7));
            anyNonZero |= expected[i] != 0;
        }
        assertThat(anyNonZero || expected.length == 0).as("%s has a gradient at all", what).isTrue();
    }
}
