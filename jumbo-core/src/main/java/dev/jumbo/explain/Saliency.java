package dev.jumbo.explain;

import java.util.Map;

/**
 * Saliency (Simonyan, Vedaldi and Zisserman, 2014): the absolute gradient of the explained output
 * with respect to each input element, {@code |d f_target / d x|}, as Captum's {@code Saliency} with
 * its default {@code abs=True}. One forward and one backward pass; says where a small change of the
 * input would move the output most, not which way.
 *
 * <pre>{@code
 * Explanation e = Saliency.explain(ModelFunction.of(model, Output.LOGITS), image, 3);
 * }</pre>
 */
public final class Saliency {
    private Saliency() {}

    /**
     * {@code |d f_target / d x|} at {@code input}.
     *
     * @throws IllegalArgumentException if the input is not one input of {@code f}'s shape or the target is not an output
     */
    public static Explanation explain(ModelFunction f, float[] input, int target) {
        Gradients g = gradientAt(f, input, target, "saliency");
        float[] attributions = new float[input.length];
        for (int i = 0; i < input.length; i++) attributions[i] = Math.abs(g.gradient()[i]);
        return new Explanation("saliency", target, g.outputsOf(0), f.inputShape(), attributions, Double.NaN, Map.of());
    }

    /** The gradient at one input, after checking that it is one input of {@code f}'s shape (the error names {@code method}). */
    static Gradients gradientAt(ModelFunction f, float[] input, int target, String method) {
        checkInput(f, input, method);
        Gradients.checkTarget(target, f.outputs());
        return Gradients.of(f, input, 1, target, 1);
    }

    static void checkInput(ModelFunction f, float[] input, String method) {
        if (input.length != f.inputShape().size())
            throw new IllegalArgumentException(method + " needs an input of shape " + f.inputShape() + " ("
                    + f.inputShape().size() + " values), got " + input.length + " values");
    }
}
