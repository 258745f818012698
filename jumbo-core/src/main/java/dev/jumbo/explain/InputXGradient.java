package dev.jumbo.explain;

import java.util.Map;

/**
 * Gradient times input (Shrikumar et al., 2016): {@code x * d f_target / d x} per element, signed,
 * as Captum's {@code InputXGradient}. For a linear model it is each term of the sum exactly; in
 * general it is Integrated Gradients with one step at the end of the path from a zero baseline.
 *
 * <pre>{@code
 * Explanation e = InputXGradient.explain(ModelFunction.of(model, Output.LOGITS), image, 3);
 * }</pre>
 */
public final class InputXGradient {
    private InputXGradient() {}

    /**
     * {@code x * d f_target / d x} at {@code input}.
     *
     * @throws IllegalArgumentException if the input is not one input of {@code f}'s shape or the target is not an output
     */
    public static Explanation explain(ModelFunction f, float[] input, int target) {
        Gradients g = Saliency.gradientAt(f, input, target, "gradxinput");
        float[] attributions = new float[input.length];
        for (int i = 0; i < input.length; i++) attributions[i] = input[i] * g.gradient()[i];
        return new Explanation("gradxinput", target, g.outputsOf(0), f.inputShape(), attributions, Double.NaN, Map.of());
    }
}
