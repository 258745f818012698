package dev.jumbo.privacy;

import dev.jumbo.loss.Loss;
import dev.jumbo.nn.BatchNormalization;
import dev.jumbo.nn.Module;
import dev.jumbo.nn.Parameter;
import dev.jumbo.tensor.PerExampleGrads;
import dev.jumbo.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * Each example's gradient of the loss with respect to every trainable parameter of a model, from
 * one forward and one backward pass over the batch ({@link PerExampleGrads} underneath). Dense,
 * Conv2D, Embedding and LayerNorm (and what is built from them) are covered; a model holding
 * BatchNormalization is refused before it runs, and a parameter read by any other operation is
 * refused by name after the pass.
 *
 * <pre>{@code
 * var g = PerExampleGradients.compute(model, new SparseCategoricalCrossentropy(), x, y);
 * float[] first = g.perExample().get(0);   // [batch * size of g.parameters().get(0)]
 * }</pre>
 */
public final class PerExampleGradients {
    /** The gradients of each trainable parameter, {@code [batch, parameter size]} each, and the batch's mean loss. */
    public record Result(List<Parameter> parameters, List<float[]> perExample, int batch, double loss) {}

    private PerExampleGradients() {}

    /**
     * Refuses a model with a layer that mixes the examples of a batch.
     *
     * @throws IllegalArgumentException naming the layer and what to use instead
     */
    public static void requireSupported(Module model) {
        visit(model, "model");
    }

    private static void visit(Module m, String path) {
        if (m instanceof BatchNormalization)
            throw new IllegalArgumentException(path + " is a BatchNormalization: BatchNormalization mixes examples of a batch; "
                    + "DP-SGD needs per-example gradients: remove it or use LayerNorm");
        m.children().forEach((name, child) -> visit(child, path + "." + name));
    }

    /**
     * The per-example gradients of {@code loss} (a mean over the batch, as every {@link Loss} is)
     * on {@code x}, {@code y}: each is the gradient of that example's own loss.
     */
    public static Result compute(Module model, Loss loss, Tensor x, Tensor y) {
        requireSupported(model);
        int batch = x.dim(0);
        List<Parameter> params = new ArrayList<>();
        for (Parameter p : model.parameters()) if (p.trainable()) params.add(p);
        model.zeroGrad();
        List<float[]> grads = new ArrayList<>();
        double value;
        try (PerExampleGrads scope = PerExampleGrads.record(batch)) {
            Tensor l = loss.compute(model.forward(x), y);
            value = l.item();
            l.backward();
            for (Parameter p : params) {
                if (p.value().grad() != null)
                    throw new IllegalArgumentException("parameter '" + p.name() + "' is read by an operation without per-example gradients "
                            + "(DP-SGD supports Dense, Conv2D, Embedding and LayerNorm parameters)");
                float[] g = scope.of(p.value());
                if (g == null) g = new float[batch * p.value().size()];   // it did not touch the loss
                // the loss is the batch mean: example b's own gradient is batch times its share
                for (int i = 0; i < g.length; i++) g[i] *= batch;
                grads.add(g);
            }
        }
        return new Result(List.copyOf(params), grads, batch, value);
    }
}
