package dev.jumbo.spark;

import dev.jumbo.train.ShardedGradient;
import java.io.Serializable;
import java.util.Arrays;

/**
 * What one or more partitions give back for a step: their shares of the batch's mean-loss gradient
 * added up (flat, null when they held none of the batch; see {@link ShardedGradient}), the sum of
 * their losses, how many examples they saw, and the model's outputs and the targets of those
 * examples (flat, one after another), from which the driver updates the compiled metrics. Sums
 * combine by {@link #plus}, which the driver applies in partition order.
 */
public record GradientSum(float[] sum, double lossSum, int examples, float[] outputs, float[] targets) implements Serializable {
    /** Nothing seen yet: the aggregate's zero. */
    public static final GradientSum NONE = new GradientSum(null, 0, 0, new float[0], new float[0]);

    /** Both together, {@code other}'s outputs and targets after these; reuses this gradient array when it owns one. */
    public GradientSum plus(GradientSum other) {
        float[] added = sum == null ? other.sum : other.sum == null ? sum : ShardedGradient.add(sum, other.sum);
        return new GradientSum(added, lossSum + other.lossSum, examples + other.examples, concat(outputs, other.outputs), concat(targets, other.targets));
    }

    private static float[] concat(float[] a, float[] b) {
        if (b.length == 0) return a;
        if (a.length == 0) return b;
        float[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
