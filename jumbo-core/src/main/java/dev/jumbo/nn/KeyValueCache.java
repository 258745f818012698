package dev.jumbo.nn;

import dev.jumbo.tensor.Tensor;
import java.util.List;

/**
 * The keys and values one {@link MultiHeadAttention} layer has computed for the tokens seen so
 * far, {@code [batch, length, d]} each (heads side by side, as projected), so that generating a token costs one
 * position's projections instead of the whole sequence's. A model keeps one per layer.
 *
 * <pre>{@code
 * KeyValueCache cache = new KeyValueCache();
 * attention.forward(prompt, null, cache);     // [1, 5, d]: caches 5 positions
 * attention.forward(nextToken, null, cache);  // [1, 1, d]: attends over all 6
 * }</pre>
 */
public final class KeyValueCache {
    private Tensor keys;
    private Tensor values;

    /** Positions cached so far. */
    public int length() {
        return keys == null ? 0 : keys.dim(1);
    }

    /** Appends this step's keys and values {@code [batch, time, d]} and returns all of them, keys first. */
    Tensor[] append(Tensor k, Tensor v) {
        keys = keys == null ? k.contiguous() : Tensor.concat(1, List.of(keys, k));
        values = values == null ? v.contiguous() : Tensor.concat(1, List.of(values, v));
        return new Tensor[] {keys, values};
    }
}
