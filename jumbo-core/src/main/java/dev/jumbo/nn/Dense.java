package dev.jumbo.nn;

import dev.jumbo.lora.LoraAdapter;
import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * A fully connected layer on the last axis: {@code activation(x · kernel + bias)} with kernel
 * {@code [in, units]} (Glorot uniform) and bias {@code [units]} (zeros). Inputs of higher rank,
 * e.g. {@code [time, in]}, are transformed at every position.
 *
 * <pre>{@code
 * Tensor y = new Dense(10, Activation.SOFTMAX).forward(x);   // x [batch, 784] -> y [batch, 10]
 * }</pre>
 *
 * <p>LoRA {@link LoraAdapter}s can be attached beside the kernel: the layer then computes
 * {@code activation(x · kernel + bias + Σ scale · dropout(x) · A · B)}, each adapter over its own
 * range of output columns. The adapters are not parameters of the layer (its state dict stays the
 * base weights); {@link #mergeAdapters} folds them into the kernel.
 */
public final class Dense extends Layer {
    private final int units;
    private final Activation activation;
    private Parameter kernel;
    private Parameter bias;
    private final List<LoraAdapter> adapters = new ArrayList<>();

    /** A linear layer (no activation). */
    public Dense(int units) {
        this(units, Activation.LINEAR);
    }

    /** A layer with {@code units} outputs followed by {@code activation}. */
    public Dense(int units, Activation activation) {
        this.units = Check.positive("Dense", "units", units);
        this.activation = Check.activation("Dense", activation);
    }

    /** Number of outputs. */
    public int units() {
        return units;
    }

    /** The activation applied after the affine map. */
    public Activation activation() {
        return activation;
    }

    /** The {@code [in, units]} weight matrix; null until built. */
    public Parameter kernel() {
        return kernel;
    }

    /** The {@code [units]} bias; null until built. */
    public Parameter bias() {
        return bias;
    }

    /**
     * Attaches a LoRA adapter; the layer must be built. Adapters may not cover the same output column twice.
     *
     * @throws IllegalArgumentException naming the sizes if the adapter does not fit the kernel or overlaps another
     */
    public void attach(LoraAdapter adapter) {
        if (kernel == null) throw new IllegalStateException(name() + " is not built: build it before attaching a LoRA adapter");
        int in = kernel.value().dim(0);
        if (adapter.in() != in || adapter.offset() + adapter.width() > units)
            throw new IllegalArgumentException(name() + " [" + in + ", " + units + "] cannot take a LoRA adapter with " + adapter.in() + " inputs over outputs "
                    + adapter.offset() + ".." + (adapter.offset() + adapter.width()));
        for (LoraAdapter other : adapters)
            if (adapter.offset() < other.offset() + other.width() && other.offset() < adapter.offset() + adapter.width())
                throw new IllegalArgumentException(name() + " already has a LoRA adapter over outputs " + other.offset() + ".." + (other.offset() + other.width()));
        adapters.add(adapter);
        adapters.sort(java.util.Comparator.comparingInt(LoraAdapter::offset));
    }

    /** The attached adapters, by first output column (read-only). */
    public List<LoraAdapter> adapters() {
        return Collections.unmodifiableList(adapters);
    }

    /** Removes the adapters without touching the kernel; returns them. */
    public List<LoraAdapter> detachAdapters() {
        List<LoraAdapter> out = List.copyOf(adapters);
        adapters.clear();
        return out;
    }

    /** Folds each adapter into the kernel ({@code kernel[:, cols] += scale · A B}) and detaches them. */
    public void mergeAdapters() {
        for (LoraAdapter adapter : adapters) adapter.mergeInto(kernel.value().buffer(), units);
        adapters.clear();
    }

    @Override
    protected void onBuild(Shape inputShape) {
        int in = inputShape.dim(-1);
        kernel = addParameter("kernel", Init.glorotUniform(in, units, in, units));
        bias = addParameter("bias", Init.zeros(units));
    }

    @Override
    protected Tensor call(Tensor x) {
        Tensor y = x.linear(kernel.value(), bias.value());
        if (!adapters.isEmpty()) y = y.add(adapterDelta(x));
        return activation.apply(y);
    }

    /** The adapters' updates over all {@code units} columns: zeros where none applies. */
    private Tensor adapterDelta(Tensor x) {
        List<Tensor> parts = new ArrayList<>();
        int[] lead = x.shape().toArray();
        int column = 0;
        for (LoraAdapter adapter : adapters) {
            if (adapter.offset() > column) parts.add(zeros(lead, adapter.offset() - column));
            parts.add(adapter.delta(x, isTraining(), Init.random()));
            column = adapter.offset() + adapter.width();
        }
        if (column < units) parts.add(zeros(lead, units - column));
        return parts.size() == 1 ? parts.getFirst() : Tensor.concat(lead.length - 1, parts);
    }

    private static Tensor zeros(int[] lead, int width) {
        int[] d = lead.clone();
        d[d.length - 1] = width;
        return Tensor.zeros(d);
    }

    @Override
    public Shape outputShape(Shape inputShape) {
        if (inputShape.rank() < 1 || inputShape.dim(-1) == 0) throw badInput(inputShape, "rank >= 1 with a non-empty last axis");
        if (kernel != null && inputShape.dim(-1) != kernel.value().dim(0))
            throw badInput(inputShape, "last dimension " + kernel.value().dim(0) + " (it was built for that)");
        return withLast(inputShape, units);
    }

    /** {@code 2 · in · units} per position along the leading axes; bias and activation are not counted. */
    @Override
    public long flops(Shape inputShape) {
        outputShape(inputShape);
        return 2L * inputShape.size() * units;
    }

    @Override
    protected void addConfig(Map<String, Object> config) {
        config.put("units", units);
        config.put("activation", activation.id());
    }
}
