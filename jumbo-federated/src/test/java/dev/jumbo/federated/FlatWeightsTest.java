package dev.jumbo.federated;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumbo.nn.Activation;
import dev.jumbo.nn.BatchNormalization;
import dev.jumbo.nn.Dense;
import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.train.Sequential;
import java.util.Random;
import org.junit.jupiter.api.Test;

class FlatWeightsTest {
    @Test
    void flattensInStateDictOrderAndLoadsBack() {
        Sequential m = new Sequential(Shape.of(5), new Dense(4, Activation.RELU), new BatchNormalization(), new Dense(3, Activation.SOFTMAX));
        float[] flat = FlatWeights.of(m);
        // naive reference: concatenate the state dict's tensors
        int at = 0;
        for (Tensor t : m.stateDict().values()) {
            float[] v = t.toFloatArray();
            for (float x : v) assertThat(flat[at++]).isEqualTo(x);
        }
        assertThat(flat).hasSize(at);
        assertThat(FlatWeights.count(m)).isEqualTo(at);

        Random r = new Random(4);
        float[] fresh = new float[flat.length];
        for (int i = 0; i < fresh.length; i++) fresh[i] = (float) r.nextGaussian();
        FlatWeights.load(m, fresh);
        assertThat(FlatWeights.of(m)).containsExactly(fresh);
        Tensor x = Tensor.randn(r, 2, 5);
        Sequential twin = new Sequential(Shape.of(5), new Dense(4, Activation.RELU), new BatchNormalization(), new Dense(3, Activation.SOFTMAX));
        FlatWeights.load(twin, fresh);
        m.train(false);
        twin.train(false);
        assertThat(twin.forward(x).toFloatArray()).containsExactly(m.forward(x).toFloatArray());
    }

    @Test
    void refusesTheWrongLength() {
        Sequential m = new Sequential(Shape.of(5), new Dense(3));
        assertThatThrownBy(() -> FlatWeights.load(m, new float[7])).hasMessageContaining("7 values").hasMessageContaining("18");
    }
}
