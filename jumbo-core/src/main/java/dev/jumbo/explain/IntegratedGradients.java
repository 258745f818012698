package dev.jumbo.explain;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Integrated Gradients (Sundararajan, Taly and Yan, 2017): the input's difference from a baseline
 * times the gradient averaged along the straight path between them,
 * {@code (x - b) * integral over a in [0,1] of grad f(b + a (x - b)) da}, the integral taken by a
 * {@link Quadrature} rule. The attributions add up to {@code f(x) - f(b)} as the steps grow (the
 * completeness axiom); {@link Explanation#completenessGap} is how far they are from it, which is
 * Captum's convergence delta. Defaults are Captum's: 50 Gauss-Legendre steps, a zero baseline.
 * A ReLU network's gradient jumps where a unit switches on or off along the path, so the sums
 * converge unevenly; with a {@code tolerance}, the steps are doubled (up to {@code maxSteps})
 * until the gap is at most that fraction of {@code |f(x) - f(b)|}, and the steps used are reported.
 *
 * <pre>{@code
 * Explanation e = IntegratedGradients.defaults().explain(f, image, target);
 * System.out.println(e.completenessGap());   // small next to f(x) - f(0)
 * }</pre>
 *
 * @param steps  points along the path
 * @param rule   how they are placed and weighed
 * @param chunk  inputs per forward pass (memory against passes)
 * @param tolerance the relative completeness gap to refine to, or 0 to take {@code steps} as they are
 * @param maxSteps  the most steps refinement may reach
 */
public record IntegratedGradients(int steps, Quadrature rule, int chunk, double tolerance, int maxSteps) {
    public IntegratedGradients {
        rule.points(steps);
        if (chunk < 1) throw new IllegalArgumentException("chunk must be at least 1, got " + chunk);
        if (!(tolerance >= 0)) throw new IllegalArgumentException("tolerance must be 0 or more, got " + tolerance);
    }

    /** 50 Gauss-Legendre steps, as Captum, without refinement. */
    public static IntegratedGradients defaults() {
        return new IntegratedGradients(50, Quadrature.GAUSS_LEGENDRE, Gradients.DEFAULT_CHUNK, 0, 50);
    }

    public IntegratedGradients withSteps(int newSteps) {
        return new IntegratedGradients(newSteps, rule, chunk, tolerance, Math.max(maxSteps, newSteps));
    }

    public IntegratedGradients withRule(Quadrature newRule) {
        return new IntegratedGradients(steps, newRule, chunk, tolerance, maxSteps);
    }

    /** Doubles the steps until the gap is at most {@code relativeGap} of {@code |f(x) - f(b)|} or {@code most} steps are reached. */
    public IntegratedGradients refinedTo(double relativeGap, int most) {
        return new IntegratedGradients(steps, rule, chunk, relativeGap, Math.max(most, steps));
    }

    /** Attributions of output {@code target} at {@code input} against a baseline of zeros. */
    public Explanation explain(ModelFunction f, float[] input, int target) {
        return explain(f, input, new float[input.length], target);
    }

    /**
     * Attributions of output {@code target} at {@code input} against {@code baseline}.
     *
     * @throws IllegalArgumentException if the input or baseline is not one input of {@code f}'s shape, or the target is not an output
     */
    public Explanation explain(ModelFunction f, float[] input, float[] baseline, int target) {
        Explanation e = explain(f, input, baseline, target, steps);
        for (int n = steps * 2; tolerance > 0 && n <= maxSteps && !withinTolerance(e); n *= 2)
            e = explain(f, input, baseline, target, n);
        return e;
    }

    private boolean withinTolerance(Explanation e) {
        return relativeGap(e) <= tolerance;
    }

    /** |completeness gap| / |f(x) - f(baseline)| of an explanation this class made. */
    public static double relativeGap(Explanation e) {
        double difference = e.details().get("output") - e.details().get("baseline_output");
        return Math.abs(e.completenessGap() / difference);
    }

    private Explanation explain(ModelFunction f, float[] input, float[] baseline, int target, int steps) {
        int size = f.inputShape().size();
        if (input.length != size || baseline.length != size)
            throw new IllegalArgumentException("integrated gradients needs an input and a baseline of shape " + f.inputShape()
                    + " (" + size + " values), got " + input.length + " and " + baseline.length);
        Gradients.checkTarget(target, f.outputs());
        Quadrature.Rule points = rule.points(steps);
        float[] path = new float[steps * size];
        for (int s = 0; s < steps; s++) {
            float a = (float) points.alphas()[s];
            for (int i = 0; i < size; i++) path[s * size + i] = baseline[i] + a * (input[i] - baseline[i]);
        }
        Gradients g = Gradients.of(f, path, steps, target, chunk);
        double[] integral = new double[size];
        for (int s = 0; s < steps; s++) {
            double w = points.weights()[s];
            for (int i = 0; i < size; i++) integral[i] += w * g.gradient()[s * size + i];
        }
        float[] attributions = new float[size];
        double sum = 0;
        for (int i = 0; i < size; i++) {
            attributions[i] = (float) ((input[i] - baseline[i]) * integral[i]);
            sum += attributions[i];
        }
        float[] ends = new float[2 * size];
        System.arraycopy(input, 0, ends, 0, size);
        System.arraycopy(baseline, 0, ends, size, size);
        float[] out = Gradients.outputs(f, ends, 2, chunk);
        int k = f.outputs();
        double fx = out[target], fb = out[k + target];
        Map<String, Double> details = new LinkedHashMap<>();
        details.put("steps", (double) steps);
        details.put("output", fx);
        details.put("baseline_output", fb);
        return new Explanation("ig", target, java.util.Arrays.copyOf(out, k), f.inputShape(), attributions, sum - (fx - fb), details);
    }
}
