package dev.jumbo.nn;

import dev.jumbo.kernel.ConvGeometry;
import dev.jumbo.kernel.Int8Kernels;
import dev.jumbo.kernel.Int8Matrix;
import dev.jumbo.kernel.Parallel;
import dev.jumbo.tensor.DType;
import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import java.util.List;
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

    private final int filters, kh, kw, strideH, strideW;
    private final boolean same;
    private final Activation activation;
    private final ActivationScale scale;
    private Tensor kernel, kernelScale, bias, inputScale;
    private volatile Int8Matrix packed;

    /** An unbuilt layer whose state is then loaded (from a saved model); arguments as {@link Conv2D}'s full form. */
    public QuantizedConv2D(int filters, int kh, int kw, int strideH, int strideW, String padding, Activation activation, ActivationScale scale) {
        this.filters = Check.positive("QuantizedConv2D", "filters", filters);
        this.kh = Check.positive("QuantizedConv2D", "kernel height", kh);
        this.kw = Check.positive("QuantizedConv2D", "kernel width", kw);
        this.strideH = Check.positive("QuantizedConv2D", "stride height", strideH);
        this.strideW = Check.positive("QuantizedConv2D", "stride width", strideW);
        this.same = Check.same("QuantizedConv2D", padding);
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
        Map<String, Object> c = trained.config();
        List<?> k = (List<?>) c.get("kernel_size"), s = (List<?>) c.get("strides");
        Tensor w = trained.kernel().value();
        int filters = w.dim(3), channels = w.dim(2);
        QuantizedConv2D q = new QuantizedConv2D(filters, w.dim(0), w.dim(1), (Integer) s.get(0), (Integer) s.get(1),
                (String) c.get("padding"), Activation.of((String) c.get("activation")), scale);
        if (!k.equals(List.of(w.dim(0), w.dim(1)))) throw new IllegalStateException("Conv2D kernel " + w.shape() + " does not match its config " + c);
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
        ConvGeometry g = ConvGeometry.of(x.dim(0), x.dim(1), x.dim(2), x.dim(3), kh, kw, strideH, strideW, same, filters);
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
        if (inputShape.rank() != 3 || inputShape.size() == 0) throw badInput(inputShape, "a non-empty [height, width, channels] image");
        if (kernel != null && inputShape.dim(2) != kernel.dim(3))
            throw badInput(inputShape, kernel.dim(3) + " channels (it was built for that)");
        if (!same && (kh > inputShape.dim(0) || kw > inputShape.dim(1)))
            throw badInput(inputShape, "at least " + kh + "x" + kw + " pixels for its kernel with 'valid' padding");
        return Shape.of(Conv2D.outSize(inputShape.dim(0), kh, strideH, same), Conv2D.outSize(inputShape.dim(1), kw, strideW, same), filters);
    }

    /** As {@link Conv2D#flops}, here integer multiply-adds. */
    @Override
    public long flops(Shape inputShape) {
        Shape out = outputShape(inputShape);
        return 2L * out.dim(0) * out.dim(1) * filters * kh * kw * inputShape.dim(2);
    }

    @Override
    public Map<String, DType> storedTypes() {
        return Map.of("kernel", DType.I8);
    }

    @Override
    protected void addConfig(Map<String, Object> config) {
        config.put("filters", filters);
        config.put("kernel_size", List.of(kh, kw));
        config.put("strides", List.of(strideH, strideW));
        config.put("padding", same ? "same" : "valid");
        config.put("activation", activation.id());
        config.put("activation_scale", scale.id());
    }
}
