package dev.jumbo.federated;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.jumbo.data.TensorDataset;
import dev.jumbo.nn.Activation;
import dev.jumbo.nn.Dense;
import dev.jumbo.nn.FlatParameters;
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
            FlatParameters.loadState(m, start(m));
            float[] global = FlatParameters.state(m);
            double loss = new LocalTraining(2, 16, 0.1, 0.5, 3).run(m, data, mus[k], 1);
            assertThat(loss).isFinite();
            float[] local = FlatParameters.state(m);
            double s = 0;
            for (int i = 0; i < local.length; i++) s += (local[i] - global[i]) * (local[i] - global[i]);
            drift[k] = Math.sqrt(s);
        }
        assertThat(drift[0]).isGreaterThan(0);
        assertThat(drift[1]).isLessThan(0.8 * drift[0]);
    }

    private static float[] start(Sequential m) {
        Random r = new Random(99);
        float[] w = new float[FlatParameters.stateSize(m)];
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

    /** The examples of classes 0 and 1 only: a client holding two of three classes. */
    private static TensorDataset twoOfThreeClasses(long seed) {
        TensorDataset all = Blobs.make(300, 6, 3, 0.5, 1, seed);
        int[] labels = FederatedSimulation.labels(all);
        return FederatedSimulation.subset(all, java.util.stream.IntStream.range(0, labels.length).filter(i -> labels[i] < 2).toArray());
    }

    @Test
    void restrictedSoftmaxLossMatchesANaiveReference() {
        long seed = System.nanoTime();
        TensorDataset data = twoOfThreeClasses(seed);
        for (double alpha : new double[] {1, 0.5, 0}) {
            Sequential m = new Sequential(Shape.of(6), new Dense(3, Activation.SOFTMAX));
            FlatParameters.loadState(m, start(m));
            Dense dense = (Dense) m.layers().get(0);
            float[] w = dense.kernel().value().toFloatArray(), b = dense.bias().value().toFloatArray();
            float[] x = data.x().toFloatArray();
            int[] y = FederatedSimulation.labels(data);
            double want = 0;
            for (int i = 0; i < y.length; i++) {
                double[] z = new double[3];
                double max = Double.NEGATIVE_INFINITY, sum = 0;
                for (int c = 0; c < 3; c++) {
                    z[c] = b[c];
                    for (int j = 0; j < 6; j++) z[c] += x[i * 6 + j] * w[j * 3 + c];
                    if (c == 2) z[c] *= alpha;   // class 2 is absent from this client
                    max = Math.max(max, z[c]);
                }
                for (double v : z) sum += Math.exp(v - max);
                want += Math.log(sum) + max - z[y[i]];
            }
            want /= y.length;
            // one batch of everything: the loss reported is the loss at the starting weights
            double got = new LocalTraining(1, y.length, 0.1, 0, 1).withRestrictedSoftmax(alpha).run(m, data, 0, 1);
            assertThat(got).as("seed %d, alpha %s", seed, alpha).isCloseTo(want, within(1e-5 * Math.max(1, want)));
        }
    }

    @Test
    void restrictedSoftmaxAtZeroLeavesTheAbsentClassAlone() {
        TensorDataset data = twoOfThreeClasses(5);
        for (double alpha : new double[] {0, 0.5}) {
            Sequential m = new Sequential(Shape.of(6), new Dense(8, Activation.RELU), new Dense(3, Activation.SOFTMAX));
            FlatParameters.loadState(m, start(m));
            Dense head = (Dense) m.layers().get(1);
            float[] w0 = head.kernel().value().toFloatArray(), b0 = head.bias().value().toFloatArray();
            new LocalTraining(2, 16, 0.1, 0.5, 3).withRestrictedSoftmax(alpha).run(m, data, 0, 1);
            float[] w1 = head.kernel().value().toFloatArray(), b1 = head.bias().value().toFloatArray();
            double moved = Math.abs(b1[2] - b0[2]);
            for (int j = 0; j < 8; j++) moved += Math.abs(w1[j * 3 + 2] - w0[j * 3 + 2]);
            if (alpha == 0) assertThat(moved).as("class 2's weights under alpha 0").isZero();
            else assertThat(moved).as("class 2's weights under alpha 0.5").isGreaterThan(1e-3);
            assertThat(b1[0]).isNotEqualTo(b0[0]);
        }
        assertThatThrownBy(() -> new LocalTraining(1, 32, 0.1, 0, 1).withRestrictedSoftmax(1.5)).hasMessageContaining("[0, 1]");
    }

    @Test
    void decayedLearningRateIsThePlainRunAtTheSmallerRate() {
        TensorDataset data = Blobs.make(200, 6, 3, 0.5, 1, 8);
        LocalTraining decayed = new LocalTraining(1, 16, 0.1, 0.5, 3).withLearningRateDecay(0.8);
        assertThat(decayed.learningRate(1)).isEqualTo(0.1);
        assertThat(decayed.learningRate(4)).isCloseTo(0.1 * 0.512, within(1e-12));
        float[][] after = new float[2][];
        LocalTraining[] runs = {decayed, new LocalTraining(1, 16, 0.1 * 0.512, 0.5, 3)};
        for (int k = 0; k < 2; k++) {
            Sequential m = new Sequential(Shape.of(6), new Dense(8, Activation.RELU), new Dense(3, Activation.SOFTMAX));
            FlatParameters.loadState(m, start(m));
            runs[k].run(m, data, 0, 4);
            after[k] = FlatParameters.state(m);
        }
        assertThat(after[0]).containsExactly(after[1]);
        assertThatThrownBy(() -> decayed.withLearningRateDecay(0)).hasMessageContaining("decay");
    }

    @Test
    void aFixedHeadStaysAsTheServerSentIt() {
        TensorDataset data = twoOfThreeClasses(6);
        Sequential m = new Sequential(Shape.of(6), new Dense(8, Activation.RELU), new Dense(3, Activation.SOFTMAX));
        FlatParameters.loadState(m, start(m));
        var headParams = m.layers().get(1).parameters();
        List<float[]> head = headParams.stream().map(p -> p.value().toFloatArray()).toList();
        float[] body = m.layers().get(0).parameters().get(0).value().toFloatArray();
        double loss = new LocalTraining(2, 16, 0.1, 0.5, 3).withFixedHead(true).run(m, data, 0.1, 1);
        assertThat(loss).isFinite();
        assertThat(headParams).hasSize(2);
        for (int i = 0; i < headParams.size(); i++) assertThat(headParams.get(i).value().toFloatArray()).as(headParams.get(i).name()).containsExactly(head.get(i));
        assertThat(m.layers().get(0).parameters().get(0).value().toFloatArray()).isNotEqualTo(body);
    }
}
