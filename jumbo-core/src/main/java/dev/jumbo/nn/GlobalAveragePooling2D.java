package dev.jumbo.nn;

import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;

/**
 * Mean over height and width of NHWC images: {@code [h, w, c] -> [c]}, the usual bridge from
 * convolutions to a classifier head.
 */
public final class GlobalAveragePooling2D extends Layer {
    /** The layer (it has no arguments). */
    public GlobalAveragePooling2D() {}

    @Override
    protected void onBuild(Shape inputShape) {}

    @Override
    protected Tensor call(Tensor x) {
        return x.reshape(x.dim(0), x.dim(1) * x.dim(2), x.dim(3)).mean(1, false);
    }

    @Override
    public Shape outputShape(Shape inputShape) {
        if (inputShape.rank() != 3 || inputShape.size() == 0) throw badInput(inputShape, "a non-empty [height, width, channels] image");
        return Shape.of(inputShape.dim(2));
    }
}
