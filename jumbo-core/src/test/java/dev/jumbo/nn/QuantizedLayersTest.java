package dev.jumbo.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumbo.kernel.Int8Matrix;
import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.testing.GradCheck;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * QuantizedDense and QuantizedConv2D against their float layers. The tolerance is the worst case
 * of symmetric rounding, computed from the data for each output: with {@code |x - sx qx| <= sx/2}
 * and {@code |w - sw qw| <= sw/2} (no clipping under a dynamic scale),
 * {@code |x w - sx qx sw qw| <= |x| sw/2 + (|w| + sw/2) sx/2}, summed over the products; plus
 * 1e-5 (1 + |y|) for float rounding. A layer that dropped a scale, mixed channels or quantized
 * asymmetrically would be off by far more. The outputs must also equal the integer arithmetic
 * done naively (long sums of the quantized values, rescaled) to float precision.
 */
class QuantizedLayersTest {
    private final Random rnd = GradCheck.random();

    private static float[] state(Layer l, String key) {
        return l.stateDict().get(key).toFloatArray();
    }

    @Test
    void denseStaysWithinTheRoundingBoundOfTheFloatLayerAndEqualsTheIntegerArithmetic() {
        // both forms of Int8Matrix: short rows by columns, long rows by pairs (an odd length: a padded pair)
        denseAgainstFloat(37);
        denseAgainstFloat(Int8Matrix.COLUMNS_BELOW + 73);
    }

    private void denseAgainstFloat(int in) {
        int units = 7, batch = 9;
        Dense dense = new Dense(units, Activation.RELU);
        dense.build(Shape.of(in));
        for (int j = 0; j < units; j++) dense.bias().value().buffer()[j] = (float) rnd.nextGaussian() * 0.1f;
        Tensor x = Tensor.randn(rnd, batch, in);
        QuantizedDense q = QuantizedDense.of(dense, ActivationScale.DYNAMIC, 0);
        float[] y = q.forward(x).toFloatArray(), yf = dense.forward(x).toFloatArray();
        float[] w = dense.kernel().value().toFloatArray(), b = dense.bias().value().toFloatArray(), xs = x.toFloatArray();
        float[] qw = state(q, "kernel"), sw = state(q, "kernel_scale");
        float maxX = 0;
        for (float v : xs) maxX = Math.max(maxX, Math.abs(v));
        float sx = maxX / 127;
        for (int j = 0; j < units; j++) {
            float maxW = 0;
            for (int t = 0; t < in; t++) maxW = Math.max(maxW, Math.abs(w[t * units + j]));
            assertThat(sw[j]).as("scale of unit %d", j).isEqualTo(maxW / 127);
        }
        for (int i = 0; i < batch; i++)
            for (int j = 0; j < units; j++) {
                double bound = 0;
                long acc = 0;
                for (int t = 0; t < in; t++) {
                    float xv = xs[i * in + t], wv = w[t * units + j];
                    bound += Math.abs(xv) * sw[j] / 2 + (Math.abs(wv) + sw[j] / 2) * sx / 2;
                    acc += (long) Math.rint(xv / sx) * (long) qw[j * in + t];
                }
                float got = y[i * units + j], want = yf[i * units + j];
                assertThat((double) Math.abs(got - want)).as("output %d,%d", i, j).isLessThanOrEqualTo(bound + 1e-5 * (1 + Math.abs(want)));
                double integer = Math.max(0, acc * (double) sx * sw[j] + b[j]);
                assertThat((double) got).as("integer arithmetic at %d,%d", i, j).isCloseTo(integer, org.assertj.core.api.Assertions.within(1e-5 * (1 + Math.abs(integer))));
            }
    }

    @Test
    void conv2dStaysWithinTheRoundingBoundOfTheFloatLayerAndEqualsTheIntegerArithmetic() {
        for (String padding : new String[] {"same", "valid"}) {
            // 'same': patches of 18 values (by columns); 'valid': 144 (by pairs)
            int h = 9, wd = 7, c = padding.equals("same") ? 3 : 24, filters = 5, kh = 3, kw = 2, stride = padding.equals("same") ? 2 : 1;
            Conv2D conv = new Conv2D(filters, kh, kw, stride, stride, padding, Activation.RELU);
            conv.build(Shape.of(h, wd, c));
            for (int j = 0; j < filters; j++) conv.bias().value().buffer()[j] = (float) rnd.nextGaussian() * 0.1f;
            Tensor x = Tensor.randn(rnd, 2, h, wd, c);
            QuantizedConv2D q = QuantizedConv2D.of(conv, ActivationScale.DYNAMIC, 0);
            Tensor yq = q.forward(x);
            Tensor yfT = conv.forward(x);
            assertThat(yq.shape()).isEqualTo(yfT.shape());
            float[] y = yq.toFloatArray(), yf = yfT.toFloatArray(), xs = x.toFloatArray();
            float[] w = conv.kernel().value().toFloatArray(), sw = state(q, "kernel_scale"), qw = state(q, "kernel");
            float[] b = conv.bias().value().toFloatArray();
            float maxX = 0;
            for (float v : xs) maxX = Math.max(maxX, Math.abs(v));
            float sx = maxX / 127;
            var g = dev.jumbo.kernel.ConvGeometry.of(2, h, wd, c, kh, kw, stride, stride, padding.equals("same"), filters);
            for (int n = 0; n < 2; n++)
                for (int oh = 0; oh < g.outH(); oh++)
                    for (int ow = 0; ow < g.outW(); ow++)
                        for (int f = 0; f < filters; f++) {
                            double bound = 0;
                            long acc = 0;
                            for (int i = 0; i < kh; i++)
                                for (int j = 0; j < kw; j++)
                                    for (int ch = 0; ch < c; ch++) {
                                        int ih = oh * stride - g.padTop() + i, iw = ow * stride - g.padLeft() + j;
                                        if (ih < 0 || ih >= h || iw < 0 || iw >= wd) continue; // padding is exactly 0 in both
                                        float xv = xs[((n * h + ih) * wd + iw) * c + ch], wv = w[((i * kw + j) * c + ch) * filters + f];
                                        bound += Math.abs(xv) * sw[f] / 2 + (Math.abs(wv) + sw[f] / 2) * sx / 2;
                                        acc += (long) Math.rint(xv / sx) * (long) qw[((f * kh + i) * kw + j) * c + ch];
                                    }
                            int at = ((n * g.outH() + oh) * g.outW() + ow) * filters + f;
                            assertThat((double) Math.abs(y[at] - yf[at])).as("%s output %d", padding, at)
                                    .isLessThanOrEqualTo(bound + 1e-5 * (1 + Math.abs(yf[at])));
                            double integer = Math.max(0, acc * (double) sx * sw[f] + b[f]);
                            assertThat((double) y[at]).as("%s integer arithmetic at %d", padding, at)
                                    .isCloseTo(integer, org.assertj.core.api.Assertions.within(1e-5 * (1 + Math.abs(integer))));
                        }
        }
    }

