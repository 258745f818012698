package dev.jumbo.nn;

import dev.jumbo.tensor.Tensor;

/**
 * Max pooling over NHWC images; the gradient flows to the first maximum of each window.
 *
 * <pre>{@code
 * new MaxPool2D(2).forward(x);   // x [batch, 28, 28, c] -> [batch, 14, 14, c]
 * }</pre>
 */
public final class MaxPool2D extends Pooling2D {
    /** A {@code pool x pool} window moved by {@code pool}, 'valid' padding (Keras defaults). */
    public MaxPool2D(int pool) {
        this(pool, pool, pool, pool, "valid");
    }

    /** The full form; {@code padding} is "valid" or "same". */
    public MaxPool2D(int poolH, int poolW, int strideH, int strideW, String padding) {
        super("MaxPool2D", poolH, poolW, strideH, strideW, padding);
    }

    @Override
    protected Tensor call(Tensor x) {
        return x.maxPool2d(poolH, poolW, strideH, strideW, same);
    }
}
