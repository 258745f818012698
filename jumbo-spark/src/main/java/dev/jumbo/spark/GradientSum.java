package dev.jumbo.spark;

import dev.jumbo.train.ShardedGradient;
import java.io.Serializable;

/**
 * What one or more partitions give back for a step: their shares of the batch's mean-loss gradient
 * added up (flat, null when they held none of the batch; see {@link ShardedGradient}), the sum of their losses and how many examples they
 * saw. Sums combine by {@link #plus}, which the driver applies in partition order.
 */
public record GradientSum(float[] sum, double lossSum, int examples) implements Serializable {
    /** Nothing seen yet: the aggregate's zero. */
    public static final GradientSum NONE = new GradientSum(null, 0, 0);

    /** Both sums together; reuses this array when it owns one. */
    public GradientSum plus(GradientSum other) {
        if (other.sum == null) return new GradientSum(sum, lossSum + other.lossSum, examples + other.examples);
        if (sum == null) return new GradientSum(other.sum, lossSum + other.lossSum, examples + other.examples);
        return new GradientSum(ShardedGradient.add(sum, other.sum), lossSum + other.lossSum, examples + other.examples);
    }
}
