package dev.jumbo.federated;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.jumbo.data.TensorDataset;
import dev.jumbo.nn.Activation;
import dev.jumbo.nn.Dense;
import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.train.Sequential;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LocalTrainingTest {
    @Test
    void proximalGradientMatchesFiniteDifferences() {
        Random r = new Random(31);
        int n = 40;
        float mu = 0.7f;
        Tensor w = Tensor.randn(r, n).requiresGrad(true);
        float[] anchor = new float[n];
        for (int i = 0; i < n; i++) anchor[i] = (float) r.nextGaussian();
        w.sum().backward(); // any gradient; the proximal part is added on top of it
        float[] before = w.grad().toFloatArray();
        LocalTraining.addProximalGradient(List.of(w), new float[][] {anchor}, mu);
        float[] after = w.grad().toFloatArray();
        double h = 1e-3;
        double[] x = new double[n];
        for (int i = 0; i < n; i++) x[i] = w.buffer()[i];
        for (int i = 0; i < n; i++) {
            double save = x[i];
            x[i] = save + h;
            double plus = penalty(x, anchor, mu);
            x[i] = save - h;
            double minus = penalty(x, anchor, mu);
            x[i] = save;
            assertThat((double) (after[i] - before[i])).isCloseTo((plus - minus) / (2 * h), within(1e-4));
        }
    }

    private static double penalty(double[] w, float[] anchor, double mu) {
        double s = 0;
        for (int i = 0; i < w.length; i++) s += (w[i] - anchor[i]) * (w[i] - anchor[i]);
        return mu / 2 * s;
    }

    @Test
    void largerMuKeepsLocalWeightsCloserToTheGlobalOnes() {
        TensorDataset data = Blobs.make(400, 6, 3, 0.5, 1, 2);
        double[] drift = new double[2];
        double[] mus = {0, 1.0};
        for (int k = 0; k < 2; k++) {
            Sequential m = new Sequential(Shape.of(6), new Dense(8, Activation.RELU), new Dense(3, Activation.SOFTMAX));
            FlatWeights.load(m, start(m));
            float[] global = FlatWeights.of(m);
            double loss = new LocalTraining(2, 16, 0.1, 0.5, 3).run(m, data, mus[k], 1);
            assertThat(loss).isFinite();
            float[] local = FlatWeights.of(m);
            double s = 0;
            for (int i = 0; i < local.length; i++) s += (local[i] - global[i]) * (local[i] - global[i]);
            drift[k] = Math.sqrt(s);
        }
        assertThat(drift[0]).isGreaterThan(0);
        assertThat(drift[1]).isLessThan(0.8 * drift[0]);
    }

    private static float[] start(Sequential m) {
        Random r = new Random(99);
        float[] w = new float[FlatWeights.count(m)];
        for (int i = 0; i < w.length; i++) w[i] = (float) (0.3 * r.nextGaussian());
        return w;
    }

    @Test
    void trainingLowersTheLossAndBadSettingsAreNamed() {
        TensorDataset data = Blobs.make(600, 6, 3, 0.5, 1, 4);
        Sequential m = new Sequential(Shape.of(6), new Dense(8, Activation.RELU), new Dense(3, Activation.SOFTMAX));
        double first = new LocalTraining(1, 32, 0.05, 0.9, 1).run(m, data, 0, 1);
        double later = new LocalTraining(3, 32, 0.05, 0.9, 1).run(m, data, 0, 2);
        assertThat(later).isLessThan(first);
        assertThatThrownBy(() -> new LocalTraining(0, 32, 0.1, 0, 1)).hasMessageContaining("local epochs");
        assertThatThrownBy(() -> new LocalTraining(1, 32, -1, 0, 1)).hasMessageContaining("-1");
    }
}
