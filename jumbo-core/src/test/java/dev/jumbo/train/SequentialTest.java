package dev.jumbo.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumbo.data.TensorDataset;
import dev.jumbo.io.FormatException;
import dev.jumbo.nn.Activation;
import dev.jumbo.nn.BatchNormalization;
import dev.jumbo.nn.Conv2D;
import dev.jumbo.nn.Dense;
import dev.jumbo.nn.Flatten;
import dev.jumbo.nn.Init;
import dev.jumbo.nn.MaxPool2D;
import dev.jumbo.optim.Adam;
import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.testing.GradCheck;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SequentialTest {
    @TempDir
    Path tmp;

    private final Random rnd = GradCheck.random();

    private Sequential smallCnn(long seed) {
        Init.seed(seed);
        return new Sequential(Shape.of(8, 8, 1),
                new Conv2D(4, 3, Activation.RELU), new MaxPool2D(2), new BatchNormalization(),
                new Flatten(), new Dense(8, Activation.RELU), new Dense(3, Activation.SOFTMAX));
    }

    private TensorDataset data(int n) {
        float[] y = new float[n];
        for (int i = 0; i < n; i++) y[i] = rnd.nextInt(3);
        return new TensorDataset(Tensor.randn(rnd, n, 8, 8, 1), Tensor.of(y, n));
    }

    @Test
    void savedModelPredictsExactlyTheSame() throws Exception {
        Sequential m = smallCnn(1);
        m.compile(new Adam(1e-2), "sparse_categorical_crossentropy", "accuracy");
        TensorDataset d = data(64);
        m.fit(d, FitOptions.defaults().epochs(1).batchSize(16));
        m.save(tmp.resolve("model"));
        Sequential loaded = Sequential.load(tmp.resolve("model"));
        assertThat(loaded.predict(d.x(), 32).toFloatArray()).containsExactly(m.predict(d.x(), 32).toFloatArray());
        assertThat(loaded.summary()).isEqualTo(m.summary());
    }

    @Test
    void summaryCountsParametersAndFlops() {
        String s = smallCnn(1).summary();
        // conv 3*3*1*4+4 = 40, batchnorm 4*4 = 16 (8 trainable), dense 36*8+8 = 296, dense 8*3+3 = 27
        assertThat(s).contains("Total params: 379").contains("Trainable params: 371").contains("Non-trainable params: 8");
        // conv: 6*6*4 outputs * 9 multiply-adds * 2; dense 36*8*2; dense 8*3*2
        assertThat(s).contains("FLOPs per example: " + String.format("%,d", 6 * 6 * 4 * 9 * 2 + 36 * 8 * 2 + 8 * 3 * 2));
    }

    @Test
    void unknownLayerTypeIsAFormatErrorNamingTheConfigFile() throws Exception {
        Path dir = tmp.resolve("bad");
        smallCnn(1).save(dir);
        Path config = dir.resolve("config.json");
        Files.writeString(config, Files.readString(config).replace("\"Flatten\"", "\"Flattener\""));
        assertThatThrownBy(() -> Sequential.load(dir)).isInstanceOf(FormatException.class)
                .hasMessageContaining(config.toString()).hasMessageContaining("Flattener");
    }

    @Test
    void weightsThatDoNotFitTheConfigAreRejected() throws Exception {
        Path a = tmp.resolve("a"), b = tmp.resolve("b");
        smallCnn(1).save(a);
        new Sequential(Shape.of(8, 8, 1), new Flatten(), new Dense(3)).save(b);
        Files.copy(b.resolve("model.safetensors"), a.resolve("model.safetensors"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertThatThrownBy(() -> Sequential.load(a)).isInstanceOf(FormatException.class).hasMessageContaining("model.safetensors");
    }

    @Test
    void wrongInputShapeIsNamed() {
        assertThatThrownBy(() -> smallCnn(1).forward(Tensor.zeros(2, 9, 8, 1)))
                .hasMessageContaining("[batch, 8, 8, 1]").hasMessageContaining("[2, 9, 8, 1]");
    }

    @Test
    void resumingFromAMidEpochCheckpointGivesTheSameWeightsAsAnUninterruptedRun() throws Exception {
        TensorDataset d = data(80);
        FitOptions base = FitOptions.defaults().epochs(3).batchSize(16).seed(7);

        Sequential straight = smallCnn(3);
        straight.compile(new Adam(1e-2), "sparse_categorical_crossentropy", "accuracy");
        History full = straight.fit(d, base);

        Path ckpt = tmp.resolve("ckpt.safetensors");
        Sequential interrupted = smallCnn(3);
        interrupted.compile(new Adam(1e-2), "sparse_categorical_crossentropy", "accuracy");
        Callback crash = new Callback() {
            @Override
            public void onBatchEnd(TrainingRun run, int epoch, int batch, Map<String, Double> logs) {
                if (epoch == 1 && batch == 2) run.stop();
            }
        };
        interrupted.fit(d, base.callbacks(crash, new ModelCheckpoint(ckpt, 0, interrupted::configJson)));
        Checkpoint c = Checkpoint.read(ckpt);
        assertThat(c.epoch()).isEqualTo(1);
        assertThat(c.batch()).isEqualTo(3);

        Sequential resumed = smallCnn(99); // different initial weights: the checkpoint must overwrite them
        resumed.compile(new Adam(1e-2), "sparse_categorical_crossentropy", "accuracy");
        History rest = resumed.fit(d, base.resumeFrom(ckpt));
        Map<String, Tensor> want = straight.stateDict(), got = resumed.stateDict();
        assertThat(got.keySet()).isEqualTo(want.keySet());
        for (String k : want.keySet()) assertThat(got.get(k).toFloatArray()).as(k).containsExactly(want.get(k).toFloatArray());
        assertThat(rest.epochs()).isEqualTo(3);
        assertThat(rest.get("loss").get(0)).isEqualTo(full.get("loss").get(0));
        assertThat(rest.last("loss")).isEqualTo(full.last("loss"));
    }

    @Test
    void earlyStoppingStopsWhenTheMonitoredMetricStalls() {
        Sequential m = smallCnn(1);
        m.compile(new Adam(0.0), "sparse_categorical_crossentropy"); // learning rate 0: nothing improves
        EarlyStopping stop = new EarlyStopping("loss", 1, 0, false);
        History h = m.fit(data(32), FitOptions.defaults().epochs(10).batchSize(16).shuffle(false).callbacks(stop));
        assertThat(h.epochs()).isEqualTo(3);
        assertThat(stop.stoppedEpoch()).isEqualTo(2);
    }

    @Test
    void nanLossStopsTrainingWithItsPosition() {
        Sequential m = smallCnn(1);
        m.compile(new Adam(1e-3), "sparse_categorical_crossentropy");
        TensorDataset d = data(32);
        d.x().buffer()[5] = Float.NaN;
        assertThatThrownBy(() -> m.fit(d, FitOptions.defaults().epochs(1).batchSize(16).shuffle(false)))
                .isInstanceOf(TrainingException.class).hasMessageContaining("epoch 1, batch 1").hasMessageContaining("NaN");
    }
}
