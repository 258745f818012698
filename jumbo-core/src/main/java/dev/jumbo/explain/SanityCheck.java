package dev.jumbo.explain;

import dev.jumbo.io.FormatException;
import dev.jumbo.nn.Layer;
import dev.jumbo.nn.Parameter;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.train.Sequential;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The model-parameter randomisation test of Adebayo et al., "Sanity Checks for Saliency Maps"
 * (2018): a map that explains the model must change when the model's learned weights are
 * destroyed. {@link #cascading} re-initialises the layers with parameters from the output layer
 * down, one more layer each row, and compares each new map with the original by Spearman rank
 * correlation, of the absolute values (where the method is read as "how important") and of the
 * signed ones. A method whose correlation stays high once every layer is random is showing the
 * input (edges, bright pixels), not the model. {@link #repeatability} is the yardstick: the same
 * method twice on the same model, 1 for a deterministic method.
 *
 * <p>Re-initialisation happens on a copy of the model (its config rebuilt, its weights loaded),
 * never on the caller's. A weight of rank 2 or more (a kernel) is redrawn Glorot-uniform, Keras's
 * and Jumbo's default for Dense and Conv2D kernels, with fan-in the product of all dimensions but
 * the last and fan-out all but the second last ({@code [kh, kw, cin, cout]}: {@code kh kw cin} and
 * {@code kh kw cout}), from a generator seeded by the caller; a weight of rank 1 (a bias, a
 * normalisation's scale and shift) gets the value a freshly built layer starts with (zeros,
 * ones).
 *
 * <pre>{@code
 * for (SanityCheck.Row r : SanityCheck.cascading(model, Saliency::explain, image, 3, 42))
 *     System.out.printf("%d %s %.3f %.3f%n", r.layer(), r.name(), r.spearmanAbs(), r.spearman());
 * }</pre>
 */
public final class SanityCheck {
    private SanityCheck() {}

    /** An attribution method, as the sanity check calls it: {@code Saliency::explain}, {@code SmoothGrad.defaults()::explain}... */
    @FunctionalInterface
    public interface Explainer {
        Explanation explain(ModelFunction f, float[] input, int target);
    }

    /**
     * One step of the cascade.
     *
     * @param layer       the index in the model's layers of the layer re-initialised last (this one and every
     *                    layer with parameters above it are random)
     * @param name        that layer's type, e.g. {@code Dense}
     * @param spearmanAbs rank correlation of the absolute attributions with the original's
     * @param spearman    rank correlation of the signed attributions with the original's
     * @param spearmanAbsNonZero rank correlation of the absolute attributions over the elements where either map is
     *                    non-zero: a method that multiplies by {@code x - baseline} (IG, gradient x input) gives 0 wherever
     *                    the input equals the baseline whatever the weights (a Fashion-MNIST image's black background, half
     *                    its pixels), ties that agree for any model and would make {@code spearmanAbs} high by themselves
     */
    public record Row(int layer, String name, double spearmanAbs, double spearman, double spearmanAbsNonZero) {}

    /**
     * {@link #cascading(Sequential, ModelFunction.Output, Explainer, float[], int, long)} on the logits: a trained
     * classifier's softmax is often saturated at the input (a probability of 1.0 in float), where every gradient
     * of the probability is 0 and there is no map to compare.
     */
    public static List<Row> cascading(Sequential model, Explainer explainer, float[] input, int target, long seed) {
        return cascading(model, ModelFunction.Output.LOGITS, explainer, input, target, seed);
    }

    /**
     * Cascading randomisation: a row per layer with parameters, from the output layer down. A map that is
     * constant (all zeros: dead units, a saturated output) has no ranks, and its correlations are NaN.
     *
     * @throws IllegalArgumentException if the model has no layer with parameters, or the explainer refuses the input or target
     */
    public static List<Row> cascading(Sequential model, ModelFunction.Output output, Explainer explainer, float[] input,
                                      int target, long seed) {
        if (model.parameters().isEmpty())
            throw new IllegalArgumentException("the sanity check needs a model with weights: no layer of this one has parameters");
        Sequential copy = copyOf(model), fresh = rebuilt(model);
        Explanation original = explainer.explain(ModelFunction.of(copy, output), input, target);
        List<Layer> layers = copy.layers(), freshLayers = fresh.layers();
        Random random = new Random(seed);
        List<Row> rows = new ArrayList<>();
        for (int i = layers.size() - 1; i >= 0; i--) {
            List<Parameter> params = layers.get(i).parameters();
            if (params.isEmpty()) continue;
            List<Parameter> initial = freshLayers.get(i).parameters();
            for (int p = 0; p < params.size(); p++) reinitialise(params.get(p).value(), initial.get(p).value(), random);
            Explanation e = explainer.explain(ModelFunction.of(copy, output), input, target);
            rows.add(new Row(i, layers.get(i).getClass().getSimpleName(),
                    RankCorrelation.spearman(abs(original.attributions()), abs(e.attributions())),
                    RankCorrelation.spearman(original.attributions(), e.attributions()),
                    absWhereNonZero(original.attributions(), e.attributions())));
        }
        return rows;
    }

    private static double absWhereNonZero(float[] a, float[] b) {
        int n = 0;
        for (int i = 0; i < a.length; i++) if (a[i] != 0 || b[i] != 0) n++;
        float[] x = new float[n], y = new float[n];
        for (int i = 0, j = 0; i < a.length; i++)
            if (a[i] != 0 || b[i] != 0) {
                x[j] = Math.abs(a[i]);
                y[j++] = Math.abs(b[i]);
            }
        return n < 2 ? Double.NaN : RankCorrelation.spearman(x, y);
    }

    /**
     * The rank correlation of the signed attributions of two explanations of the same input by the
     * same method on the same model (a copy, so the caller's is not even put in inference mode), of its
     * logits: 1 for a deterministic method, less for a sampling one (SmoothGrad with different seeds, LIME),
     * which is as high as the cascade's correlations can be expected to go; NaN for a constant map.
     */
    public static double repeatability(Sequential model, Explainer explainer, float[] input, int target) {
        return repeatability(model, ModelFunction.Output.LOGITS, explainer, input, target);
    }

    /** {@link #repeatability(Sequential, Explainer, float[], int)} on the given outputs. */
    public static double repeatability(Sequential model, ModelFunction.Output output, Explainer explainer, float[] input, int target) {
        ModelFunction f = ModelFunction.of(copyOf(model), output);
        return RankCorrelation.spearman(explainer.explain(f, input, target).attributions(),
                explainer.explain(f, input, target).attributions());
    }

    /** The same architecture with the same weights, sharing nothing with {@code model}. */
    static Sequential copyOf(Sequential model) {
        Sequential copy = rebuilt(model);
        copy.loadStateDict(model.stateDict()); // copies the values into the copy's own tensors
        return copy;
    }

    /** The same architecture with the weights its layers start with. */
    private static Sequential rebuilt(Sequential model) {
        try {
            return Sequential.fromConfig(model.configJson(), null);
        } catch (FormatException e) {
            throw new IllegalStateException("the model's own config does not rebuild it: " + e.getMessage(), e);
        }
    }

    /** Glorot-uniform for a kernel, a freshly built layer's value for a vector (see the class comment). */
    private static void reinitialise(Tensor weight, Tensor initial, Random random) {
        float[] v = weight.buffer();
        if (weight.rank() < 2) {
            System.arraycopy(initial.toFloatArray(), 0, v, 0, v.length);
            return;
        }
        int size = weight.size(), fanIn = size / weight.dim(weight.rank() - 1), fanOut = size / weight.dim(weight.rank() - 2);
        double limit = Math.sqrt(6.0 / (fanIn + fanOut));
        for (int i = 0; i < v.length; i++) v[i] = (float) ((2 * random.nextDouble() - 1) * limit);
    }

    private static float[] abs(float[] a) {
        float[] out = new float[a.length];
        for (int i = 0; i < a.length; i++) out[i] = Math.abs(a[i]);
        return out;
    }
}
