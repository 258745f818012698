package dev.jumbo.compress;

import dev.jumbo.nn.Activation;
import dev.jumbo.nn.ActivationLayer;
import dev.jumbo.nn.AvgPool2D;
import dev.jumbo.nn.Conv2D;
import dev.jumbo.nn.Dense;
import dev.jumbo.nn.Dropout;
import dev.jumbo.nn.Flatten;
import dev.jumbo.nn.GlobalAveragePooling2D;
import dev.jumbo.nn.Layer;
import dev.jumbo.nn.Layers;
import dev.jumbo.nn.MaxPool2D;
import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.train.Sequential;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * Removes whole neurons (Dense units) and filters (Conv2D output channels) with the smallest L1
 * norm of their incoming weights, and builds a smaller model without them: each pruned layer has
 * fewer outputs, and the next layer with weights loses the matching inputs (the kernel rows of a
 * Dense after a Flatten, one per position of the channel, or the input channels of a Conv2D).
 * The output layer keeps its units. Unlike masks, this shrinks the matrices, so the model is
 * smaller on disk and faster to run.
 *
 * <p>Before any fine-tuning the smaller model computes exactly what the original computes with
 * the removed units' weights and biases set to zero, because a removed unit's activation of 0 is
 * 0 (models whose pruned layers end in sigmoid or softmax are refused for that reason). Between
 * two layers with weights only parameter-free layers that act on each channel alone may stand:
 * pooling, Flatten, Dropout and activations.
 *
 * <pre>{@code
 * StructuredPruning.Result r = StructuredPruning.prune(cnn, 0.5);   // half the filters and hidden units
 * Sequential smaller = r.model();
 * }</pre>
 */
public final class StructuredPruning {
    private StructuredPruning() {}

    /**
     * What became of one layer with weights.
     *
     * @param index  the layer's position in the model
     * @param layer  the name {@link Sequential#summary()} gives it
     * @param before units or filters before pruning
     * @param kept   the indices of the units kept, ascending
     */
    public record LayerUnits(int index, String layer, int before, int[] kept) {
        public LayerUnits {
            kept = kept.clone();
        }

        @Override
        public int[] kept() {
            return kept.clone();
        }
    }

    /** The smaller model and, per Dense and Conv2D layer, which units it kept. */
    public record Result(Sequential model, List<LayerUnits> layers) {
        public Result {
            layers = List.copyOf(layers);
        }
    }

    /**
     * A copy of {@code model} without the {@code round(fraction * units)} units of smallest L1
     * norm in each Dense and Conv2D layer but the last (at least one unit stays). The original is
     * not changed.
     *
     * @throws IllegalArgumentException if {@code fraction} is not in [0, 1), or a layer cannot be pruned this way (named)
     */
    public static Result prune(Sequential model, double fraction) {
        if (!(fraction >= 0 && fraction < 1)) throw new IllegalArgumentException("fraction of units to remove must be in [0, 1), got " + fraction);
        List<Layer> layers = model.layers();
        int last = PrunableKernel.of(model).getLast().index();
        Shape shape = model.inputShape();
        int[] keptChannels = null; // kept indices of the current tensor's last axis; null while all are there
        List<Layer> smaller = new ArrayList<>();
        Map<String, Tensor> state = new LinkedHashMap<>();
        List<LayerUnits> report = new ArrayList<>();
        for (int i = 0; i < layers.size(); i++) {
            Layer layer = layers.get(i);
            String name = layer.name() + "_" + i;
            Map<String, Object> config = new LinkedHashMap<>(layer.config());
            switch (layer) {
                case Dense d -> {
                    int[] keep = i == last ? all(d.units()) : strongest(d.kernel().value(), fraction);
                    if (i != last) requireZeroAtZero(d.activation(), name);
                    Tensor kernel = d.kernel().value();
                    state.put(i + ".kernel", slice(kernel, 1, keptChannels == null ? all(kernel.dim(0)) : keptChannels, keep));
                    state.put(i + ".bias", slice(d.bias().value(), 1, all(1), keep));
                    config.put("units", keep.length);
                    report.add(new LayerUnits(i, name, d.units(), keep));
                    keptChannels = i == last ? null : keep;
                }
                case Conv2D c -> {
                    Tensor kernel = c.kernel().value();
                    int filters = kernel.dim(3);
                    int[] keep = i == last ? all(filters) : strongest(kernel, fraction);
                    if (i != last) requireZeroAtZero(Activation.of((String) config.get("activation")), name);
                    state.put(i + ".kernel", slice(kernel, kernel.dim(0) * kernel.dim(1), keptChannels == null ? all(kernel.dim(2)) : keptChannels, keep));
                    state.put(i + ".bias", slice(c.bias().value(), 1, all(1), keep));
                    config.put("filters", keep.length);
                    report.add(new LayerUnits(i, name, filters, keep));
                    keptChannels = i == last ? null : keep;
                }
                case Flatten f -> {
                    // NHWC flattens channel-fastest: element (position p, channel ch) lands at p * channels + ch
                    if (keptChannels != null) keptChannels = everyPosition(keptChannels, shape.dim(-1), shape.size() / shape.dim(-1));
                }
                case ActivationLayer a -> {
                    if (keptChannels != null) requireZeroAtZero(a.activation(), name);
                }
                case MaxPool2D p -> {}
                case AvgPool2D p -> {}
                case GlobalAveragePooling2D p -> {}
                case Dropout p -> {}
                default -> throw new IllegalArgumentException("structured pruning handles Dense, Conv2D, pooling, Flatten, Dropout and activation layers; "
                        + name + " (" + layer.config().get("type") + ") is none of them");
            }
            smaller.add(Layers.fromConfig(config));
            shape = layer.outputShape(shape);
        }
        Sequential result = new Sequential(model.inputShape(), smaller.toArray(Layer[]::new));
        result.loadStateDict(state);
        return new Result(result, report);
    }

