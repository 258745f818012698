package dev.jumbo.federated;

import dev.jumbo.nn.Module;
import dev.jumbo.tensor.Tensor;
import java.util.Map;

/**
 * A module's parameters and buffers as one float buffer, in {@link Module#stateDict()} order, so
 * they can be sent, averaged and loaded back without knowing the model's structure (DESIGN,
 * "Weights travel"). Buffers (BatchNorm's moving statistics) travel too: FedAvg averages them
 * like the weights.
 *
 * <pre>{@code
 * float[] w = FlatWeights.of(model);   // a copy
 * w[0] += 0.1f;
 * FlatWeights.load(model, w);          // back into the live tensors
 * }</pre>
 */
public final class FlatWeights {
    private FlatWeights() {}

    /** How many floats {@link #of} returns for {@code model}. */
    public static int count(Module model) {
        long n = 0;
        for (Tensor t : model.stateDict().values()) n += t.size();
        if (n > Integer.MAX_VALUE) throw new IllegalArgumentException("model has " + n + " values, more than one buffer holds");
        return (int) n;
    }

    /** A copy of every parameter and buffer, concatenated. */
    public static float[] of(Module model) {
        float[] out = new float[count(model)];
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
     * @throws IllegalArgumentException if {@code flat} does not have exactly {@link #count} values
     */
    public static void load(Module model, float[] flat) {
        Map<String, Tensor> state = model.stateDict();
        int want = count(model);
        if (flat.length != want)
            throw new IllegalArgumentException("flat weights have " + flat.length + " values but the model has " + want);
        int at = 0;
        for (Tensor t : state.values()) {
            float[] dst = t.buffer();
            System.arraycopy(flat, at, dst, 0, t.size());
            at += t.size();
        }
        // through loadStateDict so modules holding derived forms (packed int8) drop them
        model.loadStateDict(state);
    }
}
