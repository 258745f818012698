package dev.jumbo.nn;

import dev.jumbo.tensor.Tensor;

/**
 * Average pooling over NHWC images; with 'same' padding the padded positions are not counted
 * (Keras behaviour).
 *
 * <pre>{@code
 * new AvgPool2D(2).forward(x);   // x [batch, 28, 28, c] -> [batch, 14, 14, c]
 * }</pre>
 */
public final class AvgPool2D extends Pooling2D {
    /** A {@code pool x pool} window moved by {@code pool}, 'valid' padding (Keras defaults). */
    public AvgPool2D(int pool) {
        this(pool, pool, pool, pool, "valid");
    }

    /** The full form; {@code padding} is "valid" or "same". */
    public AvgPool2D(int poolH, int poolW, int strideH, int strideW, String padding) {
        super("AvgPool2D", poolH, poolW, strideH, strideW, padding);
    }

    @Override
    protected Tensor call(Tensor x) {
        return x.avgPool2d(poolH, poolW, strideH, strideW, same);
    }
}
