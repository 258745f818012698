package dev.jumbo.nn;

import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;

/** Collapses each example to one axis: {@code [d1, d2, ...] -> [d1 · d2 · ...]}. */
public final class Flatten extends Layer {
    /** The layer (it has no arguments). */
    public Flatten() {}

    @Override
    protected void onBuild(Shape inputShape) {}

    @Override
    protected Tensor call(Tensor x) {
        return x.reshape(x.dim(0), withoutBatch(x.shape()).size());
    }

    @Override
    public Shape outputShape(Shape inputShape) {
        return Shape.of(inputShape.size());
    }
}
