package dev.jumbo.fairness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class FairnessReportTest {
    // Fairlearn's documented example, as issue 9 quotes it
    static final int[] Y_TRUE = {0, 1, 1, 1, 1, 0, 1, 0, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1};
    static final int[] Y_PRED = {0, 0, 1, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 1, 1, 0};
    static final String[] GROUP = "b,b,a,b,b,c,c,c,a,a,c,a,b,c,c,b,c,c".split(",");

    @Test
    void reproducesFairlearnsDocumentedExample() {
        FairnessReport r = FairnessReport.of(Y_TRUE, Y_PRED, GROUP);
        assertThat(r.demographicParityDifference()).isCloseTo(0.25, within(1e-12));
        assertThat(r.demographicParityRatio()).isCloseTo(2.0 / 3, within(1e-12));
        assertThat(r.equalizedOddsDifference()).isCloseTo(1.0, within(1e-12));
        assertThat(r.equalizedOddsRatio()).isCloseTo(0.0, within(1e-12));
    }

    @Test
    void perGroupTableOfTheExampleMatchesCountsByHand() {
        FairnessReport r = FairnessReport.of(Y_TRUE, Y_PRED, GROUP);
        assertThat(r.byGroup().keySet()).containsExactly("a", "b", "c");
        GroupMetrics a = r.byGroup().get("a"), b = r.byGroup().get("b"), c = r.byGroup().get("c");
        // a: y_true 1,1,0,0 y_pred 1,0,1,1; b: 0,1,1,1,1,1 / 0,0,0,1,1,1; c: 0,1,0,0,1,1,1,1 / 1,1,0,1,0,0,1,0
        assertThat(List.of(a.count(), b.count(), c.count())).containsExactly(4L, 6L, 8L);
        assertThat(a.selectionRate()).isEqualTo(0.75);
        assertThat(b.selectionRate()).isEqualTo(0.5);
        assertThat(c.selectionRate()).isEqualTo(0.5);
        assertThat(a.truePositiveRate()).isEqualTo(0.5);
        assertThat(b.truePositiveRate()).isEqualTo(0.6);
        assertThat(c.truePositiveRate()).isEqualTo(0.4);
        assertThat(a.falsePositiveRate()).isEqualTo(1.0);
        assertThat(b.falsePositiveRate()).isEqualTo(0.0);
        assertThat(c.falsePositiveRate()).isCloseTo(2.0 / 3, within(1e-12));
        assertThat(a.accuracy()).isEqualTo(0.25);
        assertThat(b.accuracy()).isCloseTo(4.0 / 6, within(1e-12));
        assertThat(c.accuracy()).isEqualTo(0.375);
        assertThat(r.overall().count()).isEqualTo(18);
        assertThat(r.overall().selectionRate()).isCloseTo(10.0 / 18, within(1e-12));
    }

    @Test
    void agreesWithANaiveRecountOnRandomInputs() {
        Random rnd = new Random();
        for (int trial = 0; trial < 50; trial++) {
            int n = 1 + rnd.nextInt(200), groups = 1 + rnd.nextInt(5);
            int[] yt = new int[n], yp = new int[n];
            String[] g = new String[n];
            for (int i = 0; i < n; i++) {
                yt[i] = rnd.nextInt(2);
                yp[i] = rnd.nextDouble() < 0.3 ? yt[i] : rnd.nextInt(2);
                g[i] = "g" + rnd.nextInt(groups);
            }
            FairnessReport r = FairnessReport.of(yt, yp, g);
            List<Double> sel = new ArrayList<>(), tpr = new ArrayList<>(), fpr = new ArrayList<>();
            for (String name : r.byGroup().keySet()) {
                double selected = 0, members = 0, tp = 0, pos = 0, fp = 0, neg = 0;
                for (int i = 0; i < n; i++) {
                    if (!g[i].equals(name)) continue;
                    members++;
                    selected += yp[i];
                    if (yt[i] == 1) { pos++; tp += yp[i]; } else { neg++; fp += yp[i]; }
                }
                sel.add(selected / members);
                tpr.add(pos == 0 ? 0 : tp / pos);
                fpr.add(neg == 0 ? 0 : fp / neg);
            }
            double dpDiff = max(sel) - min(sel);
            double eoDiff = Math.max(max(tpr) - min(tpr), max(fpr) - min(fpr));
            assertThat(r.demographicParityDifference()).isCloseTo(dpDiff, within(1e-12));
            assertThat(r.equalizedOddsDifference()).isCloseTo(eoDiff, within(1e-12));
            if (max(sel) > 0) assertThat(r.demographicParityRatio()).isCloseTo(min(sel) / max(sel), within(1e-12));
            if (max(tpr) > 0 && max(fpr) > 0)
                assertThat(r.equalizedOddsRatio()).isCloseTo(Math.min(min(tpr) / max(tpr), min(fpr) / max(fpr)), within(1e-12));
        }
    }

    @Test
    void aGroupWithoutPositivesHasATruePositiveRateOfZeroAsInFairlearn() {
        // group "z" has only negatives: TPR 0 (not undefined), so the TPR ratio is 0
        FairnessReport r = FairnessReport.of(new int[] {1, 1, 0, 0, 0}, new int[] {1, 0, 0, 1, 0}, new String[] {"y", "y", "y", "z", "z"});
        GroupMetrics z = r.byGroup().get("z");
        assertThat(z.positives()).isZero();
        assertThat(z.truePositiveRate()).isZero();
        assertThat(z.falseNegativeRate()).isZero();
        assertThat(r.equalizedOddsRatio()).isZero();
        assertThat(r.equalizedOddsDifference()).isEqualTo(0.5); // TPR 0.5 vs 0; FPR 0 vs 0.5
    }

    @Test
    void ratiosAreNaNWhenEveryGroupsRateIsZero() {
        FairnessReport r = FairnessReport.of(new int[] {1, 0, 1, 0}, new int[] {0, 0, 0, 0}, new String[] {"a", "a", "b", "b"});
        assertThat(r.demographicParityDifference()).isZero();
        assertThat(r.demographicParityRatio()).isNaN();
        assertThat(r.equalizedOddsRatio()).isNaN();
        assertThat(r.equalizedOddsDifference()).isZero();
    }

    @Test
    void oneGroupHasNoDisparity() {
        FairnessReport r = FairnessReport.of(new int[] {1, 0, 1}, new int[] {1, 1, 1}, new String[] {"x", "x", "x"});
        assertThat(r.demographicParityDifference()).isZero();
        assertThat(r.demographicParityRatio()).isEqualTo(1.0);
        assertThat(r.equalizedOddsDifference()).isZero();
        assertThat(r.equalizedOddsRatio()).isEqualTo(1.0);
    }

    @Test
    void rejectsMismatchedLengthsNonBinaryValuesAndEmptyInput() {
        assertThatThrownBy(() -> FairnessReport.of(new int[] {1}, new int[] {1, 0}, new String[] {"a"}))
                .hasMessageContaining("same length").hasMessageContaining("1, 2 and 1");
        assertThatThrownBy(() -> FairnessReport.of(new int[] {1, 2}, new int[] {1, 0}, new String[] {"a", "a"}))
                .hasMessageContaining("y_true[1] is 2");
        assertThatThrownBy(() -> FairnessReport.of(new int[] {1, 0}, new int[] {1, -1}, new String[] {"a", "a"}))
                .hasMessageContaining("y_pred[1] is -1");
        assertThatThrownBy(() -> FairnessReport.of(new int[0], new int[0], new String[0])).hasMessageContaining("no examples");
        assertThatThrownBy(() -> new GroupMetrics("g", -1, 0, 0, 0)).hasMessageContaining("group 'g'");
    }

    private static double max(List<Double> v) {
        return v.stream().mapToDouble(Double::doubleValue).max().orElseThrow();
    }

    private static double min(List<Double> v) {
        return v.stream().mapToDouble(Double::doubleValue).min().orElseThrow();
    }
}
