package dev.jumbo.explain;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * KernelSHAP (Lundberg and Lee, 2017): Shapley values estimated as the weighted least-squares fit
 * of a linear model to the game's values on a set of coalitions, each weighed by the Shapley kernel
 * {@code (M - 1) / (C(M, |S|) |S| (M - |S|))}. With every coalition in the set the fit is exactly the
 * Shapley values; with a sample of them, an estimate that converges to them.
 *
 * <p>This follows shap's {@code KernelExplainer}: the budget defaults to {@code 2M + 2048}
 * coalitions (capped at the {@code 2^M - 2} there are); subset sizes are taken from the outside in
 * (1 and M-1, then 2 and M-2...), each size enumerated completely, with its complements, while the
 * budget left covers its share of the kernel's weight; the sizes left are sampled in proportion to
 * their weight, a sample of a paired size bringing its complement, repeats adding weight rather
 * than rows. The fit imposes efficiency (the values add up to {@code v(all) - v(none)}) by
 * eliminating the last feature's value. Unlike shap, no L1 feature selection is applied ({@code l1_reg}
 * "auto" selects features only when fewer than a fifth of the coalitions are evaluated), and
 * features are not dropped for not varying: a {@link FeatureGame} cannot say which do not.
 *
 * <pre>{@code
 * Explanation e = KernelShap.explain(new TabularGame(f, row, background, target), 0, 42);
 * e.details().get("base_value");   // E[f] over the background
 * e.details().get("exact");        // 1: every coalition was evaluated
 * }</pre>
 */
public final class KernelShap {
    private KernelShap() {}

    /**
     * The Shapley values of the game's features, estimated from at most {@code samples} coalitions besides the empty and full ones.
     *
     * @param samples the coalition budget, 0 for shap's default {@code 2M + 2048}
     * @param seed    seeds the sampling (unused when every coalition fits the budget)
     * @throws IllegalArgumentException if the game has no feature or {@code samples} is negative
     */
    public static Explanation explain(FeatureGame game, int samples, long seed) {
        int m = game.features();
        if (m < 1) throw new IllegalArgumentException("KernelSHAP needs at least one feature, the game has " + m);
        if (samples < 0) throw new IllegalArgumentException("the number of samples must be 0 (automatic) or more, got " + samples);
        long budget = samples == 0 ? 2L * m + 2048 : samples;
        long available = m > 30 ? 1L << 30 : (1L << m) - 2;
        budget = Math.min(budget, available);

        Coalitions set = m == 1 ? new Coalitions(m, true) : coalitions(m, budget, new Random(seed));
        boolean[][] present = new boolean[set.masks.size() + 2][];
        present[0] = new boolean[m];
        present[1] = new boolean[m];
        java.util.Arrays.fill(present[1], true);
        for (int i = 0; i < set.masks.size(); i++) present[i + 2] = set.masks.get(i);
        double[] v = game.values(present);
        if (v.length != present.length)
            throw new IllegalStateException("the game returned " + v.length + " values for " + present.length + " coalitions");
        double base = v[0], full = v[1];

        double[] phi = new double[m];
        if (m == 1) phi[0] = full - base;
        else {
            // y - base = sum_j phi_j z_j with sum_j phi_j = full - base: put phi_last = (full - base) - sum of the others
            // and fit the others to (y - base) - z_last (full - base) on the columns z_j - z_last.
            int n = set.masks.size();
            double[][] x = new double[n][m - 1];
            double[] y = new double[n], w = new double[n];
            for (int i = 0; i < n; i++) {
                boolean[] z = set.masks.get(i);
                double last = z[m - 1] ? 1 : 0;
                for (int j = 0; j < m - 1; j++) x[i][j] = (z[j] ? 1 : 0) - last;
                y[i] = v[i + 2] - base - last * (full - base);
                w[i] = set.weights.get(i);
            }
            double[] fit = WeightedLeastSquares.solve(x, y, w);
            double rest = full - base;
            for (int j = 0; j < m - 1; j++) {
                phi[j] = fit[j];
                rest -= fit[j];
            }
            phi[m - 1] = rest;
        }
        Map<String, Double> more = new LinkedHashMap<>();
        more.put("samples", (double) set.masks.size());
        more.put("exact", set.exact ? 1.0 : 0.0);
        return ExactShapley.explanation("shap", game, phi, base, full, more);
    }

    /** The coalitions chosen (neither empty nor full), their kernel weights, and whether they are all there are. */
    private static final class Coalitions {
        final int m;
        final List<boolean[]> masks = new ArrayList<>();
        final List<Double> weights = new ArrayList<>();
        final Map<BitSet, Integer> index = new HashMap<>();
        boolean exact;

        Coalitions(int m, boolean exact) {
            this.m = m;
            this.exact = exact;
        }

