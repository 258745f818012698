package dev.jumbo.compress;

import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.train.Sequential;
import java.util.List;

/**
 * How much of one Dense or Conv2D layer is zero: its kernel's exact zeros among its weights, and
 * the layer's parameter count (kernel and bias).
 *
 * <pre>{@code
 * for (LayerSparsity s : LayerSparsity.of(model))
 *     System.out.printf("%s %s %.1f%%%n", s.layer(), s.kernelShape(), 100 * s.sparsity());
 * }</pre>
 *
 * @param layer       the name {@link Sequential#summary()} gives the layer, e.g. {@code conv2d_0}
 * @param kernelShape the kernel's shape
 * @param parameters  the layer's parameters, kernel and bias
 * @param weights     the kernel's elements
 * @param zeros       the kernel's elements that are exactly zero
 */
public record LayerSparsity(String layer, Shape kernelShape, long parameters, long weights, long zeros) {
    /** The fraction of the kernel that is zero. */
    public double sparsity() {
        return weights == 0 ? 0 : zeros / (double) weights;
    }

    /** One entry per Dense and Conv2D layer of {@code model}, in order. */
    public static List<LayerSparsity> of(Sequential model) {
        return PrunableKernel.of(model).stream().map(k -> {
            long params = 0;
            for (Tensor t : k.layer().stateDict().values()) params += t.size();
            long zeros = 0;
            for (float v : k.values()) if (v == 0f) zeros++;
            return new LayerSparsity(k.name(), k.kernel().value().shape(), params, k.values().length, zeros);
        }).toList();
    }

    /** The zeros over all kernels of {@code layers} divided by their weights. */
    public static double overall(List<LayerSparsity> layers) {
        long w = 0, z = 0;
        for (LayerSparsity s : layers) {
            w += s.weights;
            z += s.zeros;
        }
        return w == 0 ? 0 : z / (double) w;
    }
}
