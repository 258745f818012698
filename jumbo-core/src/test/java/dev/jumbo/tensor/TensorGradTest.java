package dev.jumbo.tensor;

import static dev.jumbo.testing.GradCheck.check;

import dev.jumbo.testing.GradCheck;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Finite-difference gradient checks for every differentiable tensor operation. */
class TensorGradTest {
    private final Random rnd = GradCheck.random();

    private Tensor randn(int... dims) {
        return Tensor.randn(rnd, dims);
    }

    private Tensor positive(int... dims) {
        return Tensor.uniform(rnd, 0.5f, 2f, dims);
    }

    @Test
    void broadcastingArithmetic() {
        check(in -> in.get(0).add(in.get(1)), randn(2, 3, 4), randn(3, 1));
        check(in -> in.get(0).sub(in.get(1)), randn(2, 3), randn(3));
        check(in -> in.get(0).mul(in.get(1)), randn(4, 1), randn(1, 5));
        check(in -> in.get(0).div(in.get(1)), randn(2, 3), positive(2, 1));
        // distinct values, 0.1 apart, and the second operand's halfway between the first's: no tie
        // (plain randn had near-ties now and then, and the finite difference straddled the kink)
        check(in -> in.get(0).maximum(in.get(1)), distinct(3, 4), distinct(4).add(0.05f));
        check(in -> in.get(0).add(1.5f).mul(-2f), randn(3, 2));
    }

    @Test
    void unaryFunctions() {
        check(in -> in.get(0).exp(), randn(3, 4));
        check(in -> in.get(0).log(), positive(3, 4));
        check(in -> in.get(0).sqrt(), positive(5));
        check(in -> in.get(0).pow(3f), positive(5));
        check(in -> in.get(0).tanh(), randn(3, 4));
        check(in -> in.get(0).sigmoid(), randn(3, 4));
        check(in -> in.get(0).gelu(), randn(3, 4));
        check(in -> in.get(0).geluTanh(), randn(3, 4));
        check(in -> in.get(0).square(), randn(3, 4));
        check(in -> in.get(0).abs(), awayFromZero(3, 4));
        check(in -> in.get(0).relu(), awayFromZero(3, 4));
        check(in -> in.get(0).leakyRelu(0.1f), awayFromZero(3, 4));
        check(in -> in.get(0).clamp(-0.5f, 0.5f), awayFrom(0.5f, 3, 4));
    }

    /** Values at least 0.1 from zero, so a kink is never inside the finite-difference step. */
    private Tensor awayFromZero(int... dims) {
        return awayFrom(0f, dims);
    }

    private Tensor awayFrom(float kinkAbs, int... dims) {
        Tensor t = randn(dims);
        float[] d = t.buffer();
        for (int i = 0; i < d.length; i++) {
            float a = Math.abs(d[i]);
            if (Math.abs(a - kinkAbs) < 0.1f) d[i] = Math.signum(d[i] == 0 ? 1 : d[i]) * (kinkAbs + 0.2f);
        }
        return t;
    }

    @Test
    void reductions() {
        check(in -> in.get(0).sum(), randn(3, 4));
        check(in -> in.get(0).mean(), randn(3, 4));
        check(in -> in.get(0).sum(1, false), randn(2, 3, 4));
        check(in -> in.get(0).mean(0, true), randn(2, 3, 4));
        check(in -> in.get(0).sum(-1, false), randn(2, 3, 4));
        check(in -> in.get(0).mean(-1, true), randn(5, 3));
        check(in -> in.get(0).max(-1, false), distinct(3, 5));
        check(in -> in.get(0).sumTo(Shape.of(3, 1)), randn(2, 3, 4));
    }

    @Test
    void matmulInAllSupportedForms() {
        check(in -> in.get(0).matmul(in.get(1)), randn(3, 4), randn(4, 5));
        check(in -> in.get(0).matmul(in.get(1)), randn(2, 3, 4), randn(4, 2));
        check(in -> in.get(0).matmul(in.get(1)), randn(2, 3, 4), randn(2, 4, 2));
        check(in -> in.get(0).matmul(in.get(1)), randn(3, 4), randn(2, 4, 2));
        check(in -> in.get(0).matmul(in.get(1).transpose(0, 1)), randn(3, 4), randn(5, 4));
        check(in -> in.get(0).transpose(0, 1).matmul(in.get(1)), randn(4, 3), randn(4, 5));
    }

    @Test
    void linearWithAndWithoutBias() {
        check(in -> in.get(0).linear(in.get(1), in.get(2)), randn(2, 3, 4), randn(4, 5), randn(5));
        check(in -> in.get(0).linear(in.get(1), null), randn(3, 4), randn(4, 2));
        check(in -> in.get(0).linear(in.get(1).transpose(0, 1), in.get(2)), randn(4), randn(3, 4), randn(3));
    }

    @Test
    void views() {
        check(in -> in.get(0).reshape(4, -1), randn(2, 3, 2));
        check(in -> in.get(0).transpose(0, 2).mul(in.get(0).transpose(0, 2)), randn(2, 3, 4));
        check(in -> in.get(0).permute(2, 0, 1).contiguous(), randn(2, 3, 4));
        check(in -> in.get(0).slice(1, 1, 3), randn(2, 4, 3));
        check(in -> in.get(0).slice(0, 1, 2).transpose(0, 1).reshape(-1), randn(3, 4));
        // overlapping slices of one tensor, and the tensor itself, all adding into one gradient
        check(in -> in.get(0).slice(1, 0, 2).mul(in.get(0).slice(1, 2, 4)).add(in.get(0).slice(1, 1, 3)).mul(in.get(0).slice(1, 0, 2).add(1f)), randn(3, 5));
        check(in -> in.get(0).tanh().slice(2, 1, 3).sum(2, true).mul(in.get(0)), randn(2, 3, 4));
        // the same weights in two products: two fresh gradients summed into a leaf
        check(in -> in.get(0).matmul(in.get(1)).add(in.get(0).tanh().matmul(in.get(1))), randn(3, 4), randn(4, 2));
        check(in -> in.get(0).unsqueeze(1).flatten(), randn(3, 4));
        check(in -> Tensor.concat(1, List.of(in.get(0), in.get(1))), randn(2, 3), randn(2, 2));
        check(in -> Tensor.stack(0, List.of(in.get(0), in.get(1).tanh())), randn(2, 3), randn(2, 3));
    }