    /** Units of a kernel ({@code [..., units]}) to keep: all but the {@code round(fraction * units)} of smallest L1 norm, ascending. */
    static int[] strongest(Tensor kernel, double fraction) {
        int units = kernel.dim(-1);
        float[] w = kernel.toFloatArray();
        double[] l1 = new double[units];
        for (int i = 0; i < w.length; i++) l1[i % units] += Math.abs(w[i]);
        int keep = Math.max(1, units - (int) Math.round(fraction * units));
        return IntStream.range(0, units).boxed()
                .sorted(Comparator.comparingDouble((Integer u) -> -l1[u]).thenComparingInt(u -> u))
                .limit(keep).mapToInt(Integer::intValue).sorted().toArray();
    }

    /**
     * The elements of a kernel seen as {@code [blocks, in, out]} (a Dense is one block, a
     * Conv2D's {@code [kh, kw, c, f]} has {@code kh * kw}) at inputs {@code in} and outputs
     * {@code out}, shaped like the kernel with those two axes shortened.
     */
    private static Tensor slice(Tensor kernel, int blocks, int[] in, int[] out) {
        int cols = kernel.dim(-1), rows = kernel.size() / blocks / cols;
        float[] w = kernel.toFloatArray(), s = new float[blocks * in.length * out.length];
        int o = 0;
        for (int b = 0; b < blocks; b++)
            for (int r : in)
                for (int c : out) s[o++] = w[(b * rows + r) * cols + c];
        int[] dims = kernel.shape().toArray();
        dims[dims.length - 1] = out.length;
        if (dims.length > 1) dims[dims.length - 2] = in.length;
        return Tensor.of(s, dims);
    }

    private static int[] everyPosition(int[] channels, int channelCount, int positions) {
        int[] flat = new int[positions * channels.length];
        int o = 0;
        for (int p = 0; p < positions; p++) for (int ch : channels) flat[o++] = p * channelCount + ch;
        return flat;
    }

    private static int[] all(int n) {
        return IntStream.range(0, n).toArray();
    }

    private static void requireZeroAtZero(Activation a, String layer) {
        float atZero = a.apply(Tensor.zeros(1, 2)).toFloatArray()[0];
        if (atZero != 0f)
            throw new IllegalArgumentException("cannot remove units of " + layer + ": its activation " + a.id() + " maps 0 to " + atZero
                    + ", so a removed unit would not be a zero one (structured pruning needs relu, tanh, linear or the like there)");
    }
}
