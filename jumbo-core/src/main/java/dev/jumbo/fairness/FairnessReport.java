package dev.jumbo.fairness;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.ToDoubleFunction;

/**
 * How a binary classifier's decisions differ between the groups of a sensitive feature, with
 * Fairlearn's definitions ({@code fairlearn.metrics}, {@code method="between_groups"},
 * {@code agg="worst_case"}):
 * <ul>
 *   <li>demographic parity difference: the largest minus the smallest selection rate;
 *   <li>demographic parity ratio: the smallest over the largest selection rate;
 *   <li>equalized odds difference: the larger of the true positive rate difference and the
 *       false positive rate difference;
 *   <li>equalized odds ratio: the smaller of the true positive rate ratio and the false
 *       positive rate ratio.
 * </ul>
 * Rates with an empty denominator are 0 (see {@link GroupMetrics}), as in Fairlearn. A ratio whose
 * largest rate is 0 (every group 0) is 0/0: NaN, as pandas' division gives Fairlearn. The
 * equalized odds ratio is then NaN if either of its ratios is (Python's {@code min} would return
 * NaN or the other ratio depending on the order; NaN says plainly that the ratio is undefined).
 * With one group every difference is 0 and every ratio 1 (or NaN when that group's rate is 0).
 *
 * <pre>{@code
 * FairnessReport r = FairnessReport.of(new int[] {1, 0, 1}, new int[] {1, 1, 0}, new String[] {"a", "b", "b"});
 * double dp = r.demographicParityDifference();   // |1.0 - 0.5| = 0.5
 * }</pre>
 *
 * @param byGroup the per-group table, in the groups' sorted order
 */
public record FairnessReport(Map<String, GroupMetrics> byGroup) {
    public FairnessReport {
        if (byGroup.isEmpty()) throw new IllegalArgumentException("a fairness report needs at least one group");
        byGroup = Collections.unmodifiableMap(new LinkedHashMap<>(byGroup));
    }

    /**
     * Tallies labels and predictions (each 0 or 1) per group.
     *
     * @throws IllegalArgumentException if the arrays differ in length, are empty, or hold a label
     *     or prediction other than 0 and 1 (naming the first such index)
     */
    public static FairnessReport of(int[] yTrue, int[] yPred, String[] group) {
        if (yTrue.length != yPred.length || yTrue.length != group.length)
            throw new IllegalArgumentException("y_true, y_pred and group must have the same length, got "
                    + yTrue.length + ", " + yPred.length + " and " + group.length);
        if (yTrue.length == 0) throw new IllegalArgumentException("no examples to audit");
        Map<String, long[]> counts = new TreeMap<>(); // tp, fp, tn, fn
        for (int i = 0; i < yTrue.length; i++) {
            if ((yTrue[i] & ~1) != 0) throw new IllegalArgumentException("y_true[" + i + "] is " + yTrue[i] + "; labels must be 0 or 1");
            if ((yPred[i] & ~1) != 0) throw new IllegalArgumentException("y_pred[" + i + "] is " + yPred[i] + "; predictions must be 0 or 1");
            if (group[i] == null) throw new IllegalArgumentException("group[" + i + "] is missing");
            long[] c = counts.computeIfAbsent(group[i], g -> new long[4]);
            c[yPred[i] == 1 ? (yTrue[i] == 1 ? 0 : 1) : (yTrue[i] == 0 ? 2 : 3)]++;
        }
        Map<String, GroupMetrics> table = new LinkedHashMap<>();
        counts.forEach((g, c) -> table.put(g, new GroupMetrics(g, c[0], c[1], c[2], c[3])));
        return new FairnessReport(table);
    }

    /** The figures over all groups together. */
    public GroupMetrics overall() {
        long tp = 0, fp = 0, tn = 0, fn = 0;
        for (GroupMetrics m : byGroup.values()) {
            tp += m.truePositives();
            fp += m.falsePositives();
            tn += m.trueNegatives();
            fn += m.falseNegatives();
        }
        return new GroupMetrics("overall", tp, fp, tn, fn);
    }

    /** Largest minus smallest selection rate. */
    public double demographicParityDifference() {
        return difference(GroupMetrics::selectionRate);
    }

    /** Smallest over largest selection rate; NaN when every group's is 0. */
    public double demographicParityRatio() {
        return ratio(GroupMetrics::selectionRate);
    }

    /** The larger of the true positive rate difference and the false positive rate difference. */
    public double equalizedOddsDifference() {
        return Math.max(difference(GroupMetrics::truePositiveRate), difference(GroupMetrics::falsePositiveRate));
    }

    /** The smaller of the true positive rate ratio and the false positive rate ratio; NaN if either is. */
    public double equalizedOddsRatio() {
        double tpr = ratio(GroupMetrics::truePositiveRate), fpr = ratio(GroupMetrics::falsePositiveRate);
        return Double.isNaN(tpr) || Double.isNaN(fpr) ? Double.NaN : Math.min(tpr, fpr);
    }

    private double difference(ToDoubleFunction<GroupMetrics> metric) {
        return max(metric) - min(metric);
    }

    private double ratio(ToDoubleFunction<GroupMetrics> metric) {
        double max = max(metric);
        return max == 0 ? Double.NaN : min(metric) / max;
    }

    private double max(ToDoubleFunction<GroupMetrics> metric) {
        return byGroup.values().stream().mapToDouble(metric).max().orElseThrow();
    }

    private double min(ToDoubleFunction<GroupMetrics> metric) {
        return byGroup.values().stream().mapToDouble(metric).min().orElseThrow();
    }
}
