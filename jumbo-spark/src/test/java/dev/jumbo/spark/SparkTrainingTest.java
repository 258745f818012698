package dev.jumbo.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumbo.data.TensorDataset;
import dev.jumbo.nn.Activation;
import dev.jumbo.nn.Dense;
import dev.jumbo.nn.Dropout;
import dev.jumbo.nn.FlatParameters;
import dev.jumbo.optim.Adam;
import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.train.Callback;
import dev.jumbo.train.FitOptions;
import dev.jumbo.train.History;
import dev.jumbo.train.ModelCheckpoint;
import dev.jumbo.train.Sequential;
import dev.jumbo.train.TrainingRun;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SparkTrainingTest {
    private static JavaSparkContext sc;

    @BeforeAll
    static void start() {
        sc = SparkContexts.open("local[2]", "jumbo-spark-test");
    }

    @AfterAll
    static void stop() {
        if (sc != null) sc.close();
    }

    /** Trains two copies of the same MLP, one with fit and one on Spark, and returns the max abs weight difference. */
    private static double maxWeightDiff(Sequential local, Sequential spark) {
        float[] a = FlatParameters.state(local), b = FlatParameters.state(spark);
        assertThat(b).hasSameSizeAs(a);
        double max = 0;
        for (int i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
        return max;
    }

    private static double testAccuracy(Sequential m, TensorDataset test) {
        return m.evaluate(test, 128).get("accuracy");
    }

    @Test
    void threeEpochsOnTwoPartitionsGiveTheWeightsOfSingleProcessFit() {
        TensorDataset train = Blobs.of(640, 1, 2), test = Blobs.of(300, 1, 3);
        Sequential local = Blobs.mlp(7), spark = Blobs.mlp(7);
        assertThat(maxWeightDiff(local, spark)).isZero();
        FitOptions options = FitOptions.defaults().epochs(3).batchSize(64).seed(42);

        History fit = local.fit(train, options);
        StepTimer timer = new StepTimer();
        History distributed = SparkTraining.fit(sc, spark, DistributedDataset.of(sc, train, 2), options.callbacks(timer));

        double diff = maxWeightDiff(local, spark);
        System.out.printf("local[2], 2 partitions, 3 epochs of 10 steps: max abs weight diff %.3g, median step %.1f ms%n",
                diff, timer.medianMillis());
        assertThat(timer.steps()).isEqualTo(30);
        assertThat(diff).isLessThanOrEqualTo(1e-4);
        // training moved the weights: the comparison is not between two untouched models
        assertThat(maxWeightDiff(local, Blobs.mlp(7))).isGreaterThan(1e-2);
        for (int e = 0; e < 3; e++) assertThat(distributed.get("loss").get(e)).isCloseTo(fit.get("loss").get(e), org.assertj.core.data.Offset.offset(1e-4));
        assertThat(testAccuracy(spark, test)).isEqualTo(testAccuracy(local, test));
        assertThat(testAccuracy(local, test)).isGreaterThan(0.8);
    }

    @Test
    void withAsManyGradientShardsAsPartitionsFitGivesTheSameWeightsBitForBit() {
        // fresh seeds each run: equality must not depend on a lucky seed (plain fit differs in the last bits, which
        // training can amplify); 700 examples on 3 partitions leave a partial last batch and uneven slices
        long seed = System.nanoTime();
        System.out.println("seed " + seed);
        TensorDataset train = Blobs.of(700, seed, seed + 1);
        Sequential local = Blobs.mlp(seed + 2), spark = Blobs.mlp(seed + 2);
        FitOptions options = FitOptions.defaults().epochs(3).batchSize(64).seed(seed + 3);

        History fit = local.fit(train, options.gradientShards(3));
        History distributed = SparkTraining.fit(sc, spark, DistributedDataset.of(sc, train, 3), options);

        assertThat(FlatParameters.state(spark)).containsExactly(FlatParameters.state(local));
        assertThat(maxWeightDiff(local, Blobs.mlp(seed + 2))).isGreaterThan(1e-2);
        // the logs too: loss and the compiled accuracy, from the outputs the partitions send back
        assertThat(distributed.get("loss")).containsExactlyElementsOf(fit.get("loss"));
        assertThat(distributed.get("accuracy")).containsExactlyElementsOf(fit.get("accuracy"));
        assertThat(distributed.metrics()).containsExactly("loss", "accuracy");
    }

    @Test
    void unevenPartitionsAndAPartialLastBatchStillMatch() {
        // 650 = 10 batches of 64 and one of 10; partition 1 is empty and partition 2 holds the last 7
        // examples, so most batches have none of them
        TensorDataset train = Blobs.of(650, 4, 5), test = Blobs.of(200, 4, 6);
        List<Example> rows = DistributedDataset.of(sc, train, 1).examples().collect();
        JavaRDD<Example> uneven = sc.parallelize(rows.subList(0, 643), 1)
                .union(sc.parallelize(new ArrayList<Example>(), 1))
                .union(sc.parallelize(rows.subList(643, 650), 1));
        assertThat(uneven.getNumPartitions()).isEqualTo(3);
        Sequential local = Blobs.mlp(9), spark = Blobs.mlp(9);
        FitOptions options = FitOptions.defaults().epochs(2).batchSize(64).seed(3);

        local.fit(train, options);
        SparkTraining.fit(sc, spark, new DistributedDataset(uneven, Shape.of(Blobs.FEATURES), Shape.of()), options);

        double diff = maxWeightDiff(local, spark);
        System.out.printf("uneven partitions (643, 0, 7), N = 650, B = 64: max abs weight diff %.3g%n", diff);
        assertThat(diff).isLessThanOrEqualTo(1e-4);
        assertThat(testAccuracy(spark, test)).isEqualTo(testAccuracy(local, test));
    }

    @Test
    void validationDataIsEvaluatedOnTheDriver() {
        TensorDataset train = Blobs.of(128, 1, 2), test = Blobs.of(100, 1, 3);
        Sequential spark = Blobs.mlp(7);
        History h = SparkTraining.fit(sc, spark, DistributedDataset.of(sc, train, 2),
                FitOptions.defaults().epochs(1).batchSize(32).validationData(test));
        assertThat(h.last("val_accuracy")).isEqualTo(testAccuracy(spark, test));
        assertThat(h.metrics()).containsExactly("loss", "accuracy", "val_loss", "val_accuracy");
    }

    @Test
    void aRunStoppedMidEpochAndResumedFromItsCheckpointEndsWhereFitEnds(@TempDir Path dir) {
        TensorDataset train = Blobs.of(640, 1, 2);
        Sequential local = Blobs.mlp(7), interrupted = Blobs.mlp(7), resumed = Blobs.mlp(8);
        FitOptions options = FitOptions.defaults().epochs(3).batchSize(64).seed(42);
        local.fit(train, options);
        DistributedDataset data = DistributedDataset.of(sc, train, 2);
        Path checkpoint = dir.resolve("checkpoint.safetensors");
        Callback stopInEpoch2 = new Callback() {
            @Override
            public void onBatchEnd(TrainingRun run, int epoch, int batch, Map<String, Double> logs) {
                if (epoch == 1 && batch == 5) run.stop();
            }
        };

        SparkTraining.fit(sc, interrupted, data, options.callbacks(stopInEpoch2, new ModelCheckpoint(checkpoint, 0, interrupted::configJson)));
        assertThat(maxWeightDiff(local, interrupted)).as("stopped early, so not yet where fit ends").isGreaterThan(1e-3);
        History rest = SparkTraining.fit(sc, resumed, data, options.resumeFrom(checkpoint));

        double diff = maxWeightDiff(local, resumed);
        System.out.printf("stopped at epoch 2 batch 6, resumed from the checkpoint: max abs weight diff %.3g%n", diff);
        assertThat(diff).isLessThanOrEqualTo(1e-4);
        assertThat(rest.epochs()).isEqualTo(3);
    }

    /** Times every step from one batch's end to the next (the first of each epoch from the epoch's start). */
    private static final class StepTimer implements Callback {
        private final List<Double> millis = new ArrayList<>();
        private long last;

        @Override
        public void onEpochBegin(TrainingRun run, int epoch) {
            last = System.nanoTime();
        }

        @Override
        public void onBatchEnd(TrainingRun run, int epoch, int batch, Map<String, Double> logs) {
            long now = System.nanoTime();
            millis.add((now - last) / 1e6);
            last = now;
        }

        int steps() {
            return millis.size();
        }

        double medianMillis() {
            double[] m = millis.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            return m[m.length / 2];
        }
    }

    @Test
    void refusesWhatItCannotReplicate() {
        TensorDataset train = Blobs.of(64, 1, 2);
        DistributedDataset data = DistributedDataset.of(sc, train, 2);
        Sequential dropout = new Sequential(Shape.of(Blobs.FEATURES), new Dense(8, Activation.RELU), new Dropout(0.5),
                new Dense(Blobs.CLASSES, Activation.SOFTMAX));
        dropout.compile(new Adam(1e-3), "sparse_categorical_crossentropy");
        assertThatThrownBy(() -> SparkTraining.fit(sc, dropout, data, FitOptions.defaults()))
                .hasMessageContaining("layer 1 (Dropout)");

        Sequential wide = new Sequential(Shape.of(5), new Dense(Blobs.CLASSES, Activation.SOFTMAX));
        wide.compile(new Adam(1e-3), "sparse_categorical_crossentropy");
        assertThatThrownBy(() -> SparkTraining.fit(sc, wide, data, FitOptions.defaults()))
                .hasMessage("the model takes inputs of shape " + Shape.of(5) + " but the examples have " + Shape.of(Blobs.FEATURES));

        assertThatThrownBy(() -> SparkTraining.fit(sc, Blobs.mlp(1), data, FitOptions.defaults().validationSplit(0.2)))
                .hasMessageContaining("validation split");
    }

    @Test
    void rejectsExamplesOfAnotherWidthNamingTheExample() {
        List<Example> rows = List.of(new Example(new float[Blobs.FEATURES], new float[] {0}), new Example(new float[3], new float[] {1}));
        DistributedDataset bad = new DistributedDataset(sc.parallelize(rows, 1), Shape.of(Blobs.FEATURES), Shape.of());
        assertThatThrownBy(() -> SparkTraining.fit(sc, Blobs.mlp(1), bad, FitOptions.defaults()))
                .rootCause().hasMessageContaining("example 1 has 3 input and 1 target values; the dataset's shapes want 8 and 1");
    }

    @Test
    void flatParametersRoundTripAndGradientsFollowTheTrainableParameters() {
        Sequential m = Blobs.mlp(11);
        float[] state = FlatParameters.state(m);
        float[] changed = state.clone();
        for (int i = 0; i < changed.length; i++) changed[i] += i * 1e-3f;
        FlatParameters.loadState(m, changed);
        assertThat(FlatParameters.state(m)).containsExactly(changed);

        TensorDataset data = Blobs.of(5, 1, 2);
        m.trainer().loss().compute(m.forward(data.x()), data.y()).backward();
        float[] flat = FlatParameters.gradients(m);
        List<Tensor> params = FlatParameters.trainable(m);
        int at = 0;
        for (Tensor p : params) {
            float[] g = p.grad().toFloatArray();
            for (int i = 0; i < g.length; i++) assertThat(flat[at + i]).isEqualTo(g[i]);
            at += g.length;
        }
        assertThat(at).isEqualTo(FlatParameters.gradientSize(m)).isEqualTo(flat.length);
        for (Tensor p : params) p.zeroGrad();
        FlatParameters.addToGradients(m, flat);
        assertThat(FlatParameters.gradients(m)).containsExactly(flat);
        assertThatThrownBy(() -> FlatParameters.loadState(m, new float[3])).hasMessageContaining("flat state has 3 values");
    }
}
