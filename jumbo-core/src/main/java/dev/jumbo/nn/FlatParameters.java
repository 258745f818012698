package dev.jumbo.nn;

import dev.jumbo.tensor.Tensor;
import java.util.List;
import java.util.Map;

/**
 * A module's state and its trainable parameters' gradients as flat float arrays, so they can be
 * sent, added, averaged and loaded back as one buffer each without knowing the model's structure
 * (DESIGN, "Weights travel"): federated rounds ship the state, Spark steps ship the state out and
 * the gradient sums back.
 *
 * <ul>
 *   <li>The <b>state</b> is every parameter and buffer (BatchNorm's moving statistics too) in
 *       {@link Module#stateDict()} order.
 *   <li>The <b>gradient</b> follows the trainable parameters in {@link Module#parameters()} order,
 *       the order {@code Trainer} binds its optimizer in.
 * </ul>
 *
 * <pre>{@code
 * float[] w = FlatParameters.state(model);   // a copy
 * w[0] += 0.1f;
 * FlatParameters.loadState(model, w);        // back into the live tensors
 * }</pre>
 */
public final class FlatParameters {
    private FlatParameters() {}

    /** How many values {@link #state} returns for {@code model}. */
    public static int stateSize(Module model) {
        return size(model.stateDict().values());
    }

    /** A copy of every parameter and buffer, concatenated. */
    public static float[] state(Module model) {
        Map<String, Tensor> state = model.stateDict();
        float[] out = new float[size(state.values())];
        int at = 0;
        for (Tensor t : state.values()) {
            float[] v = t.toFloatArray();
            System.arraycopy(v, 0, out, at, v.length);
            at += v.length;
        }
        return out;
    }

    /**
     * Writes {@code flat} into the model's parameters and buffers.
     *
     * @throws IllegalArgumentException if {@code flat} does not hold exactly {@link #stateSize} values
     */
    public static void loadState(Module model, float[] flat) {
        Map<String, Tensor> state = model.stateDict();
        int want = size(state.values());
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

    private static int size(Iterable<Tensor> tensors) {
        long n = 0;
        for (Tensor t : tensors) n += t.size();
        if (n > Integer.MAX_VALUE) throw new IllegalArgumentException("the model has " + n + " values, more than one array holds");
        return (int) n;
    }
}
