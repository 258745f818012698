package dev.jumbo.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumbo.data.TensorDataset;
import dev.jumbo.nn.Activation;
import dev.jumbo.nn.BatchNormalization;
import dev.jumbo.nn.Dense;
import dev.jumbo.nn.Dropout;
import dev.jumbo.nn.Init;
import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.train.FitOptions;
import dev.jumbo.train.Sequential;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class SparkInferenceTest {
    private static JavaSparkContext sc;
    private static final AtomicInteger jobs = new AtomicInteger();

    @BeforeAll
    static void start() {
        sc = SparkContexts.open("local[2]", "jumbo-spark-inference-test");
        sc.setLogLevel("WARN");
        sc.sc().addSparkListener(new SparkListener() {
            @Override
            public void onJobStart(SparkListenerJobStart start) {
                jobs.incrementAndGet();
            }
        });
    }

    @AfterAll
    static void stop() {
        if (sc != null) sc.close();
    }

    /** A trained MLP with BatchNorm and Dropout: inference must use the moving statistics and no dropout. */
    private static Sequential trained() {
        Init.seed(21);
        Sequential m = new Sequential(Shape.of(Blobs.FEATURES), new Dense(24, Activation.RELU), new BatchNormalization(), new Dropout(0.3),
                new Dense(Blobs.CLASSES, Activation.SOFTMAX));
        m.compile(new dev.jumbo.optim.Adam(5e-3), "sparse_categorical_crossentropy", "accuracy");
        m.fit(Blobs.of(400, 6, 7), FitOptions.defaults().epochs(2).batchSize(32).seed(1));
        return m;
    }

    @Test
    void predictionsAreTheFloatsOfSingleProcessPredictInInputOrder() {
        Sequential m = trained();
        // 1003 examples over 3 partitions (334, 334, 335): batches of 64 cut each partition elsewhere than one process does
        TensorDataset test = Blobs.of(1003, 6, 8);
        Tensor want = m.predict(test.x(), 256);
        int[] wantClass = want.argmax();
        float[] wantProbs = want.toFloatArray();
        int k = want.dim(-1);

        List<SparkInference.Prediction> got = SparkInference.predict(sc, m, DistributedDataset.of(sc, test, 3), 64).collect();

        assertThat(got).hasSize(1003);
        int agreeWithLabel = 0;
        float[] labels = test.y().toFloatArray();
        for (int i = 0; i < got.size(); i++) {
            SparkInference.Prediction p = got.get(i);
            assertThat(p.probabilities()).as("example %d", i).containsExactly(java.util.Arrays.copyOfRange(wantProbs, i * k, (i + 1) * k));
            assertThat(p.predicted()).as("example %d", i).isEqualTo(wantClass[i]);
            if (p.predicted() == (int) labels[i]) agreeWithLabel++;
        }
        // the order is the input's: the predictions follow the labels, which a shuffled order would not
        assertThat(agreeWithLabel).isGreaterThan(900);
    }

    @Test
    void aModelTakingAnotherShapeIsRefusedBeforeAnyJob() {
        Sequential m = new Sequential(Shape.of(5), new Dense(3, Activation.SOFTMAX));
        DistributedDataset data = DistributedDataset.of(sc, Blobs.of(20, 1, 2), 2);
        int before = jobs.get();
        assertThatThrownBy(() -> SparkInference.predict(sc, m, data, 8))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("the model takes inputs of shape " + Shape.of(5) + " but the examples have " + Shape.of(Blobs.FEATURES));
        assertThatThrownBy(() -> SparkInference.predict(sc, Blobs.mlp(1), data, 0)).hasMessageContaining("batch size must be at least 1, got 0");
        assertThat(jobs.get()).isEqualTo(before);
    }

    @Test
    void anExampleOfAnotherWidthIsNamedByPartitionAndRow() {
        List<Example> rows = List.of(new Example(new float[Blobs.FEATURES], new float[] {0}), new Example(new float[3], new float[] {0}));
        DistributedDataset bad = new DistributedDataset(sc.parallelize(rows, 1), Shape.of(Blobs.FEATURES), Shape.of());
        assertThatThrownBy(() -> SparkInference.predict(sc, Blobs.mlp(2), bad, 8).collect())
                .rootCause().hasMessageContaining("row 1 of partition 0 has 3 input values; the model takes 8");
    }
}
