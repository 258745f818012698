package dev.jumbo.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.testing.GradCheck;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ModuleTest {
    private final Random rnd = GradCheck.random();

    /** Dense then BatchNorm, the way a hand-written model composes layers. */
    static final class Block extends Module {
        final Dense dense = register("dense", new Dense(3));
        final BatchNormalization bn = register("bn", new BatchNormalization());

        @Override
        public Tensor forward(Tensor x) {
            return bn.forward(dense.forward(x));
        }
    }

    /** Two blocks plus a parameter of its own, to check nesting and ordering. */
    static final class Net extends Module {
        final Block first = register("0", new Block());
        final Parameter scale = addParameter("scale", Tensor.ones(1));
        final Block second = register("1", new Block());

        @Override
        public Tensor forward(Tensor x) {
            return second.forward(first.forward(x).mul(scale.value()));
        }
    }

    private static Net builtNet() {
        Net net = new Net();
        net.forward(Tensor.ones(2, 4));
        return net;
    }

    @Test
    void parametersAreNamedByPathInRegistrationOrder() {
        Net net = builtNet();
        assertThat(net.parameters()).extracting(Parameter::name).containsExactly(
                "0.dense.kernel", "0.dense.bias", "0.bn.gamma", "0.bn.beta", "scale",
                "1.dense.kernel", "1.dense.bias", "1.bn.gamma", "1.bn.beta");
        assertThat(net.children()).containsOnlyKeys("0", "1");
    }

    @Test
    void stateDictAddsBuffersWhereTheyWereRegistered() {
        Net net = builtNet();
        assertThat(net.stateDict().keySet()).containsExactly(
                "0.dense.kernel", "0.dense.bias", "0.bn.gamma", "0.bn.beta", "0.bn.moving_mean", "0.bn.moving_variance", "scale",
                "1.dense.kernel", "1.dense.bias", "1.bn.gamma", "1.bn.beta", "1.bn.moving_mean", "1.bn.moving_variance");
        // keys of a sub-module are relative to it
        assertThat(net.second.stateDict()).containsKey("dense.kernel");
    }

    @Test
    void loadStateDictRoundTripsIntoAFreshModel() {
        Net source = builtNet();
        for (Tensor t : source.stateDict().values()) {
            float[] b = t.buffer();
            float[] r = Tensor.randn(rnd, b.length).toFloatArray();
            System.arraycopy(r, 0, b, 0, b.length);
        }
        Net target = builtNet();
        target.loadStateDict(source.stateDict());
        source.stateDict().forEach((k, v) -> assertThat(target.stateDict().get(k).toFloatArray()).as(k).containsExactly(v.toFloatArray()));
        source.train(false);
        target.train(false);
        Tensor x = Tensor.randn(rnd, 3, 4);
        assertThat(target.forward(x).toFloatArray()).containsExactly(source.forward(x).toFloatArray());
    }

    @Test
    void loadStateDictNamesTheOffendingKeyAndChangesNothing() {
        Net net = builtNet();
        float[] before = net.first.dense.kernel().value().toFloatArray();
        Map<String, Tensor> bad = new LinkedHashMap<>();
        net.stateDict().forEach((k, v) -> bad.put(k, Tensor.zeros(v.shape().toArray())));
        bad.put("1.dense.bias", Tensor.zeros(4));
        assertThatThrownBy(() -> net.loadStateDict(bad)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("shape mismatch for '1.dense.bias': module has [3], state dict has [4]");
        assertThat(net.first.dense.kernel().value().toFloatArray()).containsExactly(before);

        Map<String, Tensor> missing = new LinkedHashMap<>(net.stateDict());
        missing.remove("0.bn.moving_mean");
        assertThatThrownBy(() -> net.loadStateDict(missing)).hasMessageContaining("missing key '0.bn.moving_mean'");

        Map<String, Tensor> extra = new LinkedHashMap<>(net.stateDict());
        extra.put("2.dense.kernel", Tensor.zeros(1));
        assertThatThrownBy(() -> net.loadStateDict(extra)).hasMessageContaining("unexpected key '2.dense.kernel'");

        Net unbuilt = new Net();
        assertThatThrownBy(() -> unbuilt.loadStateDict(net.stateDict())).hasMessageContaining("not built");
    }

    @Test
    void trainingModePropagatesToDescendants() {
        Net net = new Net();
        assertThat(net.second.bn.isTraining()).isTrue();
        net.train(false);
        assertThat(net.isTraining()).isFalse();
        assertThat(net.first.bn.isTraining()).isFalse();
        assertThat(net.second.dense.isTraining()).isFalse();
    }

    @Test
    void zeroGradAndFreezeControlGradients() {
        Net net = builtNet();
        net.forward(Tensor.randn(rnd, 2, 4)).sum().backward();
        assertThat(net.parameters()).allSatisfy(p -> assertThat(p.value().grad()).as(p.name()).isNotNull());
        net.zeroGrad();
        assertThat(net.parameters()).allSatisfy(p -> assertThat(p.value().grad()).isNull());

        Parameter kernel = net.first.dense.kernel();
        kernel.freeze();
        assertThat(kernel.trainable()).isFalse();
        assertThat(kernel.value().requiresGrad()).isFalse();
        net.forward(Tensor.randn(rnd, 2, 4)).sum().backward();
        assertThat(kernel.value().grad()).isNull();
        assertThat(net.first.dense.bias().value().grad()).isNotNull();
        kernel.unfreeze();
        assertThat(kernel.value().requiresGrad()).isTrue();
    }

    @Test
    void parameterSetReplacesTheTensorOfTheSameShapeOnly() {
        Dense dense = new Dense(2);
        dense.build(Shape.of(3));
        Tensor w = Tensor.randn(rnd, 3, 2);
        dense.kernel().set(w);
        assertThat(dense.kernel().value()).isSameAs(w);
        assertThat(w.requiresGrad()).isTrue();
        assertThatThrownBy(() -> dense.kernel().set(Tensor.zeros(2, 3)))
                .hasMessage("parameter 'kernel' has shape [3, 2], cannot set a tensor of shape [2, 3]");
    }

    @Test
    void rejectsDuplicateOrDottedNamesAndCycles() {
        Module m = new Module() {
            @Override
            public Tensor forward(Tensor x) {
                return x;
            }

            {
                addParameter("w", Tensor.zeros(1));
                assertThatThrownBy(() -> addBuffer("w", Tensor.zeros(1))).hasMessageContaining("'w' is already registered");
                assertThatThrownBy(() -> register("a.b", new Flatten())).hasMessageContaining("'a.b'");
                assertThatThrownBy(() -> register("self", this)).hasMessageContaining("own descendant");
            }
        };
        assertThat(m.parameters()).hasSize(1);
    }
}
