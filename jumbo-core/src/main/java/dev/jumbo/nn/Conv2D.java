package dev.jumbo.nn;

import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import java.util.List;
import java.util.Map;

/**
 * 2-D convolution over NHWC images ({@code [height, width, channels]} per example), Keras style:
 * kernel {@code [kh, kw, channels, filters]} (Glorot uniform), bias {@code [filters]} (zeros),
 * 'valid' or 'same' padding ('same' gives {@code ceil(size / stride)} outputs, extra padding at
 * the bottom/right).
 *
 * <pre>{@code
 * Layer conv = new Conv2D(32, 3, Activation.RELU);                       // 3x3, stride 1, valid
 * Layer down = new Conv2D(64, 3, 3, 2, 2, "same", Activation.RELU);      // halves height and width
 * }</pre>
 */
public final class Conv2D extends Layer {
    private final int filters;
    private final int kh;
    private final int kw;
    private final int strideH;
    private final int strideW;
    private final boolean same;
    private final Activation activation;
    private Parameter kernel;
    private Parameter bias;

    /** A square {@code kernelSize} convolution with stride 1 and 'valid' padding. */
    public Conv2D(int filters, int kernelSize, Activation activation) {
        this(filters, kernelSize, kernelSize, 1, 1, "valid", activation);
    }

    /** The full form; {@code padding} is "valid" or "same". */
    public Conv2D(int filters, int kh, int kw, int strideH, int strideW, String padding, Activation activation) {
        this.filters = Check.positive("Conv2D", "filters", filters);
        this.kh = Check.positive("Conv2D", "kernel height", kh);
        this.kw = Check.positive("Conv2D", "kernel width", kw);
        this.strideH = Check.positive("Conv2D", "stride height", strideH);
        this.strideW = Check.positive("Conv2D", "stride width", strideW);
        this.same = Check.same("Conv2D", padding);
        this.activation = Check.activation("Conv2D", activation);
    }

    /** The {@code [kh, kw, channels, filters]} kernel; null until built. */
    public Parameter kernel() {
        return kernel;
    }

    /** The {@code [filters]} bias; null until built. */
    public Parameter bias() {
        return bias;
    }

    @Override
    protected void onBuild(Shape inputShape) {
        int c = inputShape.dim(2);
        kernel = addParameter("kernel", Init.glorotUniform(kh * kw * c, kh * kw * filters, kh, kw, c, filters));
        bias = addParameter("bias", Init.zeros(filters));
    }

    @Override
    protected Tensor call(Tensor x) {
        if (activation == Activation.RELU) return x.conv2dRelu(kernel.value(), bias.value(), strideH, strideW, same);
        return activation.apply(x.conv2d(kernel.value(), bias.value(), strideH, strideW, same));
    }

    @Override
    public Shape outputShape(Shape inputShape) {
        if (inputShape.rank() != 3 || inputShape.size() == 0) throw badInput(inputShape, "a non-empty [height, width, channels] image");
        if (kernel != null && inputShape.dim(2) != kernel.value().dim(2))
            throw badInput(inputShape, kernel.value().dim(2) + " channels (it was built for that)");
        if (!same && (kh > inputShape.dim(0) || kw > inputShape.dim(1)))
            throw badInput(inputShape, "at least " + kh + "x" + kw + " pixels for its kernel with 'valid' padding");
        return Shape.of(outSize(inputShape.dim(0), kh, strideH, same), outSize(inputShape.dim(1), kw, strideW, same), filters);
    }

    /** {@code 2 · outH · outW · filters · kh · kw · channels}; bias and activation are not counted. */
    @Override
    public long flops(Shape inputShape) {
        Shape out = outputShape(inputShape);
        return 2L * out.dim(0) * out.dim(1) * filters * kh * kw * inputShape.dim(2);
    }

    @Override
    protected void addConfig(Map<String, Object> config) {
        config.put("filters", filters);
        config.put("kernel_size", List.of(kh, kw));
        config.put("strides", List.of(strideH, strideW));
        config.put("padding", same ? "same" : "valid");
        config.put("activation", activation.id());
    }

    /** Output length of a sliding window along one axis, Keras rules. */
    static int outSize(int in, int window, int stride, boolean same) {
        return same ? Math.ceilDiv(in, stride) : (in - window) / stride + 1;
    }
}
