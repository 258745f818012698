package dev.jumbo.spark;

import dev.jumbo.nn.Module;
import dev.jumbo.nn.Parameter;
import dev.jumbo.tensor.Tensor;
import java.util.List;
import java.util.Map;

/**
 * A module's state and its trainable parameters' gradients as flat float arrays, so they cross
 * Spark as one buffer each (DESIGN, "Weights travel"). The state is every parameter and buffer in
 * {@link Module#stateDict()} order; gradients follow the trainable parameters in
 * {@link Module#parameters()} order, the order {@code Trainer} binds its optimizer in.
 *
 * <p>jumbo-federated's {@code FlatWeights} does the state half for its own module; both belong in
 * the core once a third user appears.
 */
public final class FlatParameters {
    private FlatParameters() {}

    /** A copy of every parameter and buffer, concatenated. */
    public static float[] state(Module model) {
        float[] out = new float[size(model.stateDict().values().stream().toList())];
        int at = 0;
        for (Tensor t : model.stateDict().values()) {
            float[] v = t.toFloatArray();
            System.arraycopy(v, 0, out, at, v.length);
            at += v.length;
        }
        return out;
    }

    /**
     * Writes {@code flat} into the model's parameters and buffers.
     *
     * @throws IllegalArgumentException if {@code flat} does not hold exactly the model's values
     */
    public static void loadState(Module model, float[] flat) {
        Map<String, Tensor> state = model.stateDict();
        int want = size(state.values().stream().toList());
        if (flat.length != want) throw new IllegalArgumentException("flat state has " + flat.length + " values but the model has " + want);
        int at = 0;
        for (Tensor t : state.values()) {
            System.arraycopy(flat, at, t.buffer(), 0, t.size());
            at += t.size();
        }
        // through loadStateDict so modules holding derived forms (packed int8) drop them
        model.loadStateDict(state);
    }

    /** The trainable parameters' values, in the order their gradients are flattened. */
    public static List<Tensor> trainable(Module model) {
        return model.parameters().stream().filter(Parameter::trainable).map(Parameter::value).toList();
    }

    /** How many values the trainable parameters hold: the length of a flat gradient. */
    public static int gradientSize(Module model) {
        return size(trainable(model));
    }

    /** The trainable parameters' accumulated gradients, concatenated; a parameter without one contributes zeros. */
    public static float[] gradients(Module model) {
        List<Tensor> params = trainable(model);
        float[] out = new float[size(params)];
        int at = 0;
        for (Tensor p : params) {
            if (p.grad() != null) System.arraycopy(p.grad().toFloatArray(), 0, out, at, p.size());
            at += p.size();
        }
        return out;
    }

    /**
     * Adds {@code flat} (as {@link #gradients} lays it out) to the trainable parameters' gradients.
     *
     * @throws IllegalArgumentException if its length is not {@link #gradientSize}
     */
    public static void addToGradients(Module model, float[] flat) {
        List<Tensor> params = trainable(model);
        int want = size(params);
        if (flat.length != want) throw new IllegalArgumentException("flat gradient has " + flat.length + " values but the model trains " + want);
        int at = 0;
        for (Tensor p : params) {
            float[] part = new float[p.size()];
            System.arraycopy(flat, at, part, 0, part.length);
            p.addToGrad(Tensor.of(part, p.shape()));
            at += part.length;
        }
    }

    private static int size(List<Tensor> tensors) {
        long n = 0;
        for (Tensor t : tensors) n += t.size();
        if (n > Integer.MAX_VALUE) throw new IllegalArgumentException("the model has " + n + " values, more than one array holds");
        return (int) n;
    }
}
