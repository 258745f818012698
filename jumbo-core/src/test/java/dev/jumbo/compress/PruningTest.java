package dev.jumbo.compress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.jumbo.data.TensorDataset;
import dev.jumbo.nn.Activation;
import dev.jumbo.nn.Conv2D;
import dev.jumbo.nn.Dense;
import dev.jumbo.nn.Flatten;
import dev.jumbo.nn.Init;
import dev.jumbo.nn.MaxPool2D;
import dev.jumbo.optim.Adam;
import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.testing.GradCheck;
import dev.jumbo.train.Callback;
import dev.jumbo.train.FitOptions;
import dev.jumbo.train.Sequential;
import dev.jumbo.train.TrainingRun;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Magnitude masks, the gradual schedule, and masks holding through fine-tuning. */
class PruningTest {
    private final Random rnd = GradCheck.random();

    private Sequential smallCnn() {
        Init.seed(rnd.nextLong());
        return new Sequential(Shape.of(8, 8, 1),
                new Conv2D(4, 3, Activation.RELU), new MaxPool2D(2),
                new Flatten(), new Dense(8, Activation.RELU), new Dense(3, Activation.SOFTMAX));
    }

    private TensorDataset data(int n) {
        float[] y = new float[n];
        for (int i = 0; i < n; i++) y[i] = rnd.nextInt(3);
        return new TensorDataset(Tensor.randn(rnd, n, 8, 8, 1), Tensor.of(y, n));
    }

    private static List<float[]> kernels(Sequential m) {
        return PrunableKernel.of(m).stream().map(k -> k.values().clone()).toList();
    }

    /** The naive reference: the k smallest |w| of a list of arrays, by sorting (magnitude, array, index) triples. */
    private static List<boolean[]> naiveSmallest(List<float[]> arrays, long k) {
        List<int[]> order = new ArrayList<>();
        for (int a = 0; a < arrays.size(); a++) for (int i = 0; i < arrays.get(a).length; i++) order.add(new int[] {a, i});
        order.sort((x, y) -> {
            int c = Float.compare(Math.abs(arrays.get(x[0])[x[1]]), Math.abs(arrays.get(y[0])[y[1]]));
            return c != 0 ? c : x[0] != y[0] ? Integer.compare(x[0], y[0]) : Integer.compare(x[1], y[1]);
        });
        List<boolean[]> out = new ArrayList<>();
        for (float[] a : arrays) out.add(new boolean[a.length]);
        for (int j = 0; j < k; j++) out.get(order.get(j)[0])[order.get(j)[1]] = true;
        return out;
    }

    @Test
    void perLayerMaskPrunesTheSmallestFractionOfEachKernel() {
        Sequential m = smallCnn();
        List<float[]> before = kernels(m);
        PruningMask mask = PruningMask.magnitude(m, 0.7, PruningMask.Scope.PER_LAYER);
        for (int k = 0; k < before.size(); k++) {
            float[] w = before.get(k);
            boolean[] want = naiveSmallest(List.of(w), Math.round(0.7 * w.length)).getFirst();
            for (int i = 0; i < w.length; i++) assertThat(mask.isPruned(k, i)).as("kernel %d weight %d", k, i).isEqualTo(want[i]);
        }
        mask.apply();
        List<LayerSparsity> report = LayerSparsity.of(m);
        // conv 3*3*1*4 = 36 -> 25 zeros; dense 36*8 = 288 -> 202; dense 8*3 = 24 -> 17
        assertThat(report).extracting(LayerSparsity::zeros).containsExactly(25L, 202L, 17L);
        assertThat(report).extracting(LayerSparsity::parameters).containsExactly(40L, 296L, 27L);
        assertThat(report).extracting(LayerSparsity::layer).containsExactly("conv2d_0", "dense_3", "dense_4");
        for (int k = 0; k < before.size(); k++) {
            float[] after = kernels(m).get(k);
            for (int i = 0; i < after.length; i++) assertThat(after[i]).isEqualTo(mask.isPruned(k, i) ? 0f : before.get(k)[i]);
        }
    }

    @Test
    void globalMaskUsesOneThresholdOverAllKernels() {
        Sequential m = smallCnn();
        // make the conv kernel's weights small, so a global threshold takes most of them
        float[] conv = PrunableKernel.of(m).getFirst().values();
        for (int i = 0; i < conv.length; i++) conv[i] *= 0.01f;
        List<float[]> before = kernels(m);
        long total = before.stream().mapToLong(a -> a.length).sum();
        PruningMask mask = PruningMask.magnitude(m, 0.5, PruningMask.Scope.GLOBAL);
        List<boolean[]> want = naiveSmallest(before, Math.round(0.5 * total));
        for (int k = 0; k < before.size(); k++)
            for (int i = 0; i < before.get(k).length; i++) assertThat(mask.isPruned(k, i)).isEqualTo(want.get(k)[i]);
        assertThat(mask.prunedCount(0)).isEqualTo(36);
        assertThat(mask.prunedCount(0) + mask.prunedCount(1) + mask.prunedCount(2)).isEqualTo((int) Math.round(0.5 * total));
    }