        /** Adds a coalition with weight {@code w}, or adds {@code w} to its weight if it is already there; true if it was new. */
        boolean add(boolean[] mask, double w) {
            BitSet key = new BitSet(m);
            for (int j = 0; j < m; j++) if (mask[j]) key.set(j);
            Integer at = index.get(key);
            if (at != null) {
                weights.set(at, weights.get(at) + w);
                return false;
            }
            index.put(key, masks.size());
            masks.add(mask.clone());
            weights.add(w);
            return true;
        }
    }

    /** shap's choice of coalitions for {@code m >= 2} features within {@code budget}. */
    private static Coalitions coalitions(int m, long budget, Random random) {
        int sizes = m / 2;                  // ceil((m - 1) / 2): sizes 1.. this, each with its complement m - s
        int paired = (m - 1) / 2;           // sizes whose complement is a different size
        double[] weight = new double[sizes]; // the kernel's total weight on size s (and m - s when paired)
        double total = 0;
        for (int s = 1; s <= sizes; s++) {
            weight[s - 1] = (m - 1.0) / (s * (double) (m - s)) * (s <= paired ? 2 : 1);
            total += weight[s - 1];
        }
        for (int s = 0; s < sizes; s++) weight[s] /= total;

        Coalitions set = new Coalitions(m, false);
        double[] remaining = weight.clone();
        long left = budget;
        int full = 0;
        for (int s = 1; s <= sizes; s++) {
            double subsets = ExactShapley.binomial(m, s) * (s <= paired ? 2 : 1);
            if (left * remaining[s - 1] / subsets < 1 - 1e-8) break;
            full++;
            left -= (long) subsets;
            double rest = 1 - remaining[s - 1];   // the weight of the sizes still to come
            if (rest > 0)
                for (int t = 0; t < sizes; t++) remaining[t] /= rest;
            double w = weight[s - 1] / ExactShapley.binomial(m, s) / (s <= paired ? 2 : 1);
            int[] pick = new int[s];
            for (int j = 0; j < s; j++) pick[j] = j;
            boolean[] mask = new boolean[m];
            do {
                java.util.Arrays.fill(mask, false);
                for (int j : pick) mask[j] = true;
                set.add(mask, w);
                if (s <= paired) {
                    for (int j = 0; j < m; j++) mask[j] = !mask[j];
                    set.add(mask, w);
                }
            } while (nextCombination(pick, m));
        }
        set.exact = full == sizes;
        if (set.exact || left <= 0) return set;

        // Sample the sizes not enumerated, a pair of sizes counting once, in proportion to their weight.
        int fixed = set.masks.size();
        double[] p = new double[sizes - full];
        double pSum = 0;
        for (int s = full + 1; s <= sizes; s++) {
            p[s - full - 1] = weight[s - 1] / (s <= paired ? 2 : 1);
            pSum += p[s - full - 1];
        }
        double[] cumulative = new double[p.length];
        double c = 0;
        for (int i = 0; i < p.length; i++) cumulative[i] = c += p[i] / pSum;
        int[] order = new int[m];
        boolean[] mask = new boolean[m];
        long draws = 4 * left;              // shap's cap: a budget near the space's size may not fill with distinct rows
        for (long draw = 0; left > 0 && draw < draws; draw++) {
            double u = random.nextDouble();
            int i = 0;
            while (i < cumulative.length - 1 && u >= cumulative[i]) i++;
            int s = i + full + 1;
            for (int j = 0; j < m; j++) order[j] = j;
            for (int j = 0; j < s; j++) {       // the first s of a random permutation
                int r = j + random.nextInt(m - j);
                int t = order[j]; order[j] = order[r]; order[r] = t;
            }
            java.util.Arrays.fill(mask, false);
            for (int j = 0; j < s; j++) mask[order[j]] = true;
            if (set.add(mask, 1)) left--;
            if (left > 0 && s <= paired) {
                for (int j = 0; j < m; j++) mask[j] = !mask[j];
                if (set.add(mask, 1)) left--;
            }
        }
        // The sampled rows share the weight of the sizes they stand for.
        double weightLeft = 0, sampled = 0;
        for (int s = full; s < sizes; s++) weightLeft += weight[s];
        for (int i = fixed; i < set.weights.size(); i++) sampled += set.weights.get(i);
        for (int i = fixed; i < set.weights.size(); i++) set.weights.set(i, set.weights.get(i) * weightLeft / sampled);
        return set;
    }

    /** Steps {@code pick} (increasing indices below {@code n}) to the next combination in lexicographic order; false after the last. */
    private static boolean nextCombination(int[] pick, int n) {
        int k = pick.length, i = k - 1;
        while (i >= 0 && pick[i] == n - k + i) i--;
        if (i < 0) return false;
        pick[i]++;
        for (int j = i + 1; j < k; j++) pick[j] = pick[j - 1] + 1;
        return true;
    }
}
