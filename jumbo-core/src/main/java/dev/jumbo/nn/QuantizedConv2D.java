package dev.jumbo.nn;

import dev.jumbo.kernel.ConvGeometry;
import dev.jumbo.kernel.Int8Kernels;
import dev.jumbo.kernel.Int8Matrix;
import dev.jumbo.kernel.Parallel;
import dev.jumbo.tensor.DType;
import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import java.util.Map;

/**
 * A {@link Conv2D} layer after post-training int8 quantization, for inference only: one weight
 * scale per filter, a per-tensor activation scale ({@link ActivationScale}); the image is quantized
 * once, its int8 patches ({@link Int8Kernels#im2col}) multiply the int8 filters with int32 sums, and
 * each output is rescaled in float with the bias added, then the activation.
 *
 * <p>State: {@code kernel} {@code [filters, kh, kw, channels]} (int8 values, saved as I8; each
 * filter's weights contiguous), {@code kernel_scale} {@code [filters]}, {@code bias} {@code [filters]}
 * and, for static scales, {@code input_scale} {@code [1]}.
 *
 * <pre>{@code
 * QuantizedConv2D q = QuantizedConv2D.of(trainedConv, ActivationScale.STATIC, calibratedMax / 127);
 * }</pre>
 */
public final class QuantizedConv2D extends Layer {
    /** Patch bytes one task gathers and multiplies at a time: small enough to stay in L2. */
    private static final int BAND_BYTES = 1 << 16;

    private final ConvWindow window;
    private final int filters, kh, kw; // the window's, read on every call
    private final Activation activation;
    private final ActivationScale scale;
    private Tensor kernel, kernelScale, bias, inputScale;
    private volatile Int8Matrix packed;

    /** An unbuilt layer whose state is then loaded (from a saved model); arguments as {@link Conv2D}'s full form. */
    public QuantizedConv2D(int filters, int kh, int kw, int strideH, int strideW, String padding, Activation activation, ActivationScale scale) {
        this.window = ConvWindow.of("QuantizedConv2D", filters, kh, kw, strideH, strideW, padding);
        this.filters = filters;
        this.kh = kh;
        this.kw = kw;
        this.activation = Check.activation("QuantizedConv2D", activation);
        if (scale == null) throw new IllegalArgumentException("QuantizedConv2D needs an activation scale, dynamic or static");
        this.scale = scale;
    }

    /**
     * Quantizes a built Conv2D layer's filters one scale each; {@code inputScale} (static scales only,
     * else ignored) is the calibrated activation scale.
     */
    public static QuantizedConv2D of(Conv2D trained, ActivationScale scale, float inputScale) {
        if (!trained.isBuilt()) throw new IllegalArgumentException("quantizing a Conv2D layer that is not built: it has no weights yet");
        ConvWindow cw = trained.window();
        Tensor w = trained.kernel().value();
        int filters = cw.filters(), channels = w.dim(2);
        QuantizedConv2D q = new QuantizedConv2D(filters, cw.kh(), cw.kw(), cw.strideH(), cw.strideW(), cw.same() ? "same" : "valid",
                trained.activation(), scale);
        q.build(Shape.of(q.kh, q.kw, channels)); // any input with these channels: the weights depend on nothing else
        Int8Weights.quantize(w.toFloatArray(), q.kh * q.kw * channels, filters, q.kernel.buffer(), q.kernelScale.buffer());
        System.arraycopy(trained.bias().value().toFloatArray(), 0, q.bias.buffer(), 0, filters);
        if (scale == ActivationScale.STATIC) {
            Int8Weights.checkScale("QuantizedConv2D", inputScale);
            q.inputScale.buffer()[0] = inputScale;
        }
        return q;
    }

    public ActivationScale activationScale() {
        return scale;
    }

    @Override
    protected void onBuild(Shape inputShape) {
        kernel = addBuffer("kernel", Tensor.zeros(filters, kh, kw, inputShape.dim(2)));
        kernelScale = addBuffer("kernel_scale", Tensor.zeros(filters));
        bias = addBuffer("bias", Tensor.zeros(filters));
        if (scale == ActivationScale.STATIC) inputScale = addBuffer("input_scale", Tensor.zeros(1));
    }

    @Override
    protected void onStateLoaded() {
        packed = pack(); // now, so a bad saved weight fails the load, not the first prediction
    }

    private Int8Matrix pack() {
        return new Int8Matrix(Int8Weights.pack(name(), kernel), filters, kh * kw * kernel.dim(3));
    }

    @Override
    protected Tensor call(Tensor x) {
        Int8Matrix w = packed;
        if (w == null) packed = w = pack();
        Int8Matrix weights = w;
        ConvGeometry g = ConvGeometry.of(x.dim(0), x.dim(1), x.dim(2), x.dim(3), kh, kw, window.strideH(), window.strideW(), window.same(), filters);
        float[] xs = x.toFloatArray();
        float s = Int8Weights.inputScale(name(), scale, inputScale, xs);
        byte[] xq = new byte[xs.length];
        Int8Kernels.quantize(xs, 0, xs.length, s, xq, 0);
        int rows = g.n() * g.outH() * g.outW(), k = kh * kw * g.c();
        int band = Math.max(4, BAND_BYTES / k), bands = Math.ceilDiv(rows, band);
        float[] y = new float[rows * filters], ws = kernelScale.buffer(), b = bias.buffer();
        boolean relu = activation == Activation.RELU; // fused into the rescaling
        Parallel.forRange(bands, (long) band * k * filters, (from, to) -> {
            byte[] patches = new byte[band * k];
            int[] acc = new int[band * filters];
            for (int i = from; i < to; i++) {
                int r0 = i * band, r1 = Math.min(rows, r0 + band);
                Int8Kernels.im2col(g, xq, r0, r1, patches, 0);
                weights.multiply(patches, r1 - r0, acc);
                Int8Kernels.rescale(acc, r1 - r0, filters, s, ws, b, relu, y, r0 * filters);
            }
        });
        Tensor out = Tensor.of(y, g.n(), g.outH(), g.outW(), filters);
        return relu ? out : activation.apply(out);
    }

    @Override
    public Shape outputShape(Shape inputShape) {
        return window.outputShape(this, inputShape, kernel == null ? -1 : kernel.dim(3));
    }

    /** As {@link Conv2D#flops}, here integer multiply-adds. */
    @Override
    public long flops(Shape inputShape) {
        return window.flops(inputShape, outputShape(inputShape));
    }

    @Override
    public Map<String, DType> storedTypes() {
        return Map.of("kernel", DType.I8);
    }

    @Override
    protected void addConfig(Map<String, Object> config) {
        window.addConfig(config);
        config.put("activation", activation.id());
        config.put("activation_scale", scale.id());
    }
}