    @Test
    void softmaxFamilyAndIndexing() {
        check(in -> in.get(0).softmax(), randn(3, 5));
        check(in -> in.get(0).logSoftmax(), randn(2, 3, 5));
        check(in -> in.get(0).pick(new int[] {2, 0, 4}), randn(3, 5));
        check(in -> in.get(0).rows(new int[] {1, 3, 1}), randn(4, 3));
    }

    @Test
    void layerNormOverTheLastAxis() {
        check(in -> in.get(0).layerNorm(in.get(1), in.get(2), 1e-5f), randn(2, 3, 5), randn(5), randn(5));
        check(in -> in.get(0).layerNorm(in.get(1), in.get(2), 1e-3f), randn(4, 19), randn(19), randn(19));
        // only the input needs a gradient (a frozen norm)
        check(in -> in.get(0).layerNorm(Tensor.ones(6), Tensor.zeros(6), 1e-5f), randn(3, 6));
    }

    @Test
    void attentionOverSlicesOfOneProjectionAndOverSeparateInputs() {
        Tensor causal = Tensor.of(new float[] {0, Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY, 0, 0, Float.NEGATIVE_INFINITY, 0, 0, 0}, 3, 3);
        // q, k and v sliced from one [batch, time, 3d] tensor, as GPT-2's fused projection gives them
        check(in -> in.get(0).slice(2, 0, 4).attention(in.get(0).slice(2, 4, 8), in.get(0).slice(2, 8, 12), 2, causal), randn(2, 3, 12));
        // separate inputs, keys longer than queries, a [batch, 1, 1, tk] padding mask, one head
        Tensor padding = Tensor.of(new float[] {0, 0, -1e9f, 0, 0, 0, -1e9f, -1e9f}, 2, 1, 1, 4);
        check(in -> in.get(0).attention(in.get(1), in.get(2), 1, padding), randn(2, 2, 3), randn(2, 4, 3), randn(2, 4, 3));
        check(in -> in.get(0).attention(in.get(1), in.get(2), 3, null), randn(1, 2, 6), randn(1, 5, 6), randn(1, 5, 6));
    }

    @Test
    void convolutionAndPooling() {
        check(in -> in.get(0).conv2d(in.get(1), in.get(2), 1, 1, false), randn(2, 5, 5, 2), randn(3, 3, 2, 3), randn(3));
        check(in -> in.get(0).conv2d(in.get(1), in.get(2), 2, 2, true), randn(1, 6, 5, 3), randn(3, 2, 3, 2), randn(2));
        check(in -> in.get(0).conv2d(in.get(1), null, 1, 2, true), randn(2, 4, 4, 1), randn(2, 2, 1, 2));
        check(in -> in.get(0).maxPool2d(2, 2, 2, 2, false), distinct(2, 4, 4, 3));
        check(in -> in.get(0).maxPool2d(3, 3, 2, 2, true), distinct(1, 5, 5, 2));
        check(in -> in.get(0).avgPool2d(2, 2, 2, 2, true), randn(2, 5, 5, 2));
    }

    @Test
    void fusedConvReluHasTheValuesAndGradientsOfConvThenRelu() {
        // A finite-difference check would straddle the relu's kink wherever a convolution output
        // lies near zero; the fused op must instead equal the two ops it replaces, bit for bit.
        for (boolean same : new boolean[] {false, true}) {
            Tensor x = randn(2, 7, 6, 3), w = randn(3, 3, 3, 5), b = randn(5), seed = randn(2, same ? 7 : 5, same ? 6 : 4, 5);
            Tensor[] unfused = {x.copy().requiresGrad(true), w.copy().requiresGrad(true), b.copy().requiresGrad(true)};
            Tensor[] fused = {x.copy().requiresGrad(true), w.copy().requiresGrad(true), b.copy().requiresGrad(true)};
            Tensor y1 = unfused[0].conv2d(unfused[1], unfused[2], 1, 1, same).relu();
            Tensor y2 = fused[0].conv2dRelu(fused[1], fused[2], 1, 1, same);
            org.assertj.core.api.Assertions.assertThat(y2.toFloatArray()).containsExactly(y1.toFloatArray());
            y1.backward(seed);
            y2.backward(seed);
            for (int i = 0; i < 3; i++)
                org.assertj.core.api.Assertions.assertThat(fused[i].grad().toFloatArray()).as("gradient %d, same=%s", i, same)
                        .containsExactly(unfused[i].grad().toFloatArray());
        }
    }

    /** Values spaced far enough apart that the finite-difference step never changes a maximum. */
    private Tensor distinct(int... dims) {
        int n = Shape.of(dims).size();
        float[] d = new float[n];
        for (int i = 0; i < n; i++) d[i] = i * 0.1f;
        for (int i = n - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            float t = d[i];
            d[i] = d[j];
            d[j] = t;
        }
        return Tensor.of(d, dims);
    }
}
