package dev.jumbo.explain;

import dev.jumbo.nn.Activation;
import dev.jumbo.nn.Dense;
import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.train.Sequential;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** LIME's surrogate and sampling, and the weighted regressions under it, against naive references. */
class LimeTest {

    /**
     * Ridge with an unpenalised intercept the long way: the intercept as a column of ones in the
     * normal equations, solved by Gauss-Jordan elimination. Returns {intercept, coefficients...}.
     */
    static double[] naiveRidge(double[][] x, double[] y, double[] w, double alpha) {
        int d = x[0].length + 1;
        double[][] a = new double[d][d + 1];
        for (int i = 0; i < x.length; i++) {
            double[] row = new double[d];
            row[0] = 1;
            System.arraycopy(x[i], 0, row, 1, d - 1);
            for (int j = 0; j < d; j++) {
                for (int l = 0; l < d; l++) a[j][l] += w[i] * row[j] * row[l];
                a[j][d] += w[i] * row[j] * y[i];
            }
        }
        for (int j = 1; j < d; j++) a[j][j] += alpha;
        for (int c = 0; c < d; c++) {
            int p = c;
            for (int i = c + 1; i < d; i++) if (Math.abs(a[i][c]) > Math.abs(a[p][c])) p = i;
            double[] t = a[c]; a[c] = a[p]; a[p] = t;
            for (int i = 0; i < d; i++) {
                if (i == c) continue;
                double f = a[i][c] / a[c][c];
                for (int l = c; l <= d; l++) a[i][l] -= f * a[c][l];
            }
        }
        double[] b = new double[d];
        for (int j = 0; j < d; j++) b[j] = a[j][d] / a[j][j];
        return b;
    }

    static double naiveR2(double[][] x, double[] y, double[] w, double[] b) {
        double tw = 0, mean = 0, res = 0, tot = 0;
        for (int i = 0; i < y.length; i++) { tw += w[i]; mean += w[i] * y[i]; }
        mean /= tw;
        for (int i = 0; i < y.length; i++) {
            double p = b[0];
            for (int j = 0; j < x[i].length; j++) p += b[j + 1] * x[i][j];
            res += w[i] * (y[i] - p) * (y[i] - p);
            tot += w[i] * (y[i] - mean) * (y[i] - mean);
        }
        return 1 - res / tot;
    }

