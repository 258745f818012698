package dev.jumbo.privacy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.jumbo.data.TensorDataset;
import dev.jumbo.loss.SparseCategoricalCrossentropy;
import dev.jumbo.nn.Activation;
import dev.jumbo.nn.BatchNormalization;
import dev.jumbo.nn.Dense;
import dev.jumbo.nn.Parameter;
import dev.jumbo.optim.Adam;
import dev.jumbo.optim.SGD;
import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.train.Sequential;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class DpSgdTest {
    private final Random rnd = new Random();

    /** One step against a naive DP-SGD: loop per example, clip by the norm over all parameters, sum, noise, divide by B. */
    @Test
    void stepIsClipSumNoiseOverExpectedBatchThenTheInnerStep() {
        var loss = new SparseCategoricalCrossentropy();
        var model = new Sequential(Shape.of(5), new Dense(4, Activation.TANH), new Dense(3, Activation.SOFTMAX));
        TensorDataset data = randomData(12, 5, 3);
        int[] batch = {0, 3, 4, 7, 11};
        double c = 0.3, sigma = 0.7;   // a small C, so some examples are clipped and some not
        int expectedB = 4;
        long seed = rnd.nextLong();
        List<Parameter> params = model.parameters();
        List<float[]> before = new ArrayList<>();
        for (Parameter p : params) before.add(p.value().toFloatArray());

        // the reference, one example at a time
        List<float[]> sums = new ArrayList<>();
        for (Parameter p : params) sums.add(new float[p.value().size()]);
        int clipped = 0;
        for (int i : batch) {
            model.zeroGrad();
            var b = data.batch(new int[] {i});
            loss.compute(model.forward(b.x()), b.y()).backward();
            double sq = 0;
            for (Parameter p : params) for (float g : p.value().grad().toFloatArray()) sq += g * g;
            double factor = Math.min(1, c / (Math.sqrt(sq) + 1e-6));
            if (factor < 1) clipped++;
            for (int p = 0; p < params.size(); p++) {
                float[] g = params.get(p).value().grad().toFloatArray();
                for (int j = 0; j < g.length; j++) sums.get(p)[j] += (float) (factor * g[j]);
            }
        }
        assertThat(clipped).as("examples clipped").isBetween(1, batch.length);
        SplittableRandom noise = new SplittableRandom(seed);
        List<float[]> expected = new ArrayList<>();
        for (int p = 0; p < params.size(); p++) {
            float[] s = sums.get(p), w = before.get(p).clone();
            for (int j = 0; j < s.length; j++) w[j] -= (float) ((s[j] + sigma * c * noise.nextGaussian()) / expectedB);   // SGD, lr 1
            expected.add(w);
        }
        model.zeroGrad();

        var dp = new DpSgd(new SGD(1).bind(params.stream().map(Parameter::value).toList()), sigma, c, expectedB, new SplittableRandom(seed));
        dp.step(model, loss, data, batch);
        assertThat(dp.steps()).isEqualTo(1);
        for (int p = 0; p < params.size(); p++) {
            float[] actual = params.get(p).value().toFloatArray();
            for (int j = 0; j < actual.length; j++)
                assertThat((double) actual[j]).as("%s[%d]", params.get(p).name(), j).isCloseTo(expected.get(p)[j], within(1e-5));
        }
    }

    @Test
    void anEmptyBatchStillStepsWithNoiseAlone() {
        var model = new Sequential(Shape.of(3), new Dense(2));
        List<Parameter> params = model.parameters();
        float[] w = params.get(0).value().toFloatArray();
        long seed = rnd.nextLong();
        var dp = new DpSgd(new SGD(1).bind(params.stream().map(Parameter::value).toList()), 2.0, 0.5, 10, new SplittableRandom(seed));
        dp.step(model, new SparseCategoricalCrossentropy(), randomData(4, 3, 2), new int[0]);
        SplittableRandom noise = new SplittableRandom(seed);
        float[] after = params.get(0).value().toFloatArray();
        for (int j = 0; j < w.length; j++) assertThat((double) after[j]).isCloseTo(w[j] - 2.0 * 0.5 * noise.nextGaussian() / 10, within(1e-6));
    }

    @Test
    void poissonBatchesVaryInSizeAndTakeEachExampleAtRateQ() {
        int n = 2000, b = 100, rounds = 400;
        var sampler = new PoissonSampler(n, b, new SplittableRandom(rnd.nextLong()));
        assertThat(sampler.rate()).isEqualTo(0.05);
        assertThat(sampler.batchesPerEpoch()).isEqualTo(20);
        int[] hits = new int[n];
        long total = 0;
        java.util.Set<Integer> sizes = new java.util.HashSet<>();
        for (int r = 0; r < rounds; r++) {
            int[] batch = sampler.next();
            sizes.add(batch.length);
            total += batch.length;
            for (int k = 1; k < batch.length; k++) assertThat(batch[k]).isGreaterThan(batch[k - 1]);
            for (int i : batch) hits[i]++;
        }
        assertThat(sizes.size()).as("distinct batch sizes").isGreaterThan(10);
        // mean size 100, sd of the mean over 400 batches about 0.49
        assertThat(total / (double) rounds).isCloseTo(100, within(3.0));
        // first and second halves of the indices are picked alike (expected 20,000 each, sd about 137)
        long firstHalf = 0;
        for (int i = 0; i < n / 2; i++) firstHalf += hits[i];
        assertThat((double) firstHalf).isCloseTo(total / 2.0, within(800.0));
    }

    @Test
    void privateTrainingLearnsAndReportsTheAccountantsEpsilon() {
        // two Gaussian blobs per class in 6 dimensions, 4 classes
        int n = 1200, d = 6, classes = 4;
        float[][] centres = new float[classes][d];
        for (float[] c : centres) for (int j = 0; j < d; j++) c[j] = (float) (2 * rnd.nextGaussian());
        TensorDataset train = blobs(n, centres), test = blobs(400, centres);
        var model = new Sequential(Shape.of(d), new Dense(16, Activation.TANH), new Dense(classes, Activation.SOFTMAX));
        int batch = 60, epochs = 4;
        double sigma = DpTrainer.noiseFor(3, 1e-5, n, batch, epochs);
        var settings = new DpTrainer.Settings(batch, sigma, 1.0, 1e-5, epochs);
        List<Double> reported = new ArrayList<>();
        var trainer = new DpTrainer(model, new Adam(0.02), new SparseCategoricalCrossentropy(), settings, new SplittableRandom(rnd.nextLong()), DpSgd.secureNoise());
        var history = trainer.fit(train, e -> reported.add(e.epsilon()));
        assertThat(history).hasSize(epochs);
        for (var e : history) {
            assertThat(e.steps()).isEqualTo(e.epoch() * 20L);
            assertThat(e.epsilon()).isEqualTo(RdpAccountant.epsilon(batch / (double) n, sigma, e.steps(), 1e-5).epsilon());
        }
        assertThat(reported).isSorted();
        assertThat(history.getLast().epsilon()).isLessThanOrEqualTo(3).isCloseTo(3, within(0.01));
        int[] predicted = model.forward(test.x()).argmax();
        float[] labels = test.y().toFloatArray();
        int right = 0;
        for (int i = 0; i < predicted.length; i++) if (predicted[i] == labels[i]) right++;
        assertThat(right / 400.0).as("test accuracy (chance 0.25)").isGreaterThan(0.7);
    }

    @Test
    void aBatchNormModelIsRefusedBeforeTraining() {
        var model = new Sequential(Shape.of(3), new Dense(4), new BatchNormalization(), new Dense(2, Activation.SOFTMAX));
        assertThatThrownBy(() -> new DpTrainer(model, new Adam(0.01), new SparseCategoricalCrossentropy(),
                new DpTrainer.Settings(2, 1, 1, 1e-5, 1), new SplittableRandom(), new SplittableRandom()))
                .hasMessageContaining("remove it or use LayerNorm");
    }

    private TensorDataset blobs(int n, float[][] centres) {
        int d = centres[0].length;
        float[] x = new float[n * d], y = new float[n];
        for (int i = 0; i < n; i++) {
            int c = rnd.nextInt(centres.length);
            y[i] = c;
            for (int j = 0; j < d; j++) x[i * d + j] = centres[c][j] + (float) rnd.nextGaussian();
        }
        return new TensorDataset(Tensor.of(x, n, d), Tensor.of(y, n));
    }

    private TensorDataset randomData(int n, int d, int classes) {
        float[] y = new float[n];
        for (int i = 0; i < n; i++) y[i] = rnd.nextInt(classes);
        return new TensorDataset(Tensor.randn(rnd, n, d), Tensor.of(y, n));
    }
}