    @Test
    void aStaticScaleSaturatesWhatLiesBeyondTheCalibratedRange() {
        Dense dense = new Dense(4);
        dense.build(Shape.of(16));
        Tensor x = Tensor.randn(rnd, 6, 16);
        float limit = 0.5f;
        QuantizedDense fixed = QuantizedDense.of(dense, ActivationScale.STATIC, limit / 127);
        QuantizedDense dynamic = QuantizedDense.of(dense, ActivationScale.DYNAMIC, 0);
        // with the inputs clipped to the range (and reaching it), the dynamic scale is the static one
        float[] clipped = x.toFloatArray();
        for (int i = 0; i < clipped.length; i++) clipped[i] = Math.clamp(clipped[i], -limit, limit);
        assertThat(fixed.forward(x).toFloatArray()).containsExactly(dynamic.forward(Tensor.of(clipped, 6, 16)).toFloatArray());
    }

    @Test
    void loadingNewStateRepacksTheInt8Weights() {
        Dense a = new Dense(3), b = new Dense(3);
        a.build(Shape.of(5));
        b.build(Shape.of(5));
        QuantizedDense qa = QuantizedDense.of(a, ActivationScale.DYNAMIC, 0), qb = QuantizedDense.of(b, ActivationScale.DYNAMIC, 0);
        Tensor x = Tensor.randn(rnd, 2, 5);
        float[] before = qa.forward(x).toFloatArray(); // packs a's weights
        qa.loadStateDict(qb.stateDict());
        assertThat(qa.forward(x).toFloatArray()).containsExactly(qb.forward(x).toFloatArray()).isNotEqualTo(before);
    }

    @Test
    void configsRoundTripAndNameABadScale() {
        Conv2D conv = new Conv2D(4, 3, 3, 2, 1, "same", Activation.RELU);
        conv.build(Shape.of(6, 6, 2));
        QuantizedConv2D q = QuantizedConv2D.of(conv, ActivationScale.STATIC, 0.01f);
        assertThat(Layers.fromConfig(q.config()).config()).isEqualTo(q.config());
        assertThat(q.config()).containsEntry("activation_scale", "static").containsEntry("strides", java.util.List.of(2, 1));
        assertThat(q.stateDict().keySet()).containsExactly("kernel", "kernel_scale", "bias", "input_scale");
        assertThat(q.stateDict().get("kernel").shape()).isEqualTo(Shape.of(4, 3, 3, 2));
        Dense d = new Dense(2);
        d.build(Shape.of(3));
        QuantizedDense qd = QuantizedDense.of(d, ActivationScale.DYNAMIC, 0);
        assertThat(Layers.fromConfig(qd.config()).config()).isEqualTo(qd.config());
        assertThat(qd.stateDict().keySet()).containsExactly("kernel", "kernel_scale", "bias");
        assertThatThrownBy(() -> Layers.fromConfig(Map.of("type", "QuantizedDense", "units", 2, "activation_scale", "weekly")))
                .hasMessageContaining("QuantizedDense config field 'activation_scale'").hasMessageContaining("weekly");
        assertThatThrownBy(() -> Layers.fromConfig(Map.of("type", "QuantizedDense", "units", 2)))
                .hasMessageContaining("missing field 'activation_scale'");
        assertThatThrownBy(() -> QuantizedDense.of(d, ActivationScale.STATIC, Float.NaN)).hasMessageContaining("input scale");
        assertThatThrownBy(() -> QuantizedDense.of(new Dense(2), ActivationScale.DYNAMIC, 0)).hasMessageContaining("not built");
        assertThatThrownBy(() -> qd.forward(Tensor.of(new float[] {1, Float.NaN, 2}, 1, 3)))
                .hasMessageContaining("quantized_dense cannot quantize an input holding NaN");
    }
}
