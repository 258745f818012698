package dev.jumbo.explain;

/**
 * Weighted linear regression, the surrogate fit under LIME and KernelSHAP, in double precision.
 *
 * <p>{@link #ridge} is scikit-learn's {@code Ridge(alpha, fit_intercept=True)} with sample weights,
 * which is what lime fits: the columns and targets are centred on their weighted means so the
 * intercept is not penalised, then {@code (Xc' W Xc + alpha I) b = Xc' W yc} is solved.
 * {@link #solve} is the plain weighted normal equations that KernelSHAP solves.
 *
 * <pre>{@code
 * WeightedLeastSquares.Fit fit = WeightedLeastSquares.ridge(x, y, w, 1.0);
 * double r2 = fit.r2();   // weighted R² of the fit on its own samples, lime's "score"
 * }</pre>
 */
public final class WeightedLeastSquares {
    private WeightedLeastSquares() {}

    /**
     * A fitted linear model {@code y ~ intercept + x . coefficients}.
     *
     * @param coefficients one per column
     * @param intercept    the constant term
     * @param r2           the weighted coefficient of determination on the samples fitted
     */
    public record Fit(double[] coefficients, double intercept, double r2) {}

    /**
     * Ridge regression with an unpenalised intercept on rows {@code x[i]}, targets {@code y[i]} and sample weights {@code w[i]}.
     *
     * @throws IllegalArgumentException if the sizes disagree, a weight is negative or not finite, or all weights are 0
     */
    public static Fit ridge(double[][] x, double[] y, double[] w, double alpha) {
        int n = x.length;
        if (n == 0 || y.length != n || w.length != n)
            throw new IllegalArgumentException("ridge needs as many targets and weights as rows, got " + n + " rows, "
                    + y.length + " targets and " + w.length + " weights");
        if (!(alpha >= 0)) throw new IllegalArgumentException("ridge alpha must be 0 or more, got " + alpha);
        int d = x[0].length;
        double total = 0;
        for (int i = 0; i < n; i++) {
            if (x[i].length != d) throw new IllegalArgumentException("row " + i + " has " + x[i].length + " columns, not " + d);
            if (!(w[i] >= 0) || Double.isInfinite(w[i])) throw new IllegalArgumentException("weight " + i + " is " + w[i]);
            total += w[i];
        }
        if (total == 0) throw new IllegalArgumentException("every sample weight is 0");
        double[] mean = new double[d];
        double yMean = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) mean[j] += w[i] * x[i][j];
            yMean += w[i] * y[i];
        }
        for (int j = 0; j < d; j++) mean[j] /= total;
        yMean /= total;
        double[][] a = new double[d][d];
        double[] rhs = new double[d];
        double[] centred = new double[d];
        for (int i = 0; i < n; i++) {
            if (w[i] == 0) continue;
            for (int j = 0; j < d; j++) centred[j] = x[i][j] - mean[j];
            double yc = w[i] * (y[i] - yMean);
            for (int j = 0; j < d; j++) {
                double wj = w[i] * centred[j];
                rhs[j] += centred[j] * yc;
                for (int l = 0; l <= j; l++) a[j][l] += wj * centred[l];
            }
        }
        for (int j = 0; j < d; j++) {
            for (int l = 0; l < j; l++) a[l][j] = a[j][l];
            a[j][j] += alpha;
        }
        double[] b = solveSymmetric(a, rhs);
        double intercept = yMean;
        for (int j = 0; j < d; j++) intercept -= mean[j] * b[j];
        return new Fit(b, intercept, r2(x, y, w, b, intercept));
    }

    /**
     * The weighted least-squares coefficients without intercept: {@code (X' W X) b = X' W y}.
     *
     * @throws IllegalArgumentException if the sizes disagree
     */
    public static double[] solve(double[][] x, double[] y, double[] w) {
        int n = x.length;
        if (n == 0 || y.length != n || w.length != n)
            throw new IllegalArgumentException("least squares needs as many targets and weights as rows, got " + n + " rows, "
                    + y.length + " targets and " + w.length + " weights");
        int d = x[0].length;
        double[][] a = new double[d][d];
        double[] rhs = new double[d];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) {
                double wj = w[i] * x[i][j];
                rhs[j] += wj * y[i];
                for (int l = 0; l <= j; l++) a[j][l] += wj * x[i][l];
            }
        }
        for (int j = 0; j < d; j++)
            for (int l = 0; l < j; l++) a[l][j] = a[j][l];
        return solveSymmetric(a, rhs);
    }

    /** Weighted R² as scikit-learn's {@code r2_score}: 1 for a perfect fit of constant targets, 0 for an imperfect one. */
    static double r2(double[][] x, double[] y, double[] w, double[] b, double intercept) {
        double total = 0, yMean = 0;
        for (int i = 0; i < y.length; i++) {
            total += w[i];
            yMean += w[i] * y[i];
        }
        yMean /= total;
        double residual = 0, spread = 0;
        for (int i = 0; i < y.length; i++) {
            double p = intercept;
            for (int j = 0; j < b.length; j++) p += x[i][j] * b[j];
            residual += w[i] * (y[i] - p) * (y[i] - p);
            spread += w[i] * (y[i] - yMean) * (y[i] - yMean);
        }
        if (spread == 0) return residual == 0 ? 1 : 0;
        return 1 - residual / spread;
    }

    /**
     * Solves {@code a b = rhs} for a symmetric {@code a} by Gaussian elimination with partial pivoting
     * (not Cholesky: KernelSHAP's system is only positive semi-definite when a feature never varies).
     * A pivot that vanishes next to the matrix's scale marks a direction the data does not determine;
     * its coefficient is set to 0 (the least-norm choice for that direction) instead of dividing by noise.
     */
    static double[] solveSymmetric(double[][] a, double[] rhs) {
        int d = rhs.length;
        double[][] m = new double[d][];
        for (int j = 0; j < d; j++) m[j] = a[j].clone();
        double[] r = rhs.clone();
        double scale = 0;
        for (int j = 0; j < d; j++) scale = Math.max(scale, Math.abs(m[j][j]));
        double tiny = Math.max(scale, Double.MIN_NORMAL) * 1e-12;
        int[] pivotRow = new int[d];
        boolean[] singular = new boolean[d];
        int row = 0;
        for (int col = 0; col < d; col++) {
            int best = row;
            for (int i = row + 1; i < d; i++) if (Math.abs(m[i][col]) > Math.abs(m[best][col])) best = i;
            if (Math.abs(m[best][col]) <= tiny) {   // row <= col < d, so m[best] exists
                singular[col] = true;
                continue;
            }
            double[] t = m[row]; m[row] = m[best]; m[best] = t;
            double tr = r[row]; r[row] = r[best]; r[best] = tr;
            for (int i = row + 1; i < d; i++) {
                double f = m[i][col] / m[row][col];
                if (f == 0) continue;
                for (int l = col; l < d; l++) m[i][l] -= f * m[row][l];
                r[i] -= f * r[row];
            }
            pivotRow[col] = row++;
        }
        double[] b = new double[d];
        for (int col = d - 1; col >= 0; col--) {
            if (singular[col]) continue;
            int i = pivotRow[col];
            double s = r[i];
            for (int l = col + 1; l < d; l++) s -= m[i][l] * b[l];
            b[col] = s / m[i][col];
        }
        return b;
    }
}
