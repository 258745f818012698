package dev.jumbo.privacy;

/**
 * The standard normal CDF accurate in its tails (relative error near 1e-14 down to Phi(-37)),
 * and its logarithm beyond, for calibrating Gaussian noise: the JDK has no erfc.
 */
final class NormalTail {
    private static final double SQRT_PI = Math.sqrt(Math.PI);
    private static final double SQRT_2 = Math.sqrt(2);
    // below it the positive series for erf; above it the continued fraction for erfc, which converges fast there
    private static final double SWITCH = 2.5;

    private NormalTail() {}

    /** Phi(x) = P(N(0, 1) <= x). */
    static double cdf(double x) {
        return 0.5 * erfc(-x / SQRT_2);
    }

    /** log Phi(x), finite far past where Phi(x) underflows. */
    static double logCdf(double x) {
        return Math.log(0.5) + logErfc(-x / SQRT_2);
    }

    /** The complementary error function. */
    static double erfc(double z) {
        if (Double.isNaN(z)) return Double.NaN;
        if (z < 0) return 2 - erfc(-z);
        if (z < SWITCH) return 1 - erfSeries(z);
        return Math.exp(-z * z) / (SQRT_PI * continuedFraction(z));
    }

    static double logErfc(double z) {
        if (z < SWITCH) return Math.log(erfc(z));
        return -z * z - Math.log(SQRT_PI * continuedFraction(z));
    }

    // erf(z) = 2/sqrt(pi) e^{-z^2} sum_n (2z^2)^n z / (1*3*...*(2n+1)): all terms positive, so nothing cancels
    private static double erfSeries(double z) {
        double term = z, sum = z, twoZ2 = 2 * z * z;
        for (int n = 1; n < 500 && term > 1e-17 * sum; n++) {
            term *= twoZ2 / (2 * n + 1);
            sum += term;
        }
        return 2 / SQRT_PI * Math.exp(-z * z) * sum;
    }

    // erfc(z) = e^{-z^2}/sqrt(pi) / (z + (1/2)/(z + (2/2)/(z + (3/2)/(z + ...)))), evaluated from the bottom up
    private static double continuedFraction(double z) {
        double f = z;
        for (int k = 150; k >= 1; k--) f = z + (k / 2.0) / f;
        return f;
    }
}
