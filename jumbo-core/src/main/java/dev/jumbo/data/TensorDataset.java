package dev.jumbo.data;

import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import java.util.Arrays;
import java.util.Objects;

/**
 * A dataset held in two tensors: inputs {@code x} of shape {@code [n, ...]} and targets {@code y}
 * of shape {@code [n, ...]} (often {@code [n]} class ids), example {@code i} being row {@code i}
 * of each.
 *
 * <pre>{@code
 * TensorDataset all = new TensorDataset(x, y);
 * TensorDataset[] parts = all.split(0.2);    // parts[0]: first 80% (train), parts[1]: last 20%
 * }</pre>
 */
public final class TensorDataset implements Dataset {
    private final Tensor x;
    private final Tensor y;

    /**
     * A dataset over {@code x} and {@code y}; views are copied once, dense tensors are shared.
     *
     * @throws IllegalArgumentException if either tensor is a scalar or their first dimensions differ
     */
    public TensorDataset(Tensor x, Tensor y) {
        Objects.requireNonNull(x, "x");
        Objects.requireNonNull(y, "y");
        if (x.rank() == 0 || y.rank() == 0)
            throw new IllegalArgumentException("x and y need a first (example) dimension; shapes are " + x.shape() + " and " + y.shape());
        if (x.dim(0) != y.dim(0))
            throw new IllegalArgumentException("x has " + x.dim(0) + " examples but y has " + y.dim(0) + " (shapes " + x.shape() + " and " + y.shape() + ")");
        this.x = dense(x);
        this.y = dense(y);
    }

    /**
     * A contiguous tensor is shared ({@link Tensor#rows} reads it in place); other views are copied
     * once. The data is detached from any autograd graph: examples are inputs, not parameters.
     */
    private static Tensor dense(Tensor t) {
        return t.isContiguous() ? t.detach() : Tensor.of(t.toFloatArray(), t.shape());
    }

    /** The inputs, {@code [n, ...]}. */
    public Tensor x() {
        return x;
    }

    /** The targets, {@code [n, ...]}. */
    public Tensor y() {
        return y;
    }

    @Override
    public int size() {
        return x.dim(0);
    }

    @Override
    public Batch batch(int[] indices) {
        return new Batch(x.rows(indices), y.rows(indices));
    }

    @Override
    public Shape exampleShape() {
        int[] d = x.shape().toArray();
        return Shape.of(Arrays.copyOfRange(d, 1, d.length));
    }

    /**
     * Splits off the last {@code fraction} of the examples, in order and without shuffling, as
     * Keras' {@code validation_split} does: the split point is {@code floor(n * (1 - fraction))}.
     *
     * @return {@code [train, validation]}
     * @throws IllegalArgumentException if {@code fraction} is not in (0, 1) or either part would be empty
     */
    public TensorDataset[] split(double fraction) {
        if (!(fraction > 0 && fraction < 1))
            throw new IllegalArgumentException("validation fraction must be between 0 and 1 (exclusive), got " + fraction);
        int n = size();
        int at = (int) Math.floor(n * (1.0 - fraction));
        if (at == 0 || at == n)
            throw new IllegalArgumentException("the dataset has " + n + " examples, too few to split off a fraction of " + fraction
                    + " and keep both parts non-empty; use more data or another fraction");
        return new TensorDataset[] {range(0, at), range(at, n)};
    }

    private TensorDataset range(int from, int to) {
        return new TensorDataset(x.slice(0, from, to), y.slice(0, from, to));
    }
}
