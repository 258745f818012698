package dev.jumbo.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumbo.data.TensorDataset;
import dev.jumbo.nn.Activation;
import dev.jumbo.nn.ActivationLayer;
import dev.jumbo.nn.BatchNormalization;
import dev.jumbo.nn.Conv2D;
import dev.jumbo.nn.Dense;
import dev.jumbo.nn.Flatten;
import dev.jumbo.nn.Init;
import dev.jumbo.nn.Layer;
import dev.jumbo.nn.MaxPool2D;
import dev.jumbo.nn.Parameter;
import dev.jumbo.nn.ResidualBlock;
import dev.jumbo.optim.Adam;
import dev.jumbo.optim.Optimizer;
import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.testing.GradCheck;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Freezing, dropping the top and adding a head: the pieces of transfer learning. */
class TransferLearningTest {
    @TempDir
    Path tmp;

    private final Random rnd = GradCheck.random();

    /** A CNN with batch norm inside a residual block and on its own, trained a little so its statistics have moved. */
    private Sequential pretrained() {
        Init.seed(5);
        Sequential m = new Sequential(Shape.of(8, 8, 1),
                new Conv2D(4, 3, 3, 1, 1, "same", Activation.LINEAR), new BatchNormalization(), new ActivationLayer(Activation.RELU),
                new ResidualBlock(4, 2), new MaxPool2D(2), new Flatten(), new Dense(8, Activation.RELU), new Dense(3, Activation.SOFTMAX));
        m.compile(new Adam(1e-2), "sparse_categorical_crossentropy", "accuracy");
        m.fit(data(64, 3), FitOptions.defaults().epochs(1).batchSize(16).seed(1));
        return m;
    }

    private TensorDataset data(int n, int classes) {
        float[] y = new float[n];
        for (int i = 0; i < n; i++) y[i] = rnd.nextInt(classes);
        return new TensorDataset(Tensor.randn(rnd, n, 8, 8, 1).mul(2f).add(0.5f), Tensor.of(y, n));
    }

    private static Map<String, float[]> snapshot(Module m) {
        Map<String, float[]> s = new LinkedHashMap<>();
        m.stateDict().forEach((k, v) -> s.put(k, v.toFloatArray()));
        return s;
    }

    private interface Module {
        Map<String, Tensor> stateDict();
    }

    @Test
    void frozenBackboneIsBitIdenticalAfterTrainingTheHead() {
        Sequential backbone = pretrained().withoutTop(1);
        for (Layer l : backbone.layers()) l.trainable(false);
        Map<String, float[]> before = snapshot(backbone::stateDict);
        assertThat(before.keySet()).contains("1.moving_mean", "3.bn1.moving_variance", "3.shortcut_bn.moving_mean");
        Sequential model = backbone.add(new Dense(2, Activation.SOFTMAX));
        assertThat(model).isSameAs(backbone);
        model.compile(new Adam(1e-2), "sparse_categorical_crossentropy", "accuracy");
        Map<String, float[]> headBefore = snapshot(model.layers().getLast()::stateDict);
        model.fit(data(64, 2), FitOptions.defaults().epochs(2).batchSize(16).seed(2));
        Map<String, Tensor> after = model.stateDict();
        for (var e : before.entrySet()) assertThat(after.get(e.getKey()).toFloatArray()).as(e.getKey()).containsExactly(e.getValue());
        Map<String, Tensor> headAfter = model.layers().getLast().stateDict();
        assertThat(headAfter.get("kernel").toFloatArray()).isNotEqualTo(headBefore.get("kernel"));
        // only the head's kernel and bias are bound: frozen parameters get no optimizer slots at all
        Optimizer opt = model.trainer().optimizer();
        assertThat(opt.params()).hasSize(2);
        assertThat(opt.state().keySet()).containsExactlyInAnyOrder("iterations", "learning_rate", "step.0", "m.0", "v.0", "step.1", "m.1", "v.1");
        assertThat(model.trainableParameterCount()).isEqualTo(8 * 2 + 2);
        assertThat(model.summary()).contains("Trainable params: 18").contains("conv2d_0 (Conv2D) frozen");
    }

    @Test
    void frozenBatchNormKeepsItsStatisticsWhileAnUnfrozenOneMovesThem() {
        Init.seed(6);
        BatchNormalization frozen = new BatchNormalization(0.5, 1e-3), live = new BatchNormalization(0.5, 1e-3);
        Sequential m = new Sequential(Shape.of(8, 8, 1), new Conv2D(2, 3, Activation.RELU), frozen, live,
                new Flatten(), new Dense(3, Activation.SOFTMAX));
        frozen.trainable(false);
        float[] mean = frozen.movingMean().toFloatArray(), var = frozen.movingVariance().toFloatArray();
        float[] liveMean = live.movingMean().toFloatArray();
        assertThat(m.isTraining()).isTrue();
        m.compile(new Adam(1e-2), "sparse_categorical_crossentropy");
        m.fit(data(32, 3), FitOptions.defaults().epochs(1).batchSize(8).seed(3));
        assertThat(frozen.movingMean().toFloatArray()).containsExactly(mean);
        assertThat(frozen.movingVariance().toFloatArray()).containsExactly(var);
        assertThat(live.movingMean().toFloatArray()).isNotEqualTo(liveMean);
        // a frozen BN normalises with its moving statistics in training mode: the same output as in inference
        Tensor x = Tensor.randn(rnd, 4, 6, 6, 2);
        Tensor training = frozen.forward(x);
        frozen.train(false);
        assertThat(training.toFloatArray()).containsExactly(frozen.forward(x).toFloatArray());
    }

