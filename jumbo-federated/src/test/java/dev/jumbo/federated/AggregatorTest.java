package dev.jumbo.federated;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class AggregatorTest {
    @Test
    void plainSchemeWeightsDeltasByExamples() {
        Random r = new Random(21);
        int n = 257;
        List<Contribution> cs = new ArrayList<>();
        for (int k = 0; k < 4; k++) {
            float[] d = new float[n];
            for (int i = 0; i < n; i++) d[i] = (float) r.nextGaussian();
            cs.add(new Contribution("c" + k, 1 + r.nextInt(1000), d));
        }
        float[] mean = new PlainAggregation().combine(1, List.of("c0", "c1", "c2", "c3", "c4"), cs, n);
        long total = cs.stream().mapToLong(Contribution::examples).sum();
        for (int i = 0; i < n; i++) {
            double want = 0;
            for (Contribution c : cs) want += c.vector()[i] * (double) c.examples() / total;
            assertThat(mean[i]).isCloseTo((float) want, within(1e-5f));
        }
    }

    @Test
    void fedAvgAddsTheMeanDelta() {
        float[] w = {1, 2, 3};
        Aggregator.of("fedavg", 0).apply(w, new float[] {0.5f, -1, 0});
        assertThat(w).containsExactly(1.5f, 1, 3);
        assertThat(Aggregator.of("fedprox", 0).name()).isEqualTo("fedprox");
    }

    @Test
    void fedAdamFollowsReddiEtAlOverSeveralRounds() {
        Random r = new Random(8);
        int n = 50;
        double lr = 0.03, b1 = 0.9, b2 = 0.99, tau = 1e-3;
        Aggregator adam = new Aggregator.FedAdam(lr, b1, b2, tau);
        float[] w = new float[n];
        double[] ref = new double[n], m = new double[n], v = new double[n];
        for (int i = 0; i < n; i++) ref[i] = w[i] = (float) r.nextGaussian();
        for (int round = 0; round < 5; round++) {
            float[] d = new float[n];
            for (int i = 0; i < n; i++) d[i] = (float) (0.1 * r.nextGaussian());
            adam.apply(w, d);
            for (int i = 0; i < n; i++) {
                m[i] = b1 * m[i] + (1 - b1) * d[i];
                v[i] = b2 * v[i] + (1 - b2) * d[i] * d[i];
                ref[i] += lr * m[i] / (Math.sqrt(v[i]) + tau);
            }
        }
        for (int i = 0; i < n; i++) assertThat((double) w[i]).isCloseTo(ref[i], within(1e-5));
    }
}
