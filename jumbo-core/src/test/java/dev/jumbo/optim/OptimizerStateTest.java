package dev.jumbo.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumbo.tensor.Tensor;
import dev.jumbo.testing.GradCheck;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** state()/loadState(): exact resumption, frozen parameters, rebinding and rejected states. */
class OptimizerStateTest {
    private final Random rnd = GradCheck.random();
    private final long gradSeed = rnd.nextLong();

    private List<Tensor> params(float[]... values) {
        int[][] shapes = {{3, 4}, {5}, {2, 2}};
        List<Tensor> ps = new ArrayList<>();
        for (int k = 0; k < shapes.length; k++) {
            Tensor p = values.length > 0 ? Tensor.of(values[k].clone(), shapes[k]) : Tensor.randn(rnd, shapes[k]);
            ps.add(p.requiresGrad(k != 2));   // the last one is frozen
        }
        return ps;
    }

    /** Deterministic gradients: a function of the step and of the parameters (so trajectories must agree to match). */
    private void setGrads(List<Tensor> ps, int step) {
        Random g = new Random(gradSeed + step);
        for (Tensor p : ps) {
            p.zeroGrad();
            float[] x = p.toFloatArray(), d = new float[x.length];
            for (int i = 0; i < d.length; i++) d[i] = 0.5f * x[i] + (float) g.nextGaussian();
            p.addToGrad(Tensor.of(d, p.shape()));
        }
    }

    private static List<float[]> values(List<Tensor> ps) {
        return ps.stream().map(Tensor::toFloatArray).toList();
    }

    private void resumesBitIdentically(Supplier<Optimizer> make) {
        List<Tensor> a = params();
        Optimizer first = make.get().bind(a);
        for (int s = 0; s < 3; s++) {
            setGrads(a, s);
            first.step();
        }
        Map<String, Tensor> saved = first.state();
        List<float[]> savedParams = values(a);
        for (int s = 3; s < 8; s++) {
            setGrads(a, s);
            first.step();
        }

        List<Tensor> b = params(savedParams.toArray(float[][]::new));
        Optimizer resumed = make.get().bind(b);
        resumed.loadState(saved);
        assertThat(resumed.iterations()).isEqualTo(3);
        assertThat(resumed.learningRate()).isEqualTo((float) resumed.schedule().at(3));
        for (int s = 3; s < 8; s++) {
            setGrads(b, s);
            resumed.step();
        }
        for (int k = 0; k < a.size(); k++)
            assertThat(b.get(k).toFloatArray()).as("%s parameter %d", first, k).isEqualTo(a.get(k).toFloatArray());
        assertThat(resumed.state().keySet()).isEqualTo(first.state().keySet());
        for (String key : first.state().keySet())
            assertThat(resumed.state().get(key).toFloatArray()).as(key).isEqualTo(first.state().get(key).toFloatArray());
    }

    @Test
    void everyOptimizerResumesBitIdentically() {
        List<Supplier<Optimizer>> all = List.of(
                () -> new SGD(0.05),
                () -> new SGD(0.05, 0.9, true, 0.01),
                () -> new AdaGrad(0.1),
                () -> new RMSprop(0.01, 0.9, 0.5, 1e-7, true),
                () -> new Adam(0.01).schedule(new CosineDecay(0.0, 10, 0.1, 0.01, 2)).clipNorm(0.5),
                () -> new AdamW(0.01, 0.05).schedule(new ExponentialDecay(0.01, 3, 0.5, true)).clipValue(0.3));
        for (Supplier<Optimizer> make : all) resumesBitIdentically(make);
    }

    @Test
    void statesNameSlotsByParameterIndexAndSkipFrozenParameters() {
        List<Tensor> ps = params();
        float[] frozen = ps.get(2).toFloatArray();
        Optimizer adam = new Adam(0.01).bind(ps);
        setGrads(ps, 0);
        adam.step();
        assertThat(adam.state().keySet()).containsExactlyInAnyOrder("iterations", "learning_rate", "step.0", "m.0", "v.0", "step.1", "m.1", "v.1");
        assertThat(adam.state().get("m.0").shape()).isEqualTo(ps.get(0).shape());
        assertThat(adam.state().get("iterations").item()).isEqualTo(1f);
        assertThat(ps.get(2).toFloatArray()).isEqualTo(frozen);
    }

