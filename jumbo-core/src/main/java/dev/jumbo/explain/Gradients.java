package dev.jumbo.explain;

import dev.jumbo.nn.Parameter;
import dev.jumbo.tensor.GradMode;
import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * The gradients of one output of a {@link ModelFunction} with respect to each input of a batch,
 * with the outputs themselves: the one piece every gradient method is built on. Rows are run
 * through the model {@code chunk} at a time, so a method that needs many (Integrated Gradients'
 * steps, SmoothGrad's samples) holds one chunk's graph at a time. The model's weights stop
 * requiring gradients meanwhile, so only the input's gradient is computed.
 *
 * @param rows       the number of inputs
 * @param outputs    the model's outputs, {@code [rows, k]} row-major
 * @param k          outputs per input
 * @param gradient   d output[target] / d input, {@code [rows, ...inputShape]} row-major
 */
public record Gradients(int rows, float[] outputs, int k, float[] gradient) {

    /** Rows per forward pass when a caller does not say. */
    public static final int DEFAULT_CHUNK = 32;

    /** The score of the target output of row {@code i}. */
    public float output(int i, int target) {
        return outputs[i * k + target];
    }

    /** Row {@code i}'s outputs. */
    public float[] outputsOf(int i) {
        return java.util.Arrays.copyOfRange(outputs, i * k, (i + 1) * k);
    }

    /**
     * Differentiates {@code f}'s output {@code target} at each of {@code rows} inputs laid end to end in {@code inputs}.
     *
     * @throws IllegalArgumentException if the inputs are not whole inputs of {@code f}'s shape or the target is not an output
     */
    public static Gradients of(ModelFunction f, float[] inputs, int rows, int target, int chunk) {
        Shape shape = f.inputShape();
        int size = shape.size(), k = f.outputs();
        if (rows < 1 || (long) rows * size != inputs.length)
            throw new IllegalArgumentException(inputs.length + " values are not " + rows + " inputs of shape " + shape);
        checkTarget(target, k);
        float[] outputs = new float[rows * k], gradient = new float[inputs.length];
        List<Parameter> frozen = new ArrayList<>();
        for (Parameter p : f.parameters())
            if (p.value().requiresGrad()) {
                p.value().requiresGrad(false);
                frozen.add(p);
            }
        try {
            for (int from = 0; from < rows; from += chunk) {
                int n = Math.min(chunk, rows - from);
                Tensor x = batch(inputs, from, n, shape).requiresGrad(true);
                Tensor y = f.apply(x);
                if (y.rank() != 2 || y.dim(0) != n || y.dim(1) != k)
                    throw new IllegalStateException("model function returned " + y.shape() + " for " + n + " inputs, not [" + n + ", " + k + "]");
                System.arraycopy(y.toFloatArray(), 0, outputs, from * k, n * k);
                float[] seed = new float[n * k];
                for (int i = 0; i < n; i++) seed[i * k + target] = 1;
                if (!y.requiresGrad())
                    throw new IllegalStateException("the model's output does not depend differentiably on its input");
                y.backward(Tensor.of(seed, n, k));
                Tensor g = x.grad();
                if (g != null) System.arraycopy(g.toFloatArray(), 0, gradient, from * size, n * size);
            }
        } finally {
            for (Parameter p : frozen) p.value().requiresGrad(true);
        }
        return new Gradients(rows, outputs, k, gradient);
    }

    /** The model's outputs {@code [rows, k]} without recording a graph. */
    public static float[] outputs(ModelFunction f, float[] inputs, int rows, int chunk) {
        Shape shape = f.inputShape();
        int size = shape.size(), k = f.outputs();
        if (rows < 1 || (long) rows * size != inputs.length)
            throw new IllegalArgumentException(inputs.length + " values are not " + rows + " inputs of shape " + shape);
        float[] out = new float[rows * k];
        try (var scope = GradMode.noGrad()) {
            for (int from = 0; from < rows; from += chunk) {
                int n = Math.min(chunk, rows - from);
                Tensor y = f.apply(batch(inputs, from, n, shape));
                System.arraycopy(y.toFloatArray(), 0, out, from * k, n * k);
            }
        }
        return out;
    }

    /** Rows {@code from} to {@code from + n} of {@code inputs} as a tensor {@code [n, ...shape]}. */
    private static Tensor batch(float[] inputs, int from, int n, Shape shape) {
        int[] dims = new int[shape.rank() + 1];
        dims[0] = n;
        System.arraycopy(shape.toArray(), 0, dims, 1, shape.rank());
        int size = shape.size();
        return Tensor.of(java.util.Arrays.copyOfRange(inputs, from * size, (from + n) * size), dims);
    }

    /** @throws IllegalArgumentException naming the outputs there are if {@code target} is not one */
    public static void checkTarget(int target, int outputs) {
        if (target < 0 || target >= outputs)
            throw new IllegalArgumentException("class " + target + " does not exist: the model has " + outputs
                    + " outputs (0 to " + (outputs - 1) + ")");
    }
}
