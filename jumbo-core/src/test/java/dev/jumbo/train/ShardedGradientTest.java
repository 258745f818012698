package dev.jumbo.train;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jumbo.data.TensorDataset;
import dev.jumbo.nn.Activation;
import dev.jumbo.nn.Dense;
import dev.jumbo.nn.FlatParameters;
import dev.jumbo.nn.Init;
import dev.jumbo.optim.Adam;
import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ShardedGradientTest {
    private final long seed = System.nanoTime();
    private final Random random = new Random(seed);

    private Sequential mlp(long weights) {
        Init.seed(weights);
        Sequential m = new Sequential(Shape.of(6), new Dense(12, Activation.TANH), new Dense(4, Activation.SOFTMAX));
        m.compile(new Adam(1e-2), "sparse_categorical_crossentropy", "accuracy");
        return m;
    }

    private TensorDataset data(int n) {
        float[] x = new float[n * 6], y = new float[n];
        for (int i = 0; i < x.length; i++) x[i] = (float) random.nextGaussian();
        for (int i = 0; i < n; i++) y[i] = random.nextInt(4);
        return new TensorDataset(Tensor.of(x, n, 6), Tensor.of(y, n));
    }

    @Test
    void shardsAreTheRangesSparksParallelizeCuts() {
        for (int trial = 0; trial < 200; trial++) {
            int n = 1 + random.nextInt(300), shards = 1 + random.nextInt(12);
            for (int p = 0; p < shards; p++) {
                int from = (int) ((long) p * n / shards), to = (int) ((long) (p + 1) * n / shards);
                for (int i = from; i < to; i++) assertThat(ShardedGradient.shardOf(i, n, shards)).as("seed %d", seed).isEqualTo(p);
            }
        }
    }

    @Test
    void sharesAddUpToTheGradientOfTheBatchMeanLoss() {
        Sequential m = mlp(seed);
        TensorDataset d = data(40);
        m.train(true);
        m.trainer().optimizer().zeroGrad();
        m.trainer().loss().compute(m.forward(d.x()), d.y()).backward();
        float[] whole = FlatParameters.gradients(m);

        float[] sum = null;
        double lossSum = 0;
        int[][] shards = {{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, {13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26}, {27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39}};
        for (int[] rows : shards) {
            var part = d.batch(rows);
            ShardedGradient.Part share = ShardedGradient.compute(m, m.trainer().loss(), part.x(), part.y(), 40);
            assertThat(share.examples()).isEqualTo(rows.length);
            sum = ShardedGradient.add(sum, share.gradient());
            lossSum += share.lossSum();
        }
        double scale = 0;
        for (float v : whole) scale = Math.max(scale, Math.abs(v));
        for (int i = 0; i < whole.length; i++)
            assertThat((double) sum[i]).as("seed %d, parameter %d", seed, i).isCloseTo(whole[i], org.assertj.core.data.Offset.offset(1e-5 * scale));
        assertThat(lossSum / 40).isCloseTo(m.evaluate(d, 40).get("loss"), org.assertj.core.data.Offset.offset(1e-5));
    }

    @Test
    void oneShardIsPlainFitBitForBitAndSeveralStayClose() {
        TensorDataset d = data(300);
        Sequential plain = mlp(seed), one = mlp(seed), three = mlp(seed);
        FitOptions o = FitOptions.defaults().epochs(2).batchSize(32).seed(seed);
        History h = plain.fit(d, o);
        History h1 = one.fit(d, o.gradientShards(1));
        History h3 = three.fit(d, o.gradientShards(3));

        assertThat(FlatParameters.state(one)).as("seed %d", seed).containsExactly(FlatParameters.state(plain));
        float[] a = FlatParameters.state(plain), b = FlatParameters.state(three);
        for (int i = 0; i < a.length; i++) assertThat(b[i]).as("seed %d", seed).isCloseTo(a[i], org.assertj.core.data.Offset.offset(1e-3f));
        assertThat(h3.last("loss")).isCloseTo(h.last("loss"), org.assertj.core.data.Offset.offset(1e-4));
        assertThat(h3.last("accuracy")).isCloseTo(h.last("accuracy"), org.assertj.core.data.Offset.offset(0.02));
        assertThat(h1.metrics()).isEqualTo(h.metrics());
    }
}