    @Test
    void parametersWithoutAGradientAreSkipped() {
        Tensor p = Tensor.ones(3).requiresGrad(true), q = Tensor.ones(2).requiresGrad(true);
        Optimizer sgd = new SGD(0.5, 0.9, false).bind(List.of(p, q));
        p.addToGrad(Tensor.ones(3));
        sgd.step();
        assertThat(p.toFloatArray()).containsExactly(0.5f, 0.5f, 0.5f);
        assertThat(q.toFloatArray()).containsExactly(1f, 1f);
        assertThat(sgd.state()).containsKey("momentum.0").doesNotContainKey("momentum.1");
        sgd.zeroGrad();
        assertThat(p.grad()).isNull();
    }

    @Test
    void rebindingKeepsTheSlotsOfTensorsAlreadyBound() {
        Tensor p = Tensor.ones(2).requiresGrad(true), q = Tensor.ones(2).requiresGrad(true);
        Optimizer adam = new Adam(0.1).bind(List.of(p));
        p.addToGrad(Tensor.ones(2));
        adam.step();
        Tensor m = adam.state().get("m.0");
        adam.bind(List.of(q, p));   // e.g. after unfreezing q
        assertThat(adam.state().get("m.1").toFloatArray()).isEqualTo(m.toFloatArray());
        assertThat(adam.state()).doesNotContainKey("m.0");
        assertThat(adam.iterations()).isEqualTo(1);
    }

    @Test
    void bindRejectsDuplicatesAndViews() {
        Tensor p = Tensor.ones(2, 2).requiresGrad(true);
        assertThatThrownBy(() -> new SGD(0.1).bind(List.of(p, p))).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("parameter 1");
        assertThatThrownBy(() -> new SGD(0.1).bind(List.of(p.transpose(0, 1).slice(0, 0, 1)))).hasMessageContaining("parameter 0");
    }

    @Test
    void aConstantLearningRateChangedDuringTrainingIsRestored() {
        List<Tensor> ps = params();
        Optimizer opt = new SGD(0.1).bind(ps).learningRate(0.025);
        Optimizer fresh = new SGD(0.1).bind(params());
        fresh.loadState(opt.state());
        assertThat(fresh.learningRate()).isEqualTo(0.025f);
        Optimizer scheduled = new SGD(0.1).schedule(new ExponentialDecay(0.1, 10, 0.5, false)).bind(params());
        assertThatThrownBy(() -> scheduled.loadState(opt.state())).hasMessageContaining("learning_rate");
    }

    @Test
    void rejectsIncompatibleStatesNamingTheKeyAndChangingNothing() {
        List<Tensor> ps = params();
        Optimizer adam = new Adam(0.01).bind(ps);
        setGrads(ps, 0);
        adam.step();
        Map<String, Tensor> good = adam.state();

        assertThatThrownBy(() -> adam.loadState(with(good, "q.0", Tensor.zeros(3, 4)))).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("\"q.0\"");
        assertThatThrownBy(() -> adam.loadState(with(good, "m.7", Tensor.zeros(3, 4)))).hasMessageContaining("\"m.7\"").hasMessageContaining("3 are bound");
        assertThatThrownBy(() -> adam.loadState(with(good, "m.0", Tensor.zeros(4, 3)))).hasMessageContaining("\"m.0\"").hasMessageContaining("[4, 3]").hasMessageContaining("[3, 4]");
        assertThatThrownBy(() -> adam.loadState(with(good, "m.x", Tensor.zeros(1)))).hasMessageContaining("\"m.x\"");
        assertThatThrownBy(() -> adam.loadState(with(good, "iterations", Tensor.of(new float[] {1.5f}, 1)))).hasMessageContaining("\"iterations\"");
        assertThatThrownBy(() -> adam.loadState(with(good, "iterations", null))).hasMessageContaining("\"iterations\"");
        assertThatThrownBy(() -> adam.loadState(with(good, "v.1", null))).hasMessageContaining("\"v.1\"");
        assertThatThrownBy(() -> adam.loadState(with(good, "step.0", null))).hasMessageContaining("\"step.0\"");
        assertThatThrownBy(() -> new SGD(0.1, 0.9, false).bind(ps).loadState(good)).hasMessageContaining("\"m.0\"");

        Map<String, Tensor> bad = with(good, "iterations", Tensor.of(new float[] {9}, 1));
        bad.put("m.0", Tensor.zeros(2));
        assertThatThrownBy(() -> adam.loadState(bad)).hasMessageContaining("\"m.0\"");
        assertThat(adam.iterations()).isEqualTo(1);
        assertThat(adam.state().get("m.0").toFloatArray()).isEqualTo(good.get("m.0").toFloatArray());
    }

    private static Map<String, Tensor> with(Map<String, Tensor> state, String key, Tensor value) {
        Map<String, Tensor> copy = new HashMap<>(state);
        if (value == null) copy.remove(key);
        else copy.put(key, value);
        return copy;
    }
}