    @Test
    void polynomialScheduleRisesAsACubeToTheTarget() {
        var s = new PolynomialSchedule(0, 0.8, 3);
        assertThat(s.sparsityAt(0)).isCloseTo(0.8 * (1 - 8.0 / 27), within(1e-12));
        assertThat(s.sparsityAt(1)).isCloseTo(0.8 * (1 - 1.0 / 27), within(1e-12));
        assertThat(s.sparsityAt(2)).isEqualTo(0.8);
        assertThat(s.sparsityAt(7)).isEqualTo(0.8);
        var fromHalf = new PolynomialSchedule(0.5, 0.9, 4);
        assertThat(fromHalf.sparsityAt(0)).isCloseTo(0.9 - 0.4 * Math.pow(0.75, 3), within(1e-12));
        assertThat(fromHalf.sparsityAt(3)).isEqualTo(0.9);
        assertThat(new PolynomialSchedule(0, 0.8, 1).sparsityAt(0)).isEqualTo(0.8);
        assertThatThrownBy(() -> new PolynomialSchedule(0, 1.0, 3)).hasMessageContaining("sparsity must be in [0, 1)");
        assertThatThrownBy(() -> new PolynomialSchedule(0.9, 0.5, 3)).hasMessageContaining("initial sparsity");
        assertThatThrownBy(() -> new PolynomialSchedule(0, 0.5, 0)).hasMessageContaining("at least 1 epoch");
    }

    @Test
    void masksKeepPrunedWeightsAtZeroThroughFineTuning() {
        Sequential m = smallCnn();
        m.compile(new Adam(1e-2), "sparse_categorical_crossentropy", "accuracy");
        var schedule = new PolynomialSchedule(0, 0.8, 3);
        GradualPruning pruning = new GradualPruning(m, schedule, PruningMask.Scope.PER_LAYER);
        List<Double> sparsityPerEpoch = new ArrayList<>();
        int[] checkedBatches = {0};
        Callback watcher = new Callback() {
            boolean[][] prunedBefore;

            @Override
            public void onEpochBegin(TrainingRun run, int epoch) {
                sparsityPerEpoch.add(LayerSparsity.overall(LayerSparsity.of(m)));
                List<float[]> w = kernels(m);
                boolean[][] now = new boolean[w.size()][];
                for (int k = 0; k < w.size(); k++) {
                    now[k] = new boolean[w.get(k).length];
                    for (int i = 0; i < now[k].length; i++) now[k][i] = pruning.mask().isPruned(k, i);
                    // the mask only grows: what an earlier epoch pruned stays pruned
                    if (prunedBefore != null)
                        for (int i = 0; i < now[k].length; i++) if (prunedBefore[k][i]) assertThat(now[k][i]).isTrue();
                }
                prunedBefore = now;
            }

            @Override
            public void onBatchEnd(TrainingRun run, int epoch, int batch, Map<String, Double> logs) {
                List<float[]> w = kernels(m);
                for (int k = 0; k < w.size(); k++)
                    for (int i = 0; i < w.get(k).length; i++)
                        if (pruning.mask().isPruned(k, i)) assertThat(w.get(k)[i]).as("pruned weight %d of kernel %d after a step", i, k).isZero();
                checkedBatches[0]++;
            }
        };
        List<float[]> start = kernels(m);
        // the pruning callback runs first, so the watcher sees each epoch's mask and each step's re-masking
        m.fit(data(96), FitOptions.defaults().epochs(3).batchSize(16).callbacks(pruning, watcher));
        assertThat(checkedBatches[0]).isEqualTo(18);
        List<LayerSparsity> end = LayerSparsity.of(m);
        // per layer: round(0.8 * n) of 36, 288 and 24
        assertThat(end).extracting(LayerSparsity::zeros).containsExactly(29L, 230L, 19L);
        double[] want = {schedule.sparsityAt(0), schedule.sparsityAt(1), schedule.sparsityAt(2)};
        for (int e = 0; e < 3; e++) assertThat(sparsityPerEpoch.get(e)).as("epoch %d", e).isCloseTo(want[e], within(0.01));
        // and fine-tuning moved weights that survived in every kernel (not all of them: a row fed only by
        // a filter that lost its weights sees zero inputs, so zero gradients)
        List<float[]> finish = kernels(m);
        for (int k = 0; k < finish.size(); k++) {
            int moved = 0;
            for (int i = 0; i < finish.get(k).length; i++) if (finish.get(k)[i] != 0 && finish.get(k)[i] != start.get(k)[i]) moved++;
            assertThat(moved).as("kernel %d", k).isPositive();
        }
    }

    @Test
    void rejectsASparsityOutsideZeroToOne() {
        Sequential m = smallCnn();
        assertThatThrownBy(() -> PruningMask.magnitude(m, 1.0, PruningMask.Scope.GLOBAL)).hasMessageContaining("sparsity must be in [0, 1), got 1.0");
        assertThatThrownBy(() -> PruningMask.magnitude(m, -0.1, PruningMask.Scope.GLOBAL)).hasMessageContaining("got -0.1");
    }
}
