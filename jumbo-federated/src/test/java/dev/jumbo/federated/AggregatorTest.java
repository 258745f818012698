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
    void adaptiveServersFollowReddiEtAlOverSeveralRounds() {
        long seed = System.nanoTime();
        Random r = new Random(seed);
        int n = 50;
        double lr = 0.03, b1 = 0.9, b2 = 0.99, tau = 1e-3;
        for (String name : new String[] {"fedadam", "fedyogi", "fedadagrad"}) {
            Aggregator server = Aggregator.of(name, lr);
            assertThat(server.name()).isEqualTo(name);
            float[] w = new float[n];
            double[] ref = new double[n], m = new double[n], v = new double[n];
            for (int i = 0; i < n; i++) ref[i] = w[i] = (float) r.nextGaussian();
            for (int round = 0; round < 6; round++) {
                float[] d = new float[n];
                // deltas that shrink and grow, so Yogi's sign(v - d^2) takes both values
                double scale = round % 3 == 2 ? 1.0 : 0.1;
                for (int i = 0; i < n; i++) d[i] = (float) (scale * r.nextGaussian());
                server.apply(w, d);
                for (int i = 0; i < n; i++) {
                    double g = d[i], g2 = g * g;
                    m[i] = b1 * m[i] + (1 - b1) * g;
                    if (name.equals("fedadam")) v[i] = b2 * v[i] + (1 - b2) * g2;
                    else if (name.equals("fedadagrad")) v[i] = v[i] + g2;
                    else v[i] = v[i] - (1 - b2) * g2 * Math.signum(v[i] - g2);
                    ref[i] += lr * m[i] / (Math.sqrt(v[i]) + tau);
                }
            }
            for (int i = 0; i < n; i++) assertThat((double) w[i]).as("%s, seed %d, weight %d", name, seed, i).isCloseTo(ref[i], within(1e-4));
        }
    }
}
