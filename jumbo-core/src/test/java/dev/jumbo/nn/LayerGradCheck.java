package dev.jumbo.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.testing.GradCheck;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Plugs a layer into {@link GradCheck}: the input (when differentiable) and every trainable
 * parameter become the check's inputs. GradCheck hands its function fresh leaf copies, so the
 * function swaps them into the layer with {@link Parameter#set} before each forward; the
 * original tensors are put back afterwards.
 *
 * <pre>{@code
 * LayerGradCheck.inputAndParameters(new Dense(3, Activation.TANH), Tensor.randn(rnd, 2, 4));
 * }</pre>
 */
final class LayerGradCheck {
    private LayerGradCheck() {}

    /** Gradients w.r.t. the input and every trainable parameter. */
    static void inputAndParameters(Layer layer, Tensor x) {
        check(layer, x, true, () -> {});
    }

    /** Gradients w.r.t. the parameters only, for inputs without a gradient (ids). */
    static void parameters(Layer layer, Tensor x) {
        check(layer, x, false, () -> {});
    }

    /**
     * The general form; {@code beforeEachForward} runs before every evaluation (e.g. reseeding
     * {@link Init} so Dropout draws the same mask each time).
     */
    static void check(Layer layer, Tensor x, boolean inputDifferentiable, Runnable beforeEachForward) {
        layer.build(Layer.withoutBatch(x.shape()));
        List<Parameter> params = layer.parameters().stream().filter(Parameter::trainable).toList();
        List<Tensor> originals = params.stream().map(Parameter::value).toList();
        List<Tensor> checked = new ArrayList<>();
        if (inputDifferentiable) checked.add(x);
        checked.addAll(originals);
        int first = inputDifferentiable ? 1 : 0;
        try {
            // a layer that cached a parameter's tensor at build time would ignore the swapped-in
            // leaves, and the check would then compare zero with zero: make sure every leaf is used
            if (!params.isEmpty()) {
                for (Parameter p : params) p.set(Tensor.of(p.value().toFloatArray(), p.value().shape()));
                beforeEachForward.run();
                layer.forward(x).sum().backward();
                for (Parameter p : params) assertThat(p.value().grad()).as("gradient of %s in %s", p.name(), layer.name()).isNotNull();
            }
            GradCheck.check(in -> {
                for (int i = 0; i < params.size(); i++) params.get(i).set(in.get(first + i));
                beforeEachForward.run();
                return layer.forward(inputDifferentiable ? in.getFirst() : x);
            }, checked.toArray(Tensor[]::new));
        } finally {
            for (int i = 0; i < params.size(); i++) params.get(i).set(originals.get(i));
        }
    }

    /** Runs the layer and checks the result's shape is {@code [batch] + outputShape(input without batch)}. */
    static Tensor forwardWithDeclaredShape(Layer layer, Tensor x) {
        Tensor y = layer.forward(x);
        Shape declared = layer.outputShape(Layer.withoutBatch(x.shape()));
        int[] expected = new int[declared.rank() + 1];
        expected[0] = x.dim(0);
        System.arraycopy(declared.toArray(), 0, expected, 1, declared.rank());
        assertThat(y.shape()).as("%s output shape", layer.name()).isEqualTo(Shape.of(expected));
        return y;
    }

    /** Asserts two tensors have the same shape and values within {@code tol}. */
    static void assertClose(Tensor actual, float[] expected, double tol) {
        float[] a = actual.toFloatArray();
        assertThat(a.length).isEqualTo(expected.length);
        for (int i = 0; i < a.length; i++)
            assertThat((double) a[i]).as("element %d of %s vs %s", i, actual, Arrays.toString(Arrays.copyOf(expected, Math.min(10, expected.length))))
                    .isCloseTo(expected[i], within(tol));
    }
}
