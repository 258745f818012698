package dev.jumbo.nn;

import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
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
    private final ConvWindow window;
    private final Activation activation;
    private Parameter kernel;
    private Parameter bias;

    /** A square {@code kernelSize} convolution with stride 1 and 'valid' padding. */
    public Conv2D(int filters, int kernelSize, Activation activation) {
        this(filters, kernelSize, kernelSize, 1, 1, "valid", activation);
    }

    /** The full form; {@code padding} is "valid" or "same". */
    public Conv2D(int filters, int kh, int kw, int strideH, int strideW, String padding, Activation activation) {
        this.window = ConvWindow.of("Conv2D", filters, kh, kw, strideH, strideW, padding);
        this.activation = Check.activation("Conv2D", activation);
    }

    /** What it slides over its input. */
    ConvWindow window() {
        return window;
    }

    Activation activation() {
        return activation;
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
        int c = inputShape.dim(2), kh = window.kh(), kw = window.kw(), filters = window.filters();
        kernel = addParameter("kernel", Init.glorotUniform(kh * kw * c, kh * kw * filters, kh, kw, c, filters));
        bias = addParameter("bias", Init.zeros(filters));
    }

    @Override
    protected Tensor call(Tensor x) {
        if (activation == Activation.RELU) return x.conv2dRelu(kernel.value(), bias.value(), window.strideH(), window.strideW(), window.same());
        return activation.apply(x.conv2d(kernel.value(), bias.value(), window.strideH(), window.strideW(), window.same()));
    }

    @Override
    public Shape outputShape(Shape inputShape) {
        return window.outputShape(this, inputShape, kernel == null ? -1 : kernel.value().dim(2));
    }

    /** {@code 2 · outH · outW · filters · kh · kw · channels}; bias and activation are not counted. */
    @Override
    public long flops(Shape inputShape) {
        return window.flops(inputShape, outputShape(inputShape));
    }

    @Override
    protected void addConfig(Map<String, Object> config) {
        window.addConfig(config);
        config.put("activation", activation.id());
    }
}
