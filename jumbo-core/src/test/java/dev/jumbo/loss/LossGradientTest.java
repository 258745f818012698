package dev.jumbo.loss;

import static dev.jumbo.testing.GradCheck.check;

import dev.jumbo.tensor.Tensor;
import dev.jumbo.testing.GradCheck;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Finite-difference checks of every loss with respect to its predictions (and its targets where
 * gradients flow to them), in both the logits and the probabilities form. Each loss is multiplied
 * by its number of rows so per-element gradients are O(1) and the tolerances mean something.
 */
class LossGradientTest {
    private final Random rnd = GradCheck.random();

    private Tensor probabilities(int... dims) {
        return Tensor.uniform(rnd, 0.15f, 0.85f, dims);
    }

    @Test
    void meanSquaredErrorGradientsReachPredictionsAndTargets() {
        Loss loss = new MeanSquaredError();
        check(in -> loss.compute(in.get(0), in.get(1)).mul(12f), Tensor.randn(rnd, 4, 3), Tensor.randn(rnd, 4, 3));
        check(in -> loss.compute(in.get(0), in.get(1)).mul(5f), Tensor.randn(rnd, 5, 1), Tensor.randn(rnd, 5));
    }

    @Test
    void binaryCrossentropyFromLogitsGradients() {
        Loss loss = new BinaryCrossentropy(true);
        Tensor logits = Tensor.randn(rnd, 4, 3).mul(3f);
        check(in -> loss.compute(in.get(0), in.get(1)).mul(12f), logits, probabilities(4, 3));
    }

    @Test
    void binaryCrossentropyFromProbabilitiesGradients() {
        Loss loss = new BinaryCrossentropy(false);
        check(in -> loss.compute(in.get(0), in.get(1)).mul(12f), 1e-3, 2e-2, 2e-3, probabilities(4, 3), probabilities(4, 3));
    }

    @Test
    void categoricalCrossentropyFromLogitsGradients() {
        Loss loss = new CategoricalCrossentropy(true);
        check(in -> loss.compute(in.get(0), in.get(1)).mul(4f), Tensor.randn(rnd, 4, 5).mul(2f), probabilities(4, 5));
        check(in -> loss.compute(in.get(0), in.get(1)).mul(6f), Tensor.randn(rnd, 2, 3, 4), probabilities(2, 3, 4));
    }

    @Test
    void categoricalCrossentropyFromProbabilitiesGradients() {
        // unnormalised rows: the gradient must account for the division by the row sum
        Loss loss = new CategoricalCrossentropy(false);
        check(in -> loss.compute(in.get(0), in.get(1)).mul(4f), 1e-3, 2e-2, 2e-3, probabilities(4, 5), probabilities(4, 5));
    }

    @Test
    void sparseCategoricalCrossentropyGradientsInBothForms() {
        Tensor labels = Tensor.of(new float[] {0, 4, 2, 2}, 4);
        Loss logits = new SparseCategoricalCrossentropy(true);
        check(in -> logits.compute(in.get(0), labels).mul(4f), Tensor.randn(rnd, 4, 5).mul(2f));
        Loss probs = new SparseCategoricalCrossentropy(false);
        check(in -> probs.compute(in.get(0), labels.reshape(4, 1)).mul(4f), 1e-3, 2e-2, 2e-3, probabilities(4, 5));
    }
}
