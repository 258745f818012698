package dev.jumbo.fairness;

/**
 * A binary classifier's figures on one group of a sensitive feature, from its confusion counts.
 * Rates follow Fairlearn (scikit-learn's {@code confusion_matrix(normalize="true")} then
 * {@code nan_to_num}): a rate whose denominator is zero is 0, not undefined, so a group with no
 * positives has a true positive rate of 0 and one with no negatives a false positive rate of 0.
 *
 * @param group          the sensitive feature's value
 * @param truePositives  predicted 1, truly 1
 * @param falsePositives predicted 1, truly 0
 * @param trueNegatives  predicted 0, truly 0
 * @param falseNegatives predicted 0, truly 1
 */
public record GroupMetrics(String group, long truePositives, long falsePositives, long trueNegatives, long falseNegatives) {
    public GroupMetrics {
        if (truePositives < 0 || falsePositives < 0 || trueNegatives < 0 || falseNegatives < 0)
            throw new IllegalArgumentException("confusion counts of group '" + group + "' must not be negative: tp " + truePositives
                    + ", fp " + falsePositives + ", tn " + trueNegatives + ", fn " + falseNegatives);
    }

    /** Examples in the group. */
    public long count() {
        return truePositives + falsePositives + trueNegatives + falseNegatives;
    }

    /** Examples whose true label is 1. */
    public long positives() {
        return truePositives + falseNegatives;
    }

    /** Examples whose true label is 0. */
    public long negatives() {
        return falsePositives + trueNegatives;
    }

    /** P(prediction = 1): Fairlearn's {@code selection_rate}. */
    public double selectionRate() {
        return rate(truePositives + falsePositives, count());
    }

    /** P(prediction = label). */
    public double accuracy() {
        return rate(truePositives + trueNegatives, count());
    }

    /** P(prediction = 1 | label = 1), recall; 0 for a group without positives. */
    public double truePositiveRate() {
        return rate(truePositives, positives());
    }

    /** P(prediction = 1 | label = 0); 0 for a group without negatives. */
    public double falsePositiveRate() {
        return rate(falsePositives, negatives());
    }

    /** P(prediction = 0 | label = 0); 0 for a group without negatives. */
    public double trueNegativeRate() {
        return rate(trueNegatives, negatives());
    }

    /** P(prediction = 0 | label = 1); 0 for a group without positives. */
    public double falseNegativeRate() {
        return rate(falseNegatives, positives());
    }

    // Fairlearn's rates come from a row-normalised confusion matrix whose 0/0 cells nan_to_num turns into 0
    private static double rate(long part, long whole) {
        return whole == 0 ? 0 : (double) part / whole;
    }
}
