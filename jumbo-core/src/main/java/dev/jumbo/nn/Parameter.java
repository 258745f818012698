package dev.jumbo.nn;

import dev.jumbo.tensor.Tensor;

/**
 * A named trainable tensor owned by a {@link Module}. Freezing it stops gradients from being
 * computed for it (its tensor gets {@code requiresGrad(false)}), which is how transfer learning
 * keeps a pretrained part fixed.
 *
 * <pre>{@code
 * for (Parameter p : model.parameters())
 *     if (p.name().startsWith("0.")) p.freeze();
 * }</pre>
 */
public final class Parameter {
    private final Module owner;
    private final String localName;
    private Tensor value;
    private boolean trainable = true;

    Parameter(Module owner, String localName, Tensor value) {
        this.owner = owner;
        this.localName = localName;
        this.value = value.requiresGrad(true);
    }

    /**
     * The dot-joined path from the outermost module holding this parameter, e.g. {@code "0.kernel"}
     * inside a container that registered a Dense as {@code "0"}, or {@code "kernel"} for a lone Dense.
     */
    public String name() {
        return owner.pathPrefix() + localName;
    }

    /** The current value; layers read it on every call, so it is safe to update its buffer in place. */
    public Tensor value() {
        return value;
    }

    /** Whether an optimizer should update it (and autograd compute its gradient). */
    public boolean trainable() {
        return trainable;
    }

    /** Stops training this parameter: its tensor no longer requires a gradient. */
    public void freeze() {
        trainable = false;
        value.zeroGrad();
        value.requiresGrad(false);
    }

    /** Resumes training this parameter. */
    public void unfreeze() {
        trainable = true;
        value.requiresGrad(true);
    }

    /**
     * Replaces the tensor (same shape), e.g. to share weights without copying them or to let a
     * gradient check substitute its own leaves. The new tensor's {@code requiresGrad} follows
     * {@link #trainable()}.
     *
     * @throws IllegalArgumentException naming this parameter if the shape differs
     */
    public void set(Tensor newValue) {
        if (!newValue.shape().equals(value.shape()))
            throw new IllegalArgumentException("parameter '" + name() + "' has shape " + value.shape() + ", cannot set a tensor of shape " + newValue.shape());
        if (newValue.requiresGrad() != trainable) newValue.requiresGrad(trainable);
        value = newValue;
    }

    @Override
    public String toString() {
        return "Parameter " + name() + " " + value.shape() + (trainable ? "" : " frozen");
    }
}
