package dev.jumbo.explain;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class RankCorrelationTest {

    /** The textbook definition, O(n^2): rank = 1 + number smaller + (number equal - 1) / 2, then Pearson. */
    static double naive(float[] a, float[] b) {
        double[] ra = naiveRanks(a), rb = naiveRanks(b);
        int n = a.length;
        double ma = 0, mb = 0;
        for (int i = 0; i < n; i++) {
            ma += ra[i];
            mb += rb[i];
        }
        ma /= n; // a constant array's ranks then equal their mean exactly, and the result is 0 / 0
        mb /= n;
        double cov = 0, va = 0, vb = 0;
        for (int i = 0; i < n; i++) {
            cov += (ra[i] - ma) * (rb[i] - mb);
            va += (ra[i] - ma) * (ra[i] - ma);
            vb += (rb[i] - mb) * (rb[i] - mb);
        }
        return cov / Math.sqrt(va * vb);
    }

    static double[] naiveRanks(float[] v) {
        double[] r = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            int smaller = 0, equal = 0;
            for (float w : v) {
                if (w < v[i]) smaller++;
                if (w == v[i]) equal++;
            }
            r[i] = 1 + smaller + (equal - 1) / 2.0;
        }
        return r;
    }

    @Test
    void matchesTheNaiveDefinitionWithAndWithoutTies() {
        Random r = new Random(System.nanoTime());
        for (int trial = 0; trial < 200; trial++) {
            int n = 2 + r.nextInt(300);
            int levels = trial % 3 == 0 ? 0 : 1 + r.nextInt(6); // 0: continuous; else few distinct values, many ties
            float[] a = new float[n], b = new float[n];
            for (int i = 0; i < n; i++) {
                a[i] = levels == 0 ? (float) r.nextGaussian() : r.nextInt(levels) - levels / 2;
                b[i] = levels == 0 ? a[i] * r.nextFloat() + (float) r.nextGaussian() : r.nextInt(levels);
            }
            if (trial % 7 == 0) a[0] = -0.0f; // and 0.0 elsewhere ties with it
            double expected = naive(a, b);
            if (Double.isNaN(expected)) assertThat(RankCorrelation.spearman(a, b)).isNaN();
            else assertThat(RankCorrelation.spearman(a, b)).as("trial %d, n %d, levels %d", trial, n, levels).isCloseTo(expected, within(1e-12));
        }
    }

    @Test
    void knownValues() {
        assertThat(RankCorrelation.spearman(new float[] {1, 2, 3, 4}, new float[] {10, 20, 30, 1000})).isEqualTo(1.0);
        assertThat(RankCorrelation.spearman(new float[] {1, 2, 3, 4}, new float[] {4, 3, 2, 1})).isCloseTo(-1.0, within(1e-15));
        // scipy.stats.spearmanr([1, 2, 2, 3], [1, 3, 2, 4]) = 0.9486832980505138
        assertThat(RankCorrelation.spearman(new float[] {1, 2, 2, 3}, new float[] {1, 3, 2, 4})).isCloseTo(0.9486832980505138, within(1e-12));
        assertThat(RankCorrelation.spearman(new float[] {5, 5, 5}, new float[] {1, 2, 3})).isNaN();
    }

    @Test
    void badInputIsRefusedByName() {
        assertThatThrownBy(() -> RankCorrelation.spearman(new float[3], new float[4])).hasMessageContaining("got 3 and 4");
        assertThatThrownBy(() -> RankCorrelation.spearman(new float[1], new float[1])).hasMessageContaining("at least 2 values");
        assertThatThrownBy(() -> RankCorrelation.spearman(new float[] {1, Float.NaN}, new float[2]))
                .hasMessageContaining("the first array holds NaN at index 1");
    }
}
