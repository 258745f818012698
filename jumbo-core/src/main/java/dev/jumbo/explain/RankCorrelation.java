package dev.jumbo.explain;

import java.util.Arrays;

/**
 * Spearman's rank correlation: how alike two attribution maps order their elements, whatever
 * their scales, which is how the sanity checks compare a map with the one after the model's
 * weights were re-initialised (Adebayo et al., 2018).
 *
 * <pre>{@code
 * double rho = RankCorrelation.spearman(before.attributions(), after.attributions());
 * }</pre>
 */
public final class RankCorrelation {
    private RankCorrelation() {}

    /**
     * The Pearson correlation of the two arrays' ranks, tied values sharing the average of their
     * ranks (as {@code scipy.stats.spearmanr}); NaN when either array is constant, where the
     * correlation is undefined.
     *
     * @throws IllegalArgumentException if the arrays differ in length, have fewer than two values or hold a NaN
     */
    public static double spearman(float[] a, float[] b) {
        if (a.length != b.length)
            throw new IllegalArgumentException("rank correlation needs arrays of one length, got " + a.length + " and " + b.length);
        if (a.length < 2) throw new IllegalArgumentException("rank correlation needs at least 2 values, got " + a.length);
        return pearson(ranks(a, "first"), ranks(b, "second"));
    }

    /** Ranks from 1, ties given the mean of the ranks they span; O(n log n) by sorting indices by value. */
    static double[] ranks(float[] v, String which) {
        Integer[] order = new Integer[v.length];
        for (int i = 0; i < v.length; i++) {
            if (Float.isNaN(v[i])) throw new IllegalArgumentException("rank correlation: the " + which + " array holds NaN at index " + i);
            order[i] = i;
        }
        Arrays.sort(order, (i, j) -> Float.compare(v[i], v[j]));
        double[] rank = new double[v.length];
        for (int from = 0; from < v.length; ) {
            int to = from + 1;
            // -0.0 and 0.0 are one value here, though Float.compare orders them
            while (to < v.length && v[order[to]] == v[order[from]]) to++;
            double mean = (from + 1 + to) / 2.0; // ranks from+1 .. to
            for (int i = from; i < to; i++) rank[order[i]] = mean;
            from = to;
        }
        return rank;
    }

    static double pearson(double[] x, double[] y) {
        double mx = 0, my = 0;
        for (int i = 0; i < x.length; i++) {
            mx += x[i];
            my += y[i];
        }
        mx /= x.length;
        my /= y.length;
        double sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < x.length; i++) {
            double dx = x[i] - mx, dy = y[i] - my;
            sxy += dx * dy;
            sxx += dx * dx;
            syy += dy * dy;
        }
        if (sxx == 0 || syy == 0) return Double.NaN;
        return sxy / Math.sqrt(sxx * syy);
    }
}
