package dev.jumbo.train;

import dev.jumbo.kernel.VectorMath;
import dev.jumbo.loss.Loss;
import dev.jumbo.nn.FlatParameters;
import dev.jumbo.nn.Module;
import dev.jumbo.tensor.Tensor;

/**
 * A batch's gradient computed shard by shard: the dataset is cut into contiguous index ranges
 * (shards), each shard's examples of the batch give their share of the mean loss's gradient,
 * and the shares are added in shard order. Data-parallel training (jumbo-spark) computes every
 * step this way, one shard per partition; single-process {@code fit} does too when
 * {@link FitOptions#gradientShards} is set, so the two give bit-identical weights. Without it,
 * one product over the whole batch adds the same numbers in another order, and training can
 * amplify that last-bit difference.
 *
 * <pre>{@code
 * int s = ShardedGradient.shardOf(index, train.size(), 2);
 * ShardedGradient.Part p = ShardedGradient.compute(model, loss, x, y, 64);
 * }</pre>
 */
public final class ShardedGradient {
    private ShardedGradient() {}

    /**
     * One shard's share of a step.
     *
     * @param gradient    flat (as {@link FlatParameters#gradients}): the gradient of the batch's mean loss
     *                    restricted to these examples
     * @param lossSum     the sum of these examples' losses
     * @param examples    how many examples of the batch the shard held
     * @param predictions the model's outputs for them (for metrics), or null when sent elsewhere
     */
    public record Part(float[] gradient, double lossSum, int examples, Tensor predictions) {}

    /**
     * The shard holding example {@code index} when {@code size} examples are cut into {@code shards}
     * ranges as Spark's {@code parallelize} cuts them: shard p holds [p size / shards, (p + 1) size / shards).
     */
    public static int shardOf(int index, int size, int shards) {
        if (index < 0 || index >= size) throw new IndexOutOfBoundsException("example " + index + " of " + size);
        return (int) (((long) (index + 1) * shards - 1) / size);
    }

    /**
     * The gradient of {@code sum(loss over these k examples) / batchSize} at the model's current
     * weights, with its gradients zeroed first; the caller sets training mode.
     */
    public static Part compute(Module model, Loss loss, Tensor x, Tensor y, int batchSize) {
        int k = x.dim(0);
        for (Tensor p : FlatParameters.trainable(model)) p.zeroGrad();
        Tensor predictions = model.forward(x);
        Tensor value = loss.compute(predictions, y);
        double lossSum = (double) value.item() * k;
        // the loss is the mean over these k examples; seeding its backward with k / batchSize makes it this
        // shard's share of the whole batch's mean, so shares add up with no division after
        value.backward(Tensor.of(new float[] {(float) k / batchSize}));
        return new Part(FlatParameters.gradients(model), lossSum, k, predictions);
    }

    /** Adds {@code share} into {@code sum} (the order of calls is the order of the float additions); returns the sum. */
    public static float[] add(float[] sum, float[] share) {
        if (sum == null) return share;
        if (sum.length != share.length)
            throw new IllegalArgumentException("gradients of " + sum.length + " and " + share.length + " values cannot be added");
        VectorMath.add(sum, 0, share, 0, sum, 0, sum.length);
        return sum;
    }
}
