/**
 * Fairness audits of a binary classifier: {@link dev.jumbo.fairness.GroupMetrics} (count, selection
 * rate, accuracy, TPR, FPR ... of one group of a sensitive feature) and
 * {@link dev.jumbo.fairness.FairnessReport} (the per-group table with Fairlearn's demographic parity
 * and equalized odds differences and ratios). Depends on the JDK only.
 */
package dev.jumbo.fairness;
