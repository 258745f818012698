package dev.jumbo.compress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumbo.nn.Activation;
import dev.jumbo.nn.BatchNormalization;
import dev.jumbo.nn.Conv2D;
import dev.jumbo.nn.Dense;
import dev.jumbo.nn.Flatten;
import dev.jumbo.nn.Init;
import dev.jumbo.nn.Layer;
import dev.jumbo.nn.MaxPool2D;
import dev.jumbo.nn.Parameter;
import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.testing.GradCheck;
import dev.jumbo.train.Sequential;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Structured pruning shrinks the layers and keeps the function of the model with the removed units zeroed. */
class StructuredPruningTest {
    private final Random rnd = GradCheck.random();

    private Sequential cnn() {
        Init.seed(rnd.nextLong());
        return new Sequential(Shape.of(10, 10, 2),
                new Conv2D(8, 3, Activation.RELU), new MaxPool2D(2),
                new Conv2D(6, 2, Activation.RELU), new Flatten(),
                new Dense(10, Activation.RELU), new Dense(4, Activation.SOFTMAX));
    }

    private static long parameters(Sequential m) {
        return m.parameters().stream().mapToLong(p -> p.value().size()).sum();
    }

    /** The original with every unit the pruning removed given zero incoming weights and bias. */
    private static Sequential zeroedCopy(Sequential original, StructuredPruning.Result r) throws Exception {
        Sequential copy = Sequential.fromConfig(original.configJson(), null);
        copy.loadStateDict(original.stateDict());
        for (StructuredPruning.LayerUnits u : r.layers()) {
            Layer l = copy.layers().get(u.index());
            Parameter kernel = l instanceof Dense d ? d.kernel() : ((Conv2D) l).kernel();
            Parameter bias = l instanceof Dense d ? d.bias() : ((Conv2D) l).bias();
            boolean[] keep = new boolean[u.before()];
            for (int k : u.kept()) keep[k] = true;
            float[] w = kernel.value().buffer(), b = bias.value().buffer();
            for (int i = 0; i < w.length; i++) if (!keep[i % u.before()]) w[i] = 0;
            for (int j = 0; j < b.length; j++) if (!keep[j]) b[j] = 0;
        }
        return copy;
    }

    @Test
    void halvingACnnShrinksEveryHiddenLayerAndItsSuccessor() throws Exception {
        Sequential m = cnn();
        // conv 3*3*2*8+8 = 152; conv 2*2*8*6+6 = 198; flatten 3*3*6 = 54; dense 54*10+10 = 550; dense 10*4+4 = 44
        assertThat(parameters(m)).isEqualTo(152 + 198 + 550 + 44);
        StructuredPruning.Result r = StructuredPruning.prune(m, 0.5);
        Sequential small = r.model();
        // 8 -> 4 filters, 6 -> 3 filters, 10 -> 5 units, output 4 kept:
        // conv 3*3*2*4+4 = 76; conv 2*2*4*3+3 = 51; flatten 3*3*3 = 27; dense 27*5+5 = 140; dense 5*4+4 = 24
        assertThat(parameters(small)).isEqualTo(76 + 51 + 140 + 24);
        assertThat(r.layers()).extracting(u -> u.kept().length).containsExactly(4, 3, 5, 4);
        assertThat(r.layers()).extracting(StructuredPruning.LayerUnits::layer).containsExactly("conv2d_0", "conv2d_2", "dense_4", "dense_5");
        assertThat(small.outputShape()).isEqualTo(Shape.of(4));
        // fewer FLOPs too: the model is smaller to run, not only to store
        assertThat(small.summary()).contains("Total params: 291");
    }

    @Test
    void prunedModelComputesWhatTheOriginalDoesWithThoseUnitsZeroed() throws Exception {
        for (double fraction : new double[] {0.25, 0.5, 0.75}) {
            Sequential m = cnn();
            StructuredPruning.Result r = StructuredPruning.prune(m, fraction);
            Sequential zeroed = zeroedCopy(m, r);
            Tensor x = Tensor.randn(rnd, 5, 10, 10, 2);
            float[] want = zeroed.predict(x, 5).toFloatArray(), got = r.model().predict(x, 5).toFloatArray();
            for (int i = 0; i < want.length; i++) assertThat(got[i]).as("fraction %s output %d", fraction, i).isCloseTo(want[i], org.assertj.core.api.Assertions.within(1e-5f));
            // and zeroing them did change the model: these were live units
            float[] original = m.predict(x, 5).toFloatArray();
            assertThat(Arrays.equals(original, want)).isFalse();
        }
    }

    @Test
    void keepsTheUnitsOfLargestL1NormInOrder() {
        Init.seed(rnd.nextLong());
        Sequential m = new Sequential(Shape.of(3), new Dense(5, Activation.TANH), new Dense(2, Activation.SOFTMAX));
        float[] w = ((Dense) m.layers().getFirst()).kernel().value().buffer();
        // column j of the [3, 5] kernel has L1 norm 3 * scale[j]
        float[] scale = {0.5f, 3f, 0.1f, 2f, 1f};
        for (int i = 0; i < w.length; i++) w[i] = (i % 2 == 0 ? 1 : -1) * scale[i % 5];
        StructuredPruning.Result r = StructuredPruning.prune(m, 0.4);
        assertThat(r.layers().getFirst().kept()).containsExactly(1, 3, 4);
        assertThat(((Dense) r.model().layers().get(1)).kernel().value().shape()).isEqualTo(Shape.of(3, 2));
        // the successor's rows are the kept units' rows
        float[] next = ((Dense) m.layers().get(1)).kernel().value().toFloatArray(), got = ((Dense) r.model().layers().get(1)).kernel().value().toFloatArray();
        int[] rows = {1, 3, 4};
        for (int i = 0; i < 3; i++) for (int c = 0; c < 2; c++) assertThat(got[i * 2 + c]).isEqualTo(next[rows[i] * 2 + c]);
    }

    @Test
    void refusesLayersItCannotShrinkExactly() {
        Init.seed(1);
        Sequential sigmoid = new Sequential(Shape.of(4), new Dense(6, Activation.SIGMOID), new Dense(2, Activation.SOFTMAX));
        assertThatThrownBy(() -> StructuredPruning.prune(sigmoid, 0.5)).hasMessageContaining("dense_0").hasMessageContaining("sigmoid maps 0 to 0.5");
        Sequential norm = new Sequential(Shape.of(4), new Dense(6, Activation.RELU), new BatchNormalization(), new Dense(2, Activation.SOFTMAX));
        assertThatThrownBy(() -> StructuredPruning.prune(norm, 0.5)).hasMessageContaining("batch_normalization_1");
        assertThatThrownBy(() -> StructuredPruning.prune(sigmoid, 1.0)).hasMessageContaining("[0, 1)");
    }

    @Test
    void aFractionOfZeroKeepsTheModelAsItIs() throws Exception {
        Sequential m = cnn();
        StructuredPruning.Result r = StructuredPruning.prune(m, 0);
        Tensor x = Tensor.randn(rnd, 3, 10, 10, 2);
        assertThat(r.model().predict(x, 3).toFloatArray()).containsExactly(m.predict(x, 3).toFloatArray());
        assertThat(r.layers()).allMatch(u -> Arrays.equals(u.kept(), IntStream.range(0, u.before()).toArray()));
        assertThat(List.copyOf(r.model().stateDict().keySet())).isEqualTo(List.copyOf(m.stateDict().keySet()));
    }
}