    @Test
    void ridgeMatchesTheNormalEquationsWithAnInterceptColumn() {
        Random r = new Random(System.nanoTime());
        for (int trial = 0; trial < 20; trial++) {
            int n = 5 + r.nextInt(60), d = 1 + r.nextInt(8);
            double[][] x = new double[n][d];
            double[] y = new double[n], w = new double[n];
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < d; j++) x[i][j] = r.nextGaussian() * (1 + j) + j;
                y[i] = r.nextGaussian() * 3 + 1;
                w[i] = r.nextDouble() < 0.1 ? 0 : r.nextDouble();
            }
            double alpha = r.nextBoolean() ? 1 : r.nextDouble() * 5;
            WeightedLeastSquares.Fit fit = WeightedLeastSquares.ridge(x, y, w, alpha);
            double[] reference = naiveRidge(x, y, w, alpha);
            assertThat(fit.intercept()).isCloseTo(reference[0], within(1e-8 * (1 + Math.abs(reference[0]))));
            for (int j = 0; j < d; j++)
                assertThat(fit.coefficients()[j]).isCloseTo(reference[j + 1], within(1e-8 * (1 + Math.abs(reference[j + 1]))));
            assertThat(fit.r2()).isCloseTo(naiveR2(x, y, w, reference), within(1e-9));
        }
    }

    @Test
    void leastSquaresSolvesTheWeightedNormalEquationsAndZeroesAnUndeterminedColumn() {
        Random r = new Random(System.nanoTime());
        int n = 40, d = 5;
        double[][] x = new double[n][d];
        double[] y = new double[n], w = new double[n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d - 1; j++) x[i][j] = r.nextGaussian();
            y[i] = r.nextGaussian();
            w[i] = r.nextDouble();
        }
        double[] b = WeightedLeastSquares.solve(x, y, w);   // column d-1 is all zeros
        assertThat(b[d - 1]).isEqualTo(0);
        for (int j = 0; j < d - 1; j++) {   // the residual is orthogonal to every determined column
            double dot = 0;
            for (int i = 0; i < n; i++) {
                double p = 0;
                for (int l = 0; l < d; l++) p += x[i][l] * b[l];
                dot += w[i] * x[i][j] * (y[i] - p);
            }
            assertThat(dot).isCloseTo(0, within(1e-9));
        }
        assertThat(Math.abs(b[0]) + Math.abs(b[1])).isGreaterThan(1e-3);
    }

    /** A model linear in its inputs: two outputs, {@code x . w0 + 0.5} and {@code x . w1 - 1}. */
    static Sequential linear(int m, Random r) {
        Sequential model = new Sequential(Shape.of(m), new Dense(2, Activation.LINEAR));
        model.forward(Tensor.zeros(1, m));
        Dense dense = (Dense) model.layers().get(0);
        float[] k = dense.kernel().value().buffer();
        for (int i = 0; i < k.length; i++) k[i] = (float) r.nextGaussian();
        dense.bias().value().buffer()[0] = 0.5f;
        dense.bias().value().buffer()[1] = -1f;
        return model;
    }

    @Test
    void tabularLimeOnALinearModelFitsItAndRecoversItsWeights() {
        Random r = new Random(System.nanoTime());
        int m = 6;
        Sequential model = linear(m, r);
        ModelFunction f = ModelFunction.of(model, ModelFunction.Output.AS_IS);
        float[][] training = new float[300][m];
        for (float[] row : training)
            for (int j = 0; j < m; j++) row[j] = (float) (r.nextGaussian() * (0.2 + j) + 3 * j);   // features of different spreads
        for (int j = 0; j < 300; j++) training[j][2] = 7;   // a feature that never varies
        float[] x = training[r.nextInt(300)].clone();
        float[] k = ((Dense) model.layers().get(0)).kernel().value().buffer();
        int target = 1;
        Explanation e = Lime.tabular(f, x, training, target, r.nextLong());
        assertThat(e.method()).isEqualTo("lime");
        assertThat(e.shape()).isEqualTo(Shape.of(m));
        assertThat(e.details().get("r2")).isGreaterThanOrEqualTo(0.8).isGreaterThan(0.999);
        assertThat(e.details()).containsEntry("samples", 5000.0).containsEntry("kernel_width", 0.75 * Math.sqrt(m));
        double fx = Gradients.outputs(f, x, 1, 1)[target];
        assertThat(e.details().get("intercept")).isCloseTo(fx, within(1e-3 * (1 + Math.abs(fx))));
        // coefficients proportional to the weights: the ridge's shrinkage is a fraction of a percent at 5000 samples
        double dot = 0, ww = 0, aa = 0;
        for (int j = 0; j < m; j++) {
            if (j == 2) {
                assertThat(e.attributions()[j]).isEqualTo(0);
                continue;
            }
            double weight = k[j * 2 + target];
            dot += weight * e.attributions()[j];
            ww += weight * weight;
            aa += (double) e.attributions()[j] * e.attributions()[j];
            assertThat((double) e.attributions()[j]).as("feature %d", j).isCloseTo(weight, within(0.02 * Math.abs(weight) + 1e-3));
        }
        assertThat(dot / Math.sqrt(ww * aa)).isGreaterThan(0.9999);
    }

    /** f(x) = |x|^2 on four features, one output: a bowl, flat at 0 and near-linear far from it. */
    static ModelFunction bowl() {
        return new ModelFunction() {
            public Shape inputShape() { return Shape.of(4); }
            public int outputs() { return 1; }
            public Tensor apply(Tensor batch) {
                float[] x = batch.toFloatArray();
                float[] y = new float[batch.dim(0)];
                for (int i = 0; i < y.length; i++)
                    for (int j = 0; j < 4; j++) y[i] += x[i * 4 + j] * x[i * 4 + j];
                return Tensor.of(y, y.length, 1);
            }
        };
    }

    @Test
    void theFitReportsWhereTheModelIsNotLinear() {
        Random r = new Random(System.nanoTime());
        float[][] training = ShapleyTest.rows(500, 4, r);   // spread about 1 in each feature
        Explanation atTheBottom = Lime.tabular(bowl(), new float[4], training, 0, r.nextLong());
        Explanation onTheSide = Lime.tabular(bowl(), new float[] {3, 3, 3, 3}, training, 0, r.nextLong());
        // at 0 the surrogate has no slope to find; at 3 the slope is 2x = 6 per unit, the curvature a small part of the spread
        assertThat(atTheBottom.details().get("r2")).isLessThan(0.1);
        assertThat(onTheSide.details().get("r2")).isGreaterThan(0.8);
        for (float a : onTheSide.attributions()) assertThat((double) a).isCloseTo(6, within(0.5));
    }

    /** A game that keeps every coalition it is asked about, its value a fixed function of them. */
    static final class Recording implements FeatureGame {
        final int m;
        final double[] weights;
        final double bias;
        final boolean curved;
        final List<boolean[]> asked = new ArrayList<>();
        final List<Double> answered = new ArrayList<>();

        Recording(int m, double[] weights, double bias, boolean curved) {
            this.m = m;
            this.weights = weights;
            this.bias = bias;
            this.curved = curved;
        }

        public int features() { return m; }

        public double[] values(boolean[][] present) {
            double[] v = new double[present.length];
            for (int i = 0; i < present.length; i++) {
                double s = bias;
                for (int j = 0; j < m; j++) if (present[i][j]) s += weights[j];
                v[i] = curved ? Math.sin(s) : s;
                asked.add(present[i].clone());
                answered.add(v[i]);
            }
            return v;
        }

        public float[] prediction() { return new float[] {0, 1}; }

        public int target() { return 1; }
    }

    @Test
    void limeOnCoalitionsOfALinearGameRecoversItsWeights() {
        Random r = new Random(System.nanoTime());
        for (Lime.Settings settings : new Lime.Settings[] {Lime.IMAGE, Lime.TEXT}) {
            int m = 5 + r.nextInt(30);
            double[] w = new double[m];
            double max = 0;
            for (int j = 0; j < m; j++) max = Math.max(max, Math.abs(w[j] = r.nextGaussian()));
            Explanation e = Lime.coalitions(new Recording(m, w, 0.3, false), settings, r.nextLong());
            assertThat(e.details().get("r2")).as("%s", settings).isGreaterThan(0.99);
            assertThat(e.details().get("samples")).isEqualTo(settings.samples());
            assertThat(e.target()).isEqualTo(1);
            for (int j = 0; j < m; j++)
                assertThat((double) e.attributions()[j]).as("%s m=%d feature %d", settings, m, j).isCloseTo(w[j], within(0.03 * max));
        }
    }

    @Test
    void coalitionsAreSampledAndWeighedAsDocumented() {
        Random r = new Random(System.nanoTime());
        int m = 10;
        double[] w = new double[m];
        for (int j = 0; j < m; j++) w[j] = r.nextGaussian();
        Recording game = new Recording(m, w, 0, true);
        Lime.Settings settings = Lime.TEXT.withSamples(4000);
        Explanation e = Lime.coalitions(game, settings, r.nextLong());
        assertThat(game.asked).hasSize(4000);
        assertThat(game.asked.get(0)).containsOnly(true);
        int[] off = new int[m + 1];
        double[][] x = new double[4000][m];
        double[] y = new double[4000], weights = new double[4000];
        for (int i = 0; i < 4000; i++) {
            boolean[] s = game.asked.get(i);
            int on = 0;
            double dot = 0, norm = 0;
            for (int j = 0; j < m; j++) {
                x[i][j] = s[j] ? 1 : 0;
                on += s[j] ? 1 : 0;
                dot += x[i][j];          // . the all-ones row
                norm += x[i][j] * x[i][j];
            }
            if (i > 0) off[m - on]++;
            double cosine = norm == 0 ? 0 : dot / (Math.sqrt(norm) * Math.sqrt(m));
            double d = (1 - cosine) * 100;
            weights[i] = Math.sqrt(Math.exp(-d * d / (25.0 * 25.0)));
            y[i] = game.answered.get(i);
        }
        assertThat(off[0]).isZero();
        for (int c = 1; c <= m; c++) assertThat(off[c]).as("%d switched off", c).isBetween(300, 500);   // 400 expected each
        double[] reference = naiveRidge(x, y, weights, 1);
        for (int j = 0; j < m; j++) assertThat((double) e.attributions()[j]).isCloseTo(reference[j + 1], within(1e-5));
        assertThat(e.details().get("intercept")).isCloseTo(reference[0], within(1e-6));
        assertThat(e.details().get("r2")).isCloseTo(naiveR2(x, y, weights, reference), within(1e-9)).isLessThan(0.99);
    }

    @Test
    void badArgumentsAreClearErrors() {
        Random r = new Random(1);
        ModelFunction f = ModelFunction.of(linear(3, r), ModelFunction.Output.AS_IS);
        float[] x = {1, 2, 3};
        assertThatThrownBy(() -> Lime.tabular(f, x, new float[0][], 0, 1)).hasMessageContaining("training rows");
        assertThatThrownBy(() -> Lime.tabular(f, x, new float[][] {{1, 2}}, 0, 1)).hasMessageContaining("training row 0 has 2 values");
        assertThatThrownBy(() -> Lime.tabular(f, new float[4], new float[][] {x}, 0, 1)).hasMessageContaining("row explained has 4");
        assertThatThrownBy(() -> Lime.tabular(f, x, new float[][] {x}, 2, 1)).hasMessageContaining("class 2 does not exist");
        assertThatThrownBy(() -> Lime.tabular(f, x, new float[][] {x}, 0, 100, 0, 1)).hasMessageContaining("kernel width");
        assertThatThrownBy(() -> Lime.IMAGE.withSamples(1)).hasMessageContaining("at least 2 samples");
    }
}
