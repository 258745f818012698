package dev.jumbo.compress;

/**
 * Zhu and Gupta's gradual pruning schedule ("To prune, or not to prune", 2017): sparsity rises
 * from {@code initial} to {@code target} along {@code s_t = target + (initial - target)(1 - t/n)^3},
 * fast at first, while there are many redundant weights, and slowly towards the end. Here the
 * steps are the fine-tuning epochs: epoch {@code e} (from 0) of {@code epochs} trains at
 * {@code t = e + 1, n = epochs}, so the last epoch trains at the target sparsity and the network
 * recovers from each step for an epoch.
 *
 * <pre>{@code
 * var s = new PolynomialSchedule(0, 0.8, 3);
 * s.sparsityAt(0);   // 0.8 (1 - (2/3)^3) = 0.563
 * s.sparsityAt(2);   // 0.8
 * }</pre>
 *
 * @param initial sparsity before pruning starts, in [0, target]
 * @param target  final sparsity, in [0, 1)
 * @param epochs  fine-tuning epochs, at least 1
 */
public record PolynomialSchedule(double initial, double target, int epochs) {
    public PolynomialSchedule {
        PruningMask.checkSparsity(target);
        if (!(initial >= 0 && initial <= target)) throw new IllegalArgumentException("initial sparsity must be in [0, " + target + "], got " + initial);
        if (epochs < 1) throw new IllegalArgumentException("the schedule needs at least 1 epoch, got " + epochs);
    }

    /** The sparsity to train epoch {@code epoch} (from 0) at; the target from the last epoch on. */
    public double sparsityAt(int epoch) {
        if (epoch < 0) throw new IllegalArgumentException("epoch must be >= 0, got " + epoch);
        double t = Math.min(epoch + 1, epochs) / (double) epochs;
        return target + (initial - target) * Math.pow(1 - t, 3);
    }
}
