package dev.jumbo.federated;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.jumbo.data.TensorDataset;
import dev.jumbo.nn.Activation;
import dev.jumbo.nn.Dense;
import dev.jumbo.nn.FlatParameters;
import dev.jumbo.optim.SGD;
import dev.jumbo.tensor.Shape;
import dev.jumbo.train.Sequential;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The per-round evaluation, and the moving average of the global weights against a naive one. */
class GlobalEvaluationTest {
    private static Sequential model() {
        return new Sequential(Shape.of(5), new Dense(7, Activation.RELU), new Dense(3, Activation.SOFTMAX));
    }

    @Test
    void movingAverageIsTheNaiveOneAndIsWhatItEvaluates() {
        long seed = System.nanoTime();
        Random r = new Random(seed);
        TensorDataset test = Blobs.make(300, 5, 3, 0.8, 4, seed);
        List<String> lines = new ArrayList<>();
        double decay = 0.6;
        GlobalEvaluation eval = new GlobalEvaluation(model(), test, lines::add).withAverage(decay);
        Sequential reference = model();
        reference.compile(new SGD(0.01), "sparse_categorical_crossentropy", "accuracy");
        int n = FlatParameters.stateSize(reference);
        double[] naive = null;
        for (int round = 1; round <= 4; round++) {
            float[] w = new float[n];
            for (int i = 0; i < n; i++) w[i] = (float) r.nextGaussian();
            if (naive == null) {
                naive = new double[n];
                for (int i = 0; i < n; i++) naive[i] = w[i];
            } else {
                for (int i = 0; i < n; i++) naive[i] = decay * naive[i] + (1 - decay) * w[i];
            }
            eval.roundEnded(new FederatedServer.RoundResult(round, round, List.of("a"), List.of("a"), 0, true), w);
            float[] got = eval.averagedWeights();
            float[] want = new float[n];
            for (int i = 0; i < n; i++) {
                assertThat((double) got[i]).as("seed %d, round %d, weight %d", seed, round, i).isCloseTo(naive[i], within(1e-5));
                want[i] = (float) naive[i];
            }
            FlatParameters.loadState(reference, want);
            double averaged = reference.evaluate(test, 256).get("accuracy");
            FlatParameters.loadState(reference, w);
            double plain = reference.evaluate(test, 256).get("accuracy");
            GlobalEvaluation.Row row = eval.rows().getLast();
            assertThat(row.averagedAccuracy()).isCloseTo(averaged, within(1e-9));
            assertThat(row.testAccuracy()).isCloseTo(plain, within(1e-9));
            assertThat(lines.getLast()).contains(String.format("moving average %.4f", averaged));
        }
    }

    @Test
    void withoutAnAverageThereIsNone() {
        TensorDataset test = Blobs.make(50, 5, 3, 0.8, 4, 1);
        GlobalEvaluation eval = new GlobalEvaluation(model(), test, line -> {});
        eval.roundEnded(new FederatedServer.RoundResult(1, 1, List.of("a"), List.of("a"), 0, true), new float[FlatParameters.stateSize(model())]);
        assertThat(eval.averagedWeights()).isNull();
        assertThat(eval.rows().getLast().averagedAccuracy()).isNaN();
        assertThatThrownBy(() -> eval.withAverage(1)).hasMessageContaining("(0, 1)");
    }
}
