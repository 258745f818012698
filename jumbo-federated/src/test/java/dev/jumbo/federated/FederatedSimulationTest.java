package dev.jumbo.federated;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jumbo.data.TensorDataset;
import dev.jumbo.nn.Activation;
import dev.jumbo.nn.Dense;
import dev.jumbo.tensor.Shape;
import dev.jumbo.train.Sequential;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Whole runs over real gRPC on 127.0.0.1: accuracy rises under non-IID shards, and killed clients do not stall a round. */
class FederatedSimulationTest {
    private static final TensorDataset TRAIN = Blobs.make(2000, 10, 4, 1.0, 77, 1), TEST = Blobs.make(1000, 10, 4, 1.0, 77, 2);

    private static Sequential model() {
        return new Sequential(Shape.of(10), new Dense(16, Activation.RELU), new Dense(4, Activation.SOFTMAX));
    }

    private static List<GlobalEvaluation.Row> simulate(String aggregator, double serverLr, double mu, int rounds, int kill, int killRound,
                                                       Duration timeout, List<String> killed) throws Exception {
        List<String> lines = new ArrayList<>();
        Sequential m = model();
        var eval = new GlobalEvaluation(model(), TEST, lines::add);
        var settings = new FederatedServer.Settings(rounds, 4, 2, timeout, 4096, 3, mu);
        var outcome = FederatedSimulation.run(m, TRAIN, Aggregator.of(aggregator, serverLr), settings,
                new FederatedSimulation.Setup(4, "shards:2", 3, new LocalTraining(1, 32, 0.05, 0.9, 3), kill, killRound), eval);
        killed.addAll(outcome.killed());
        assertThat(lines).hasSize(rounds);
        return eval.rows();
    }

    @Test
    void fedAvgAccuracyRisesUnderLabelShards() throws Exception {
        var rows = simulate("fedavg", 0, 0, 6, 0, 0, Duration.ofSeconds(60), new ArrayList<>());
        for (var row : rows) {
            assertThat(row.round().applied()).isTrue();
            assertThat(row.round().answered()).hasSize(4);
        }
        assertThat(rows.getLast().round().modelVersion()).isEqualTo(6);
        assertThat(rows.getLast().testAccuracy()).isGreaterThan(rows.getFirst().testAccuracy()).isGreaterThan(0.85);
    }

    @Test
    void fedProxAndFedAdamAlsoLearn() throws Exception {
        var prox = simulate("fedprox", 0, 0.01, 4, 0, 0, Duration.ofSeconds(60), new ArrayList<>());
        assertThat(prox.getLast().testAccuracy()).isGreaterThan(0.8);
        var adam = simulate("fedadam", 0.05, 0, 6, 0, 0, Duration.ofSeconds(60), new ArrayList<>());
        assertThat(adam.getLast().testAccuracy()).isGreaterThan(0.6);
        assertThat(adam.getLast().testAccuracy()).isGreaterThan(adam.getFirst().testAccuracy());
    }

    @Test
    void aRoundCompletesWhenTwoClientsDieMidRound() throws Exception {
        List<String> killed = new ArrayList<>();
        long start = System.nanoTime();
        var rows = simulate("fedavg", 0, 0, 4, 2, 2, Duration.ofSeconds(4), killed);
        double seconds = (System.nanoTime() - start) / 1e9;
        assertThat(killed).hasSize(2);
        var round2 = rows.get(1).round();
        assertThat(round2.sampled()).hasSize(4);
        assertThat(round2.answered()).hasSize(2).doesNotContainAnyElementsOf(killed);
        assertThat(round2.applied()).isTrue();
        // later rounds go on with the two survivors at once, not after a deadline each
        for (var row : rows.subList(2, 4)) {
            assertThat(row.round().sampled()).hasSize(2).doesNotContainAnyElementsOf(killed);
            assertThat(row.round().applied()).isTrue();
        }
        assertThat(rows.getLast().round().modelVersion()).isEqualTo(4);
        assertThat(seconds).isLessThan(3 * 4 + 30); // one deadline (4 s) was waited, not one per remaining round
    }
}