    @Test
    void anOptimizerBoundToFrozenParametersCreatesNoSlotsForThem() {
        Dense a = new Dense(3), b = new Dense(2);
        Sequential m = new Sequential(Shape.of(4), a, b);
        a.trainable(false);
        Optimizer opt = new Adam(1e-2).bind(m.parameters().stream().map(Parameter::value).toList());
        m.forward(Tensor.randn(rnd, 5, 4)).sum().backward();
        assertThat(a.kernel().value().grad()).isNull();
        opt.step();
        assertThat(opt.state().keySet()).containsExactlyInAnyOrder("iterations", "learning_rate", "step.2", "m.2", "v.2", "step.3", "m.3", "v.3");
    }

    @Test
    void unfreezingAfterTheHeadTrainsEverythingWithAFreshOptimizer() {
        Sequential model = pretrained().withoutTop(1);
        model.trainable(0, model.layers().size(), false);
        model.add(new Dense(2, Activation.SOFTMAX));
        long head = model.trainableParameterCount();
        model.trainable(0, model.layers().size(), true);
        assertThat(model.trainableParameterCount()).isGreaterThan(head);
        model.compile(new Adam(1e-4), "sparse_categorical_crossentropy");
        Map<String, float[]> before = snapshot(model::stateDict);
        model.fit(data(32, 2), FitOptions.defaults().epochs(1).batchSize(16).seed(4));
        assertThat(model.stateDict().get("0.kernel").toFloatArray()).isNotEqualTo(before.get("0.kernel"));
        assertThat(model.trainer().optimizer().params()).hasSize(model.parameters().size());
    }

    @Test
    void frozenFlagRoundTripsThroughSaveAndLoad() throws Exception {
        Sequential model = pretrained().withoutTop(2);
        model.trainable(0, 3, false);
        model.add(new Dense(5, Activation.SOFTMAX));
        model.save(tmp.resolve("m"));
        Sequential loaded = Sequential.load(tmp.resolve("m"));
        assertThat(loaded.layers()).extracting(Layer::trainable).containsExactly(false, false, false, true, true, true, true);
        assertThat(loaded.trainableParameterCount()).isEqualTo(model.trainableParameterCount());
        assertThat(loaded.configJson()).contains("\"trainable\": false").isEqualTo(model.configJson());
        Tensor x = data(4, 2).x();
        assertThat(loaded.predict(x, 4).toFloatArray()).containsExactly(model.predict(x, 4).toFloatArray());
    }

    @Test
    void withoutTopSharesTheTrainedLayersAndAddingBuildsTheHead() {
        Sequential full = pretrained();
        Sequential backbone = full.withoutTop(2);
        assertThat(backbone.layers()).hasSize(full.layers().size() - 2);
        for (int i = 0; i < backbone.layers().size(); i++) assertThat(backbone.layers().get(i)).isSameAs(full.layers().get(i));
        assertThat(backbone.outputShape()).isEqualTo(Shape.of(16)); // 8x8 image, stride-2 block, 2x2 pool: 2x2x4
        Dense head = new Dense(7);
        backbone.add(head);
        assertThat(head.isBuilt()).isTrue();
        assertThat(head.kernel().value().shape()).isEqualTo(Shape.of(16, 7));
        assertThatThrownBy(() -> full.withoutTop(8)).hasMessageContaining("cannot drop 8").hasMessageContaining("between 0 and 7");
        assertThatThrownBy(() -> full.withoutTop(-1)).hasMessageContaining("cannot drop -1");
    }

    @Test
    void layersAreAddressedByIndexOrByTheirSummaryName() {
        Sequential m = pretrained();
        assertThat(m.layerName(3)).isEqualTo("residual_block_3");
        assertThat(m.layerIndex("residual_block_3")).isEqualTo(3);
        assertThat(m.layerIndex("4")).isEqualTo(4);
        assertThat(m.layerIndex("-1")).isEqualTo(7);
        assertThat(m.summary()).contains("residual_block_3 (ResidualBlock)");
        assertThatThrownBy(() -> m.layerIndex("dense_9")).hasMessageContaining("'dense_9'").hasMessageContaining("dense_6, dense_7");
        assertThatThrownBy(() -> m.layerIndex("8")).hasMessageContaining("'8'").hasMessageContaining("0..7");
    }

    @Test
    void parameterCountsFollowTheFlags() {
        Sequential m = new Sequential(Shape.of(4), new Dense(3), new BatchNormalization(), new Dense(2));
        assertThat(m.parameterCount()).isEqualTo(15 + 12 + 8);
        assertThat(m.trainableParameterCount()).isEqualTo(15 + 6 + 8);
        m.layers().getFirst().trainable(false);
        assertThat(m.trainableParameterCount()).isEqualTo(6 + 8);
        assertThat(List.of(m.summary().split("\n"))).anyMatch(l -> l.startsWith("dense_0 (Dense) frozen"));
    }
}
