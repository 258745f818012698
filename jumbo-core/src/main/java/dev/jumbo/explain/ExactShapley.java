package dev.jumbo.explain;

import dev.jumbo.tensor.Shape;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Shapley values by their definition: feature {@code i} gets the average, over every coalition
 * {@code S} without it, of what adding it changes, {@code v(S + i) - v(S)}, weighed by
 * {@code |S|! (M - |S| - 1)! / M!}. Every one of the {@code 2^M} coalitions is evaluated (in batches),
 * so this is the reference KernelSHAP is checked against, and practical up to 20 features.
 * The values add up to {@code v(all) - v(none)} exactly (efficiency); {@link Explanation#completenessGap}
 * is that sum's rounding error.
 *
 * <pre>{@code
 * Explanation exact = ExactShapley.explain(new TabularGame(f, row, background, target));
 * }</pre>
 */
public final class ExactShapley {
    /** The most features enumerated: 2^20 coalitions. */
    public static final int MAX_FEATURES = 20;
    /** Coalitions per call of {@link FeatureGame#values}. */
    private static final int BATCH = 4096;

    private ExactShapley() {}

    /**
     * The Shapley value of each of the game's features.
     *
     * @throws IllegalArgumentException if the game has more than {@link #MAX_FEATURES} features (or none)
     */
    public static Explanation explain(FeatureGame game) {
        int m = game.features();
        if (m < 1) throw new IllegalArgumentException("exact Shapley values need at least one feature, the game has " + m);
        if (m > MAX_FEATURES)
            throw new IllegalArgumentException("exact Shapley values enumerate all 2^" + m + " coalitions of " + m
                    + " features; at most " + MAX_FEATURES + " are supported: use KernelSHAP (--method shap) instead");
        int all = 1 << m;
        double[] v = new double[all];
        for (int from = 0; from < all; from += BATCH) {
            int n = Math.min(BATCH, all - from);
            boolean[][] present = new boolean[n][m];
            for (int c = 0; c < n; c++)
                for (int j = 0; j < m; j++) present[c][j] = ((from + c) >> j & 1) == 1;
            double[] part = game.values(present);
            if (part.length != n) throw new IllegalStateException("the game returned " + part.length + " values for " + n + " coalitions");
            System.arraycopy(part, 0, v, from, n);
        }
        // weight[s] = s! (m - s - 1)! / m!, the share of orderings in which a feature joins s others
        double[] weight = new double[m];
        for (int s = 0; s < m; s++) weight[s] = 1.0 / (m * binomial(m - 1, s));
        double[] phi = new double[m];
        for (int mask = 0; mask < all; mask++) {
            int size = Integer.bitCount(mask);
            for (int j = 0; j < m; j++)
                if ((mask >> j & 1) == 1) phi[j] += weight[size - 1] * (v[mask] - v[mask ^ (1 << j)]);
        }
        Map<String, Double> more = new LinkedHashMap<>();
        more.put("coalitions", (double) all);
        return explanation("shapley", game, phi, v[0], v[all - 1], more);
    }

    /**
     * Shapley values {@code phi} of {@code game} as an explanation: the completeness gap is their sum
     * minus {@code v(all) - v(none)}; details start with {@code base_value} (v(none), E[f] over a
     * background) and {@code output} (v(all)), then {@code more}.
     */
    static Explanation explanation(String method, FeatureGame game, double[] phi, double none, double all, Map<String, Double> more) {
        float[] attributions = new float[phi.length];
        double sum = 0;
        for (int j = 0; j < phi.length; j++) {
            attributions[j] = (float) phi[j];
            sum += attributions[j];
        }
        Map<String, Double> details = new LinkedHashMap<>();
        details.put("base_value", none);
        details.put("output", all);
        details.putAll(more);
        return new Explanation(method, game.target(), game.prediction(), Shape.of(phi.length), attributions, sum - (all - none), details);
    }

    /** {@code n choose k} in double precision (exact for the sizes used here). */
    static double binomial(int n, int k) {
        double c = 1;
        for (int i = 1; i <= k; i++) c = c * (n - k + i) / i;
        return c;
    }
}
