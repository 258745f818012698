package dev.jumbo.nn;

import dev.jumbo.tensor.Tensor;

/**
 * The keys and values one {@link MultiHeadAttention} layer has computed for the tokens seen so
 * far, {@code [batch, length, d]} each (heads side by side, as projected), so that generating a
 * token costs one position's projections instead of the whole sequence's. A model keeps one per layer.
 *
 * <p>Positions are written into buffers that double when full, and attention reads views of
 * their first {@code length} positions: a decoded token copies its own key and value, not the
 * whole cache (which a concatenation per token would, quadratic in the sequence).
 *
 * <pre>{@code
 * KeyValueCache cache = new KeyValueCache();
 * attention.forward(prompt, null, cache);     // [1, 5, d]: caches 5 positions
 * attention.forward(nextToken, null, cache);  // [1, 1, d]: attends over all 6
 * }</pre>
 */
public final class KeyValueCache {
    private float[] keys = new float[0];
    private float[] values = new float[0];
    private int batch;
    private int width;
    private int capacity;
    private int length;

    /** Positions cached so far. */
    public int length() {
        return length;
    }

    /**
     * Appends this step's keys and values {@code [batch, time, d]} (the batch and width of the
     * first step) and returns views of all of them, keys first.
     */
    Tensor[] append(Tensor k, Tensor v) {
        int b = k.dim(0), t = k.dim(1), d = k.dim(2);
        if (length == 0 && capacity == 0) {
            batch = b;
            width = d;
        } else if (b != batch || d != width)
            throw new IllegalArgumentException("cache holds [" + batch + ", " + length + ", " + width + "], cannot append " + k.shape());
        if (length + t > capacity) {
            int grown = Math.max(length + t, Math.max(16, 2 * capacity));
            keys = regrow(keys, grown);
            values = regrow(values, grown);
            capacity = grown;
        }
        write(k.toFloatArray(), keys, t);
        write(v.toFloatArray(), values, t);
        length += t;
        return new Tensor[] {view(keys), view(values)};
    }

    private float[] regrow(float[] old, int grown) {
        float[] fresh = new float[batch * grown * width];
        for (int n = 0; n < batch; n++) System.arraycopy(old, n * capacity * width, fresh, n * grown * width, length * width);
        return fresh;
    }

    private void write(float[] step, float[] into, int t) {
        for (int n = 0; n < batch; n++) System.arraycopy(step, n * t * width, into, (n * capacity + length) * width, t * width);
    }

    private Tensor view(float[] buffer) {
        return Tensor.of(buffer, batch, capacity, width).slice(1, 0, length);
    }
}
