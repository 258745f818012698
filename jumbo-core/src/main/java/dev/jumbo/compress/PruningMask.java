package dev.jumbo.compress;

import dev.jumbo.train.Sequential;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * Which weights of a model's Dense and Conv2D kernels are pruned, chosen by magnitude: the
 * {@code sparsity} fraction with the smallest absolute values, counted per layer or over all
 * layers together ({@link Scope#GLOBAL}, which prunes more where weights are small). Ties at the
 * threshold are broken by position, so exactly {@code round(sparsity * n)} weights are pruned.
 * {@link #apply()} sets them to zero; calling it after every optimizer step keeps them there
 * through fine-tuning ({@link GradualPruning} does).
 *
 * <pre>{@code
 * PruningMask mask = PruningMask.magnitude(model, 0.8, PruningMask.Scope.PER_LAYER);
 * mask.apply();                       // 80% of each kernel is now 0
 * }</pre>
 */
public final class PruningMask {
    /** Where the sparsity is counted. */
    public enum Scope {
        /** Each kernel loses the same fraction of its weights. */
        PER_LAYER,
        /** One threshold over all kernels together. */
        GLOBAL
    }

    private final List<PrunableKernel> kernels;
    private final List<BitSet> pruned;

    private PruningMask(List<PrunableKernel> kernels, List<BitSet> pruned) {
        this.kernels = kernels;
        this.pruned = pruned;
    }

    /**
     * The mask pruning the smallest-magnitude {@code sparsity} of the weights of {@code model}.
     *
     * @throws IllegalArgumentException if {@code sparsity} is not in [0, 1) or the model has no Dense or Conv2D layer
     */
    public static PruningMask magnitude(Sequential model, double sparsity, Scope scope) {
        checkSparsity(sparsity);
        List<PrunableKernel> kernels = PrunableKernel.of(model);
        List<BitSet> pruned = new ArrayList<>();
        if (scope == Scope.PER_LAYER) {
            for (PrunableKernel k : kernels) pruned.add(smallest(List.of(k.values()), sparsity).getFirst());
        } else {
            pruned.addAll(smallest(kernels.stream().map(PrunableKernel::values).toList(), sparsity));
        }
        return new PruningMask(kernels, pruned);
    }

    static void checkSparsity(double sparsity) {
        if (!(sparsity >= 0 && sparsity < 1)) throw new IllegalArgumentException("sparsity must be in [0, 1), got " + sparsity);
    }

    /** Marks the {@code round(sparsity * total)} smallest |w| over all arrays, ties in array then index order. */
    private static List<BitSet> smallest(List<float[]> arrays, double sparsity) {
        long total = 0;
        for (float[] a : arrays) total += a.length;
        long k = Math.round(sparsity * total);
        List<BitSet> out = new ArrayList<>();
        for (float[] a : arrays) out.add(new BitSet(a.length));
        if (k == 0) return out;
        float[] all = new float[Math.toIntExact(total)];
        int o = 0;
        for (float[] a : arrays) for (float v : a) all[o++] = Math.abs(v);
        float[] sorted = all.clone();
        java.util.Arrays.sort(sorted);
        float threshold = sorted[(int) k - 1];
        // everything strictly below the threshold goes; then as many at it as k still needs
        long below = 0;
        for (float v : all) if (v < threshold) below++;
        long atThreshold = k - below;
        for (int a = 0; a < arrays.size(); a++) {
            float[] w = arrays.get(a);
            BitSet b = out.get(a);
            for (int i = 0; i < w.length; i++) {
                float m = Math.abs(w[i]);
                if (m < threshold) b.set(i);
                else if (m == threshold && atThreshold > 0) {
                    b.set(i);
                    atThreshold--;
                }
            }
        }
        return out;
    }

    /** This mask with the weights {@code earlier} pruned too (both of the same model). */
    PruningMask union(PruningMask earlier) {
        if (earlier == null) return this;
        if (earlier.kernels.size() != kernels.size()) throw new IllegalArgumentException("masks of different models");
        List<BitSet> both = new ArrayList<>();
        for (int i = 0; i < pruned.size(); i++) {
            BitSet b = (BitSet) pruned.get(i).clone();
            b.or(earlier.pruned.get(i));
            both.add(b);
        }
        return new PruningMask(kernels, both);
    }

    /** Sets the pruned weights to zero, in place. */
    public void apply() {
        for (int i = 0; i < kernels.size(); i++) {
            float[] w = kernels.get(i).values();
            BitSet b = pruned.get(i);
            for (int j = b.nextSetBit(0); j >= 0; j = b.nextSetBit(j + 1)) w[j] = 0f;
        }
    }

    /** Whether weight {@code flatIndex} (row-major) of the {@code kernel}-th prunable kernel is pruned. */
    public boolean isPruned(int kernel, int flatIndex) {
        return pruned.get(kernel).get(flatIndex);
    }

    /** Pruned weights of the {@code kernel}-th prunable kernel (Dense and Conv2D layers in order). */
    public int prunedCount(int kernel) {
        return pruned.get(kernel).cardinality();
    }

    /** The number of prunable kernels. */
    public int kernels() {
        return kernels.size();
    }
}
