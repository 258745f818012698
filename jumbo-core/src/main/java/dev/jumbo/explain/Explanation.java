package dev.jumbo.explain;

import dev.jumbo.tensor.Shape;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What an attribution method found: one value per element of the input (in its {@link #shape})
 * saying how much that element moved the model's output {@link #target}, the model's whole output
 * for the input ({@link #prediction}), and the method's own figures.
 *
 * <p>{@link #completenessGap} is, for methods whose attributions should add up to a difference of
 * outputs (Integrated Gradients: {@code f(x) - f(baseline)}; SHAP: {@code f(x) - E[f]}), the sum of the
 * attributions minus that difference (Captum's "convergence delta"); NaN for methods without such
 * a property. {@link #details} holds the rest by name (steps, samples, the surrogate's R²...).
 *
 * @param method      the method's name as the command line spells it ({@code ig}, {@code lime}...)
 * @param target      the index of the output explained
 * @param prediction  the model's output for the input, every index
 * @param shape       the attributions' shape: the input's, or the features' when they are groups of it
 * @param attributions one value per element of {@code shape}, row-major
 * @param completenessGap sum of attributions minus the difference they should add up to, or NaN
 * @param details     further figures of the method, in the order it reports them
 */
public record Explanation(String method, int target, float[] prediction, Shape shape, float[] attributions,
                          double completenessGap, Map<String, Double> details) {
    public Explanation {
        Objects.requireNonNull(method, "method");
        if (attributions.length != shape.size())
            throw new IllegalArgumentException(method + ": " + attributions.length + " attributions for shape " + shape);
        if (target < 0 || target >= prediction.length)
            throw new IllegalArgumentException(method + ": target " + target + " is not one of the " + prediction.length + " outputs");
        details = Collections.unmodifiableMap(new LinkedHashMap<>(details));
    }

    /** The sum of the attributions (in double precision). */
    public double sum() {
        double s = 0;
        for (float a : attributions) s += a;
        return s;
    }

    /** The largest absolute attribution, 0 for none. */
    public float maxAbs() {
        float m = 0;
        for (float a : attributions) m = Math.max(m, Math.abs(a));
        return m;
    }

    /** A copy with another method name and further details (for methods built on another, e.g. SmoothGrad on saliency). */
    public Explanation withDetails(String newMethod, Map<String, Double> more) {
        Map<String, Double> all = new LinkedHashMap<>(details);
        all.putAll(more);
        return new Explanation(newMethod, target, prediction, shape, attributions, completenessGap, all);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Explanation e && method.equals(e.method) && target == e.target
                && Arrays.equals(prediction, e.prediction) && shape.equals(e.shape)
                && Arrays.equals(attributions, e.attributions)
                && Double.compare(completenessGap, e.completenessGap) == 0 && details.equals(e.details);
    }

    @Override
    public int hashCode() {
        return Objects.hash(method, target, Arrays.hashCode(prediction), shape, Arrays.hashCode(attributions), details);
    }

    @Override
    public String toString() {
        return "Explanation[" + method + ", target " + target + ", shape " + shape + ", sum " + sum()
                + (Double.isNaN(completenessGap) ? "" : ", gap " + completenessGap) + ", " + details + "]";
    }
}
