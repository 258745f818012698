package dev.jumbo.nn;

import dev.jumbo.kernel.Int8Kernels;
import dev.jumbo.tensor.Tensor;

/** The parts quantized int8 layers share: per-output-channel weight quantization and the activation scale of a batch. */
final class Int8Weights {
    private Int8Weights() {}

    /**
     * Symmetric per-channel quantization of a {@code [k, channels]} float matrix (Dense's kernel, or
     * Conv2D's with its first three axes flattened): channel j gets {@code scale[j] = max|w[:, j]| / 127}
     * and row j of {@code q} ({@code [channels, k]}, transposed so a channel's weights are
     * contiguous for the dot products) holds {@code rint(w[t, j] / scale[j])}, in [-127, 127].
     */
    static void quantize(float[] w, int k, int channels, float[] q, float[] scale) {
        for (int j = 0; j < channels; j++) {
            float max = 0;
            for (int t = 0; t < k; t++) max = Math.max(max, Math.abs(w[t * channels + j]));
            scale[j] = max / 127;
            float inverse = max > 0 ? 127 / max : 0;
            for (int t = 0; t < k; t++) q[j * k + t] = Math.clamp((float) Math.rint(w[t * channels + j] * inverse), -127f, 127f);
        }
    }

    /**
     * The int8 values held (exactly) as floats in a state buffer, as bytes for the kernels.
     *
     * @throws IllegalArgumentException if a value is not an integer in [-127, 127] (a saved file's -128 included)
     */
    static byte[] pack(String layer, Tensor q) {
        float[] v = q.buffer();
        byte[] b = new byte[v.length];
        for (int i = 0; i < v.length; i++) {
            if (!(v[i] == Math.rint(v[i]) && Math.abs(v[i]) <= 127))
                throw new IllegalArgumentException(layer + " int8 weight " + i + " is " + v[i] + ", not an integer in [-127, 127]");
            b[i] = (byte) v[i];
        }
        return b;
    }

    /**
     * The per-tensor scale of a batch: the calibrated one, or {@code max|x| / 127} of these values.
     *
     * @throws IllegalArgumentException naming the layer if the scale is not finite (a NaN or infinite input, a corrupt saved scale)
     */
    static float inputScale(String layer, ActivationScale mode, Tensor calibrated, float[] x) {
        float s = mode == ActivationScale.STATIC ? calibrated.buffer()[0] : Int8Kernels.maxAbs(x, 0, x.length) / 127;
        if (mode == ActivationScale.DYNAMIC && !Float.isFinite(s))
            throw new IllegalArgumentException(layer + " cannot quantize an input holding NaN or infinity");
        checkScale(layer, s);
        return s;
    }

    static void checkScale(String layer, float inputScale) {
        if (!(inputScale >= 0 && Float.isFinite(inputScale)))
            throw new IllegalArgumentException(layer + " needs a finite input scale >= 0 for static activations, got " + inputScale);
    }
}
