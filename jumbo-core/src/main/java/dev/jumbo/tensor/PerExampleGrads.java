package dev.jumbo.tensor;

import java.util.IdentityHashMap;
import java.util.Map;

/**
 * A scope (like {@link GradMode}) in which the backward of {@link Tensor#linear},
 * {@link Tensor#conv2d}, {@link Tensor#rows} and {@link Tensor#layerNorm} gives, for each leaf
 * parameter they read, the gradient of every example of the batch separately, from the same
 * pass: {@code x_b^T dy_b} for a linear map (summed over the positions of a sequence),
 * example {@code b}'s patches{@code ^T dy_b} for a convolution, a scatter of example b's rows
 * for an embedding lookup, and {@code dy_b · xhat_b}, {@code dy_b} summed over its positions for
 * a layer norm's scale and shift. Nothing runs one example at a time.
 *
 * <p>Inside the scope those parameters get no ordinary {@link Tensor#grad()} (their batch
 * gradient is the sum of the per-example ones); a parameter that still gets one was read by
 * an operation without per-example support, which the caller should refuse. An input's leading
 * {@code batch} blocks of rows are the examples: {@code [batch, ...]}, or a tensor reshaped from
 * it with the batch outermost.
 *
 * <pre>{@code
 * try (var perExample = PerExampleGrads.record(x.dim(0))) {
 *     loss.compute(model.forward(x), y).backward();
 *     float[] g = perExample.of(dense.kernel().value());   // [batch * in * units]
 * }
 * }</pre>
 */
public final class PerExampleGrads implements AutoCloseable {
    private static final ThreadLocal<PerExampleGrads> ACTIVE = new ThreadLocal<>();

    private final int batch;
    private final PerExampleGrads outer;
    private final Map<Tensor, float[]> grads = new IdentityHashMap<>();

    private PerExampleGrads(int batch, PerExampleGrads outer) {
        this.batch = batch;
        this.outer = outer;
    }

    /** Starts recording per-example gradients of a batch of {@code batch} examples on this thread. */
    public static PerExampleGrads record(int batch) {
        if (batch <= 0) throw new IllegalArgumentException("per-example gradients need a positive batch size, got " + batch);
        PerExampleGrads scope = new PerExampleGrads(batch, ACTIVE.get());
        ACTIVE.set(scope);
        return scope;
    }

    /** The examples in the batch. */
    public int batch() {
        return batch;
    }

    /** The {@code [batch, size of t]} per-example gradients of leaf {@code t}, row-major; null if none arrived. */
    public float[] of(Tensor t) {
        return grads.get(t);
    }

    /** The scope open on this thread whose per-example gradients {@code t} should get, or null. */
    static PerExampleGrads forParameter(Tensor t) {
        PerExampleGrads scope = ACTIVE.get();
        return scope != null && t.requiresGrad() && t.isLeaf() ? scope : null;
    }

    /** Rows per example when {@code rows} rows hold the batch, outermost; refuses what does not divide. */
    int rowsPerExample(int rows, String op, Shape shape) {
        if (rows % batch != 0)
            throw new IllegalArgumentException(op + " input " + shape + " does not split into the " + batch + " examples of the batch: per-example gradients need the batch outermost");
        return rows / batch;
    }

    /** Adds {@code perExample} ({@code [batch, size of t]}) into {@code t}'s per-example gradients. */
    void add(Tensor t, float[] perExample) {
        if (perExample.length != batch * t.size())
            throw new IllegalArgumentException("per-example gradient of " + perExample.length + " values for " + batch + " examples of a tensor of shape " + t.shape());
        float[] acc = grads.get(t);
        if (acc == null) grads.put(t, perExample);
        else for (int i = 0; i < acc.length; i++) acc[i] += perExample[i];
    }

    /** Ends recording; an enclosing scope, if any, records again. */
    @Override
    public void close() {
        if (ACTIVE.get() != this) throw new IllegalStateException("per-example gradient scopes must close in the order they opened");
        if (outer == null) ACTIVE.remove();
        else ACTIVE.set(outer);
    }
}
