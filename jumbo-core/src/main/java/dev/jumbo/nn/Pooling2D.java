package dev.jumbo.nn;

import dev.jumbo.tensor.Shape;
import java.util.List;
import java.util.Map;

/** What max and average pooling share: the window, strides, padding, shape rule and config. */
abstract sealed class Pooling2D extends Layer permits MaxPool2D, AvgPool2D {
    final int poolH;
    final int poolW;
    final int strideH;
    final int strideW;
    final boolean same;

    Pooling2D(String type, int poolH, int poolW, int strideH, int strideW, String padding) {
        this.poolH = Check.positive(type, "pool height", poolH);
        this.poolW = Check.positive(type, "pool width", poolW);
        this.strideH = Check.positive(type, "stride height", strideH);
        this.strideW = Check.positive(type, "stride width", strideW);
        this.same = Check.same(type, padding);
    }

    @Override
    protected void onBuild(Shape inputShape) {} // no weights

    @Override
    public Shape outputShape(Shape inputShape) {
        if (inputShape.rank() != 3 || inputShape.size() == 0) throw badInput(inputShape, "a non-empty [height, width, channels] image");
        if (!same && (poolH > inputShape.dim(0) || poolW > inputShape.dim(1)))
            throw badInput(inputShape, "at least " + poolH + "x" + poolW + " pixels for its window with 'valid' padding");
        return Shape.of(ConvWindow.outSize(inputShape.dim(0), poolH, strideH, same), ConvWindow.outSize(inputShape.dim(1), poolW, strideW, same), inputShape.dim(2));
    }

    @Override
    protected void addConfig(Map<String, Object> config) {
        config.put("pool_size", List.of(poolH, poolW));
        config.put("strides", List.of(strideH, strideW));
        config.put("padding", same ? "same" : "valid");
    }
}
