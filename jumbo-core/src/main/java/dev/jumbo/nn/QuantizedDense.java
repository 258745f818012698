package dev.jumbo.nn;

import dev.jumbo.kernel.Int8Kernels;
import dev.jumbo.kernel.Int8Matrix;
import dev.jumbo.tensor.DType;
import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import java.util.Map;

/**
 * A {@link Dense} layer after post-training int8 quantization, for inference only: one weight
 * scale per output unit (symmetric, per channel), a per-tensor activation scale ({@link
 * ActivationScale}), products in int8 with int32 sums ({@link Int8Kernels#gemm}), then
 * {@code y = acc * inputScale * kernelScale[j] + bias[j]} in float and the activation.
 *
 * <p>State: {@code kernel} {@code [units, in]} (int8 values, saved as I8), {@code kernel_scale}
 * {@code [units]}, {@code bias} {@code [units]} and, for static scales, {@code input_scale} {@code [1]}.
 * It has buffers but no trainable parameters: gradients do not flow through it.
 *
 * <pre>{@code
 * QuantizedDense q = QuantizedDense.of(trainedDense, ActivationScale.DYNAMIC, 0);
 * Tensor y = q.forward(x);   // close to trainedDense.forward(x)
 * }</pre>
 */
public final class QuantizedDense extends Layer {
    private final int units;
    private final Activation activation;
    private final ActivationScale scale;
    private Tensor kernel, kernelScale, bias, inputScale;
    private volatile Int8Matrix packed;

    /** An unbuilt layer whose state is then loaded (from a saved model). */
    public QuantizedDense(int units, Activation activation, ActivationScale scale) {
        this.units = Check.positive("QuantizedDense", "units", units);
        this.activation = Check.activation("QuantizedDense", activation);
        if (scale == null) throw new IllegalArgumentException("QuantizedDense needs an activation scale, dynamic or static");
        this.scale = scale;
    }

    /**
     * Quantizes a built Dense layer's weights per unit; {@code inputScale} (static scales only, else
     * ignored) is the calibrated activation scale, {@code max|x| / 127} over the calibration data.
     */
    public static QuantizedDense of(Dense trained, ActivationScale scale, float inputScale) {
        if (!trained.isBuilt()) throw new IllegalArgumentException("quantizing a Dense layer that is not built: it has no weights yet");
        float[] w = trained.kernel().value().toFloatArray();
        int in = trained.kernel().value().dim(0);
        QuantizedDense q = new QuantizedDense(trained.units(), trained.activation(), scale);
        q.build(Shape.of(in));
        Int8Weights.quantize(w, in, q.units, q.kernel.buffer(), q.kernelScale.buffer());
        System.arraycopy(trained.bias().value().toFloatArray(), 0, q.bias.buffer(), 0, q.units);
        if (scale == ActivationScale.STATIC) {
            Int8Weights.checkScale("QuantizedDense", inputScale);
            q.inputScale.buffer()[0] = inputScale;
        }
        return q;
    }

    public int units() {
        return units;
    }

    public ActivationScale activationScale() {
        return scale;
    }

    @Override
    protected void onBuild(Shape inputShape) {
        int in = inputShape.dim(-1);
        kernel = addBuffer("kernel", Tensor.zeros(units, in));
        kernelScale = addBuffer("kernel_scale", Tensor.zeros(units));
        bias = addBuffer("bias", Tensor.zeros(units));
        if (scale == ActivationScale.STATIC) inputScale = addBuffer("input_scale", Tensor.zeros(1));
    }

    @Override
    protected void onStateLoaded() {
        packed = pack(); // now, so a bad saved weight fails the load, not the first prediction
    }

    private Int8Matrix pack() {
        return new Int8Matrix(Int8Weights.pack(name(), kernel), units, kernel.dim(1));
    }

    @Override
    protected Tensor call(Tensor x) {
        int in = kernel.dim(1);
        Int8Matrix w = packed;
        if (w == null) packed = w = pack();
        float[] xs = x.toFloatArray();
        int m = xs.length / in;
        float s = Int8Weights.inputScale(name(), scale, inputScale, xs);
        byte[] xq = new byte[xs.length];
        Int8Kernels.quantize(xs, 0, xs.length, s, xq, 0);
        int[] acc = new int[m * units];
        w.multiply(xq, m, acc);
        float[] y = new float[m * units];
        boolean relu = activation == Activation.RELU; // fused into the rescaling
        Int8Kernels.rescale(acc, m, units, s, kernelScale.buffer(), bias.buffer(), relu, y, 0);
        Tensor out = Tensor.of(y, withLast(x.shape(), units));
        return relu ? out : activation.apply(out);
    }

    @Override
    public Shape outputShape(Shape inputShape) {
        if (inputShape.rank() < 1 || inputShape.dim(-1) == 0) throw badInput(inputShape, "rank >= 1 with a non-empty last axis");
        if (kernel != null && inputShape.dim(-1) != kernel.dim(1))
            throw badInput(inputShape, "last dimension " + kernel.dim(1) + " (it was built for that)");
        return withLast(inputShape, units);
    }

    /** As {@link Dense#flops}: {@code 2 · in · units} per position, here integer multiply-adds. */
    @Override
    public long flops(Shape inputShape) {
        outputShape(inputShape);
        return 2L * inputShape.size() * units;
    }

    @Override
    public Map<String, DType> storedTypes() {
        return Map.of("kernel", DType.I8);
    }

    @Override
    protected void addConfig(Map<String, Object> config) {
        config.put("units", units);
        config.put("activation", activation.id());
        config.put("activation_scale", scale.id());
    }
}
