package dev.jumbo.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumbo.loss.Losses;
import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.train.Sequential;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class FlatParametersTest {
    private static Sequential withBatchNorm() {
        return new Sequential(Shape.of(5), new Dense(4, Activation.RELU), new BatchNormalization(), new Dense(3, Activation.SOFTMAX));
    }

    @Test
    void stateFlattensInStateDictOrderAndLoadsBack() {
        Sequential m = withBatchNorm();
        float[] flat = FlatParameters.state(m);
        // naive reference: concatenate the state dict's tensors
        int at = 0;
        for (Tensor t : m.stateDict().values()) {
            float[] v = t.toFloatArray();
            for (float x : v) assertThat(flat[at++]).isEqualTo(x);
        }
        assertThat(flat).hasSize(at);
        assertThat(FlatParameters.stateSize(m)).isEqualTo(at);

        Random r = new Random(4);
        float[] fresh = new float[flat.length];
        for (int i = 0; i < fresh.length; i++) fresh[i] = (float) r.nextGaussian();
        FlatParameters.loadState(m, fresh);
        assertThat(FlatParameters.state(m)).containsExactly(fresh);
        Tensor x = Tensor.randn(r, 2, 5);
        Sequential twin = withBatchNorm();
        FlatParameters.loadState(twin, fresh);
        m.train(false);
        twin.train(false);
        assertThat(twin.forward(x).toFloatArray()).containsExactly(m.forward(x).toFloatArray());
    }

    @Test
    void gradientsFollowTheTrainableParametersOnly() {
        Random r = new Random(9);
        Sequential m = new Sequential(Shape.of(5), new Dense(4, Activation.TANH), new Dense(3, Activation.SOFTMAX));
        m.parameters().get(0).freeze(); // a frozen parameter has no slot in the flat gradient
        Tensor x = Tensor.randn(r, 6, 5);
        Tensor y = Tensor.of(new float[] {0, 1, 2, 0, 1, 2}, 6);
        Losses.of("sparse_categorical_crossentropy").compute(m.forward(x), y).backward();

        List<Tensor> want = new ArrayList<>();
        for (Parameter p : m.parameters()) if (p.trainable()) want.add(p.value());
        assertThat(FlatParameters.trainable(m)).containsExactlyElementsOf(want);
        float[] flat = FlatParameters.gradients(m);
        int at = 0;
        for (Tensor p : want) {
            float[] g = p.grad().toFloatArray();
            for (int i = 0; i < g.length; i++) assertThat(flat[at + i]).isEqualTo(g[i]);
            at += g.length;
        }
        assertThat(at).isEqualTo(FlatParameters.gradientSize(m)).isEqualTo(flat.length).isLessThan(FlatParameters.stateSize(m));

        // adding accumulates: twice the flat gradient after adding it once more
        FlatParameters.addToGradients(m, flat);
        float[] twice = FlatParameters.gradients(m);
        for (int i = 0; i < flat.length; i++) assertThat(twice[i]).isEqualTo(flat[i] + flat[i]);
        for (Tensor p : want) p.zeroGrad();
        FlatParameters.addToGradients(m, flat);
        assertThat(FlatParameters.gradients(m)).containsExactly(flat);
    }

    @Test
    void aParameterWithoutAGradientGivesZeros() {
        Sequential m = new Sequential(Shape.of(3), new Dense(2));
        assertThat(FlatParameters.gradients(m)).containsOnly(0f).hasSize(8);
    }

    @Test
    void refusesTheWrongLength() {
        Sequential m = new Sequential(Shape.of(5), new Dense(3));
        assertThatThrownBy(() -> FlatParameters.loadState(m, new float[7])).hasMessageContaining("flat state has 7 values").hasMessageContaining("18");
        assertThatThrownBy(() -> FlatParameters.addToGradients(m, new float[17])).hasMessageContaining("flat gradient has 17 values").hasMessageContaining("18");
    }
}
