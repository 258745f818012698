package dev.jumbo.compress;

import dev.jumbo.nn.Conv2D;
import dev.jumbo.nn.Dense;
import dev.jumbo.nn.Layer;
import dev.jumbo.nn.Parameter;
import dev.jumbo.train.Sequential;
import java.util.ArrayList;
import java.util.List;

/**
 * The weight matrix of a Dense or Conv2D layer of a {@link Sequential}, which pruning works on;
 * biases are left alone (they are few, and zeroing them buys nothing).
 *
 * @param index  the layer's position in the model
 * @param name   the name {@link Sequential#summary()} gives it, e.g. {@code dense_5}
 * @param layer  the layer
 * @param kernel its kernel ({@code [in, units]} or {@code [kh, kw, channels, filters]})
 */
record PrunableKernel(int index, String name, Layer layer, Parameter kernel) {
    /** The Dense and Conv2D kernels of {@code model}, in layer order. */
    static List<PrunableKernel> of(Sequential model) {
        List<PrunableKernel> out = new ArrayList<>();
        List<Layer> layers = model.layers();
        for (int i = 0; i < layers.size(); i++) {
            Layer l = layers.get(i);
            Parameter k = switch (l) {
                case Dense d -> d.kernel();
                case Conv2D c -> c.kernel();
                default -> null;
            };
            if (k != null) out.add(new PrunableKernel(i, l.name() + "_" + i, l, k));
        }
        if (out.isEmpty()) throw new IllegalArgumentException("the model has no Dense or Conv2D layer to prune");
        return out;
    }

    /** The kernel's values, in place: writing to it changes the model. */
    float[] values() {
        return kernel.value().buffer();
    }
}
