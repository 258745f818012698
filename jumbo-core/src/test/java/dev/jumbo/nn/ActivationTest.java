package dev.jumbo.nn;

import static dev.jumbo.nn.LayerGradCheck.assertClose;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumbo.tensor.Tensor;
import dev.jumbo.testing.GradCheck;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ActivationTest {
    private final Random rnd = GradCheck.random();

    @Test
    void namesRoundTripAndNullMeansLinear() {
        for (Activation a : Activation.values()) assertThat(Activation.of(a.id())).isSameAs(a);
        assertThat(Activation.of(null)).isSameAs(Activation.LINEAR);
        assertThat(Activation.of("ReLU")).isSameAs(Activation.RELU);
        assertThat(Activation.SOFTMAX.id()).isEqualTo("softmax");
    }

    @Test
    void rejectsUnknownNameQuotingIt() {
        assertThatThrownBy(() -> Activation.of("swishy")).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'swishy'");
    }

    @Test
    void computesTheNamedFunctions() {
        Tensor x = Tensor.randn(rnd, 2, 5);
        float[] d = x.toFloatArray();
        float[] relu = new float[10], leaky = new float[10], sigmoid = new float[10], softmax = new float[10];
        for (int i = 0; i < 10; i++) {
            relu[i] = Math.max(d[i], 0);
            leaky[i] = d[i] > 0 ? d[i] : 0.2f * d[i];
            sigmoid[i] = (float) (1 / (1 + Math.exp(-d[i])));
        }
        for (int r = 0; r < 2; r++) {
            double s = 0;
            for (int j = 0; j < 5; j++) s += Math.exp(d[r * 5 + j]);
            for (int j = 0; j < 5; j++) softmax[r * 5 + j] = (float) (Math.exp(d[r * 5 + j]) / s);
        }
        assertClose(Activation.LINEAR.apply(x), d, 0);
        assertClose(Activation.RELU.apply(x), relu, 0);
        assertClose(Activation.LEAKY_RELU.apply(x), leaky, 1e-7);
        assertClose(Activation.SIGMOID.apply(x), sigmoid, 1e-6);
        assertClose(Activation.SOFTMAX.apply(x), softmax, 1e-6);
    }
}
