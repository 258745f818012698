package dev.jumbo.nn;

import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import java.util.Map;

/** An {@link Activation} as a layer of its own (Keras's {@code Activation} layer). */
public final class ActivationLayer extends Layer {
    private final Activation activation;

    /** The layer applying {@code activation}. */
    public ActivationLayer(Activation activation) {
        this.activation = Check.activation("ActivationLayer", activation);
    }

    /** The function applied. */
    public Activation activation() {
        return activation;
    }

    @Override
    protected void onBuild(Shape inputShape) {}

    @Override
    protected Tensor call(Tensor x) {
        return activation.apply(x);
    }

    @Override
    public Shape outputShape(Shape inputShape) {
        if (activation == Activation.SOFTMAX && (inputShape.rank() == 0 || inputShape.dim(-1) == 0))
            throw badInput(inputShape, "a non-empty last axis for softmax");
        return inputShape;
    }

    @Override
    protected void addConfig(Map<String, Object> config) {
        config.put("activation", activation.id());
    }
}
