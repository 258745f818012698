package dev.jumbo.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumbo.lora.LoraAdapter;
import dev.jumbo.lora.LoraConfig;
import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.testing.GradCheck;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DenseLoraTest {
    private final Random rnd = GradCheck.random();

    private Dense built(int in, int units, Activation activation) {
        Dense dense = new Dense(units, activation);
        dense.build(Shape.of(in));
        float[] b = dense.bias().value().buffer();
        for (int i = 0; i < b.length; i++) b[i] = (float) rnd.nextGaussian();
        return dense;
    }

    private LoraAdapter random(int in, int width, int offset, double scale) {
        return new LoraAdapter(Tensor.randn(rnd, in, 3), Tensor.randn(rnd, 3, width), offset, scale, 0);
    }

    @Test
    void freshAdapterChangesNothing() {
        Dense dense = built(5, 6, Activation.TANH);
        Tensor x = Tensor.randn(rnd, 4, 5);
        float[] before = dense.forward(x).toFloatArray();
        dense.attach(LoraAdapter.fresh(5, 6, 0, LoraConfig.defaults(List.of("d")), rnd));
        assertThat(dense.forward(x).toFloatArray()).containsExactly(before);
        LoraAdapter fresh = dense.adapters().getFirst();
        double bound = 1 / Math.sqrt(5);
        float max = 0;
        for (float v : fresh.a().toFloatArray()) max = Math.max(max, Math.abs(v));
        assertThat((double) max).isLessThanOrEqualTo(bound).isGreaterThan(bound / 2);
        assertThat(fresh.b().toFloatArray()).containsOnly(0f);
        assertThat(fresh.rank()).isEqualTo(8);
    }

    @Test
    void addsScaledLowRankUpdateOnItsColumnsAgainstANaiveReference() {
        int in = 5, units = 9;
        Dense dense = built(in, units, Activation.LINEAR);
        LoraAdapter first = random(in, 3, 0, 2.0), last = random(in, 3, 6, 0.5); // columns 3..6 have none
        dense.attach(last);
        dense.attach(first);
        Tensor x = Tensor.randn(rnd, 2, 3, in);
        float[] y = dense.forward(x).toFloatArray(), xs = x.toFloatArray(), w = dense.kernel().value().toFloatArray(), b = dense.bias().value().toFloatArray();
        for (int row = 0; row < 6; row++)
            for (int u = 0; u < units; u++) {
                double s = b[u];
                for (int k = 0; k < in; k++) s += xs[row * in + k] * w[k * units + u];
                for (LoraAdapter ad : List.of(first, last)) {
                    if (u < ad.offset() || u >= ad.offset() + ad.width()) continue;
                    float[] a = ad.a().toFloatArray(), bb = ad.b().toFloatArray();
                    for (int j = 0; j < 3; j++) {
                        double xa = 0;
                        for (int k = 0; k < in; k++) xa += xs[row * in + k] * a[k * 3 + j];
                        s += ad.scale() * xa * bb[j * ad.width() + u - ad.offset()];
                    }
                }
                assertThat((double) y[row * units + u]).as("row %d unit %d", row, u).isCloseTo(s, org.assertj.core.api.Assertions.within(1e-4));
            }
    }

    @Test
    void adapterGradientsMatchFiniteDifferences() {
        Dense dense = built(4, 6, Activation.TANH);
        dense.kernel().freeze();
        dense.bias().freeze();
        Tensor x = Tensor.randn(rnd, 3, 4);
        GradCheck.check(in -> {
            dense.detachAdapters();
            dense.attach(new LoraAdapter(in.get(1), in.get(2), 0, 1.5, 0));
            dense.attach(new LoraAdapter(in.get(3), in.get(4), 4, 0.5, 0));
            return dense.forward(in.get(0));
        }, x, Tensor.randn(rnd, 4, 2), Tensor.randn(rnd, 2, 3), Tensor.randn(rnd, 4, 2), Tensor.randn(rnd, 2, 2));
    }

    @Test
    void frozenBaseGetsNoGradientWhileTheAdapterDoes() {
        Dense dense = built(4, 6, Activation.LINEAR);
        dense.kernel().freeze();
        dense.bias().freeze();
        LoraAdapter adapter = random(4, 6, 0, 1);
        dense.attach(adapter);
        dense.forward(Tensor.randn(rnd, 3, 4)).sum().backward();
        assertThat(dense.kernel().value().grad()).isNull();
        assertThat(dense.bias().value().grad()).isNull();
        assertThat(adapter.a().grad()).isNotNull();
        assertThat(adapter.b().grad()).isNotNull();
        assertThat(dense.parameters()).hasSize(2);
        assertThat(dense.stateDict().keySet()).containsExactly("kernel", "bias");
    }

    @Test
    void mergingFoldsTheUpdateIntoTheKernel() {
        Dense dense = built(5, 9, Activation.GELU);
        dense.attach(random(5, 3, 0, 2));
        dense.attach(random(5, 6, 3, 0.25));
        Tensor x = Tensor.randn(rnd, 4, 5);
        float[] adapted = dense.forward(x).toFloatArray();
        dense.mergeAdapters();
        assertThat(dense.adapters()).isEmpty();
        float[] merged = dense.forward(x).toFloatArray();
        for (int i = 0; i < merged.length; i++) assertThat(merged[i]).isCloseTo(adapted[i], org.assertj.core.api.Assertions.within(1e-5f));
    }

    @Test
    void refusesAnAdapterThatDoesNotFitOrOverlaps() {
        Dense dense = built(5, 9, Activation.LINEAR);
        assertThatThrownBy(() -> dense.attach(random(4, 3, 0, 1))).hasMessageContaining("dense [5, 9] cannot take a LoRA adapter with 4 inputs");
        assertThatThrownBy(() -> dense.attach(random(5, 3, 7, 1))).hasMessageContaining("over outputs 7..10");
        dense.attach(random(5, 3, 3, 1));
        assertThatThrownBy(() -> dense.attach(random(5, 3, 5, 1))).hasMessageContaining("already has a LoRA adapter over outputs 3..6");
        assertThatThrownBy(() -> new Dense(3).attach(random(5, 3, 0, 1))).hasMessageContaining("not built");
    }

    @Test
    void dropoutActsOnTheAdapterInputOnlyWhileTraining() {
        Dense dense = built(6, 4, Activation.LINEAR);
        dense.attach(new LoraAdapter(Tensor.randn(rnd, 6, 2), Tensor.randn(rnd, 2, 4), 0, 1, 0.5));
        Tensor x = Tensor.randn(rnd, 8, 6);
        dense.train(false);
        float[] eval1 = dense.forward(x).toFloatArray(), eval2 = dense.forward(x).toFloatArray();
        assertThat(eval1).containsExactly(eval2);
        dense.train(true);
        assertThat(dense.forward(x).toFloatArray()).isNotEqualTo(eval1);
    }
}
