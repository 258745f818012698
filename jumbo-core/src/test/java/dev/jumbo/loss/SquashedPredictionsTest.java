package dev.jumbo.loss;

import static dev.jumbo.testing.GradCheck.check;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.jumbo.testing.GradCheck;
import dev.jumbo.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Probabilities straight from softmax/sigmoid are scored through their logits, as Keras does. */
class SquashedPredictionsTest {
    private final Random rnd = GradCheck.random();

    @Test
    void softmaxOutputsScoreLikeTheirLogitsEvenWhenAProbabilityUnderflows() {
        Tensor logits = Tensor.of(new float[] {60f, -60f, 0f, 1f, 2f, 3f}, 2, 3).requiresGrad(true);
        Tensor targets = Tensor.of(new float[] {1f, 2f}, 2);
        Tensor viaProbabilities = new SparseCategoricalCrossentropy(false).compute(logits.softmax(), targets);
        float expected = new SparseCategoricalCrossentropy(true).compute(logits.detach(), targets).item();
        assertThat(viaProbabilities.item()).isCloseTo(expected, within(1e-4f * Math.abs(expected)));
        viaProbabilities.backward();
        // the underflowed target still pulls its logit up: a clipped probability would give 0 here
        assertThat(logits.grad().get(0, 1)).isLessThan(-0.4f);
    }

    @Test
    void gradientsFlowThroughTheLogitsPath() {
        float[] t = new float[12];
        for (int r = 0; r < 4; r++) t[r * 3 + rnd.nextInt(3)] = 1f;
        Tensor oneHot = Tensor.of(t, 4, 3);
        check(in -> new CategoricalCrossentropy(false).compute(in.get(0).softmax(), oneHot), Tensor.randn(rnd, 4, 3));
        Tensor z = Tensor.of(new float[] {0, 1, 1, 0, 1}, 5, 1);
        check(in -> new BinaryCrossentropy(false).compute(in.get(0).sigmoid(), z), Tensor.randn(rnd, 5, 1));
    }

    @Test
    void sigmoidOutputsStayFiniteAtSaturation() {
        Tensor logits = Tensor.of(new float[] {40f, -40f}, 2, 1);
        float loss = new BinaryCrossentropy(false).compute(logits.sigmoid(), Tensor.of(new float[] {0f, 1f}, 2, 1)).item();
        assertThat(loss).isCloseTo(40f, within(1e-3f));
    }
}
