package dev.jumbo.privacy;

import static dev.jumbo.privacy.SecureNoise.requirePositive;

/**
 * Calibrated noise for releasing a statistic with differential privacy: the Laplace mechanism
 * (pure epsilon-DP) and the Gaussian mechanism ((epsilon, delta)-DP), each sized to the
 * statistic's sensitivity, the most one person can change it (neighbouring datasets differ by
 * one person added or removed). Draws come from a {@link SecureNoise}.
 *
 * <ul>
 *   <li>{@link #laplace}: scale {@code b = sensitivity / epsilon} (Dwork et al. 2006).
 *   <li>{@link #gaussian}: the classic calibration {@code sigma = sqrt(2 ln(1.25/delta)) sensitivity / epsilon}
 *       (Dwork and Roth 2014, Theorem A.1), proven only for {@code epsilon < 1}; larger epsilons are refused.
 *   <li>{@link #analyticGaussian}: the smallest sigma that is (epsilon, delta)-DP for any epsilon > 0,
 *       found by bisection on Balle and Wang's exact condition (2018, Theorem 8):
 *       {@code Phi(D/(2 sigma) - epsilon sigma/D) - e^epsilon Phi(-D/(2 sigma) - epsilon sigma/D) <= delta}
 *       for sensitivity D; always at most the classic sigma.
 * </ul>
 *
 * <pre>{@code
 * SecureNoise noise = new SecureNoise();
 * NoiseMechanism m = NoiseMechanism.laplace(0.5, 1);                      // epsilon 0.5 per release
 * double count = NoiseMechanism.noisyCount(people.size(), m, noise);
 * double meanAge = NoiseMechanism.noisyMean(ages, 17, 90, m, noise);       // spends 2 x epsilon
 * }</pre>
 */
public sealed interface NoiseMechanism permits NoiseMechanism.Laplace, NoiseMechanism.Gaussian {
    /** The privacy loss bound of one release. */
    double epsilon();

    /** The probability with which the bound may fail; 0 for the Laplace mechanism. */
    double delta();

    /** The sensitivity the noise is sized for. */
    double sensitivity();

    /** The noise's scale: Laplace's b or the Gaussian's sigma. */
    double scale();

    /** The noise's variance: 2 b^2 or sigma^2. */
    double variance();

    /** The same privacy for a statistic of another sensitivity (the scale grows in proportion). */
    NoiseMechanism withSensitivity(double sensitivity);

    /** One draw of the noise. */
    double sample(SecureNoise noise);

    /** {@code value} plus one draw of the noise. */
    default double release(double value, SecureNoise noise) {
        if (!Double.isFinite(value)) throw new IllegalArgumentException("the value to release must be finite, got " + value);
        return value + sample(noise);
    }

    /** The Laplace mechanism: epsilon-DP with scale {@code sensitivity / epsilon}. */
    static Laplace laplace(double epsilon, double sensitivity) {
        return new Laplace(epsilon, sensitivity);
    }

    /**
     * The classic Gaussian mechanism, {@code sigma = sqrt(2 ln(1.25/delta)) sensitivity / epsilon}.
     *
     * @throws IllegalArgumentException if epsilon is not in (0, 1), where the classic proof holds
     *     (use {@link #analyticGaussian} there), or delta is not in (0, 1)
     */
    static Gaussian gaussian(double epsilon, double delta, double sensitivity) {
        checkEpsilonDelta(epsilon, delta);
        if (epsilon >= 1)
            throw new IllegalArgumentException("the classic Gaussian mechanism is proven for epsilon < 1 only, got " + epsilon
                    + "; use analyticGaussian for larger epsilons");
        requirePositive("sensitivity", sensitivity);
        return new Gaussian(epsilon, delta, sensitivity, Math.sqrt(2 * Math.log(1.25 / delta)) * sensitivity / epsilon);
    }

    /** Balle and Wang's analytic Gaussian mechanism: the smallest sigma meeting (epsilon, delta) exactly. */
    static Gaussian analyticGaussian(double epsilon, double delta, double sensitivity) {
        checkEpsilonDelta(epsilon, delta);
        requirePositive("sensitivity", sensitivity);
        // delta(sigma) falls as sigma grows; bracket the crossing, then bisect (on sensitivity 1, scaled after)
        double lo = 1e-6, hi = 1;
        while (gaussianDelta(epsilon, hi) > delta) {
            lo = hi;
            hi *= 2;
            if (hi > 1e12) throw new IllegalArgumentException("no sigma below 1e12 meets epsilon " + epsilon + ", delta " + delta);
        }
        for (int i = 0; i < 200 && hi - lo > 1e-14 * hi; i++) {
            double mid = 0.5 * (lo + hi);
            if (gaussianDelta(epsilon, mid) > delta) lo = mid;
            else hi = mid;
        }
        return new Gaussian(epsilon, delta, sensitivity, hi * sensitivity);
    }

    /**
     * The smallest delta for which Gaussian noise of {@code sigma} on a statistic of sensitivity 1
     * is (epsilon, delta)-DP (Balle and Wang 2018, Theorem 8).
     */
    static double gaussianDelta(double epsilon, double sigma) {
        double a = 1 / (2 * sigma), b = epsilon * sigma;
        // e^epsilon Phi(-a - b) in logarithms: Phi underflows long before the product does
        double delta = NormalTail.cdf(a - b) - Math.exp(epsilon + NormalTail.logCdf(-a - b));
        return Math.max(0, delta);
    }

    /** A count (sensitivity 1) with noise of {@code mechanism}'s privacy. */
    static double noisyCount(long count, NoiseMechanism mechanism, SecureNoise noise) {
        if (count < 0) throw new IllegalArgumentException("a count must not be negative, got " + count);
        return mechanism.withSensitivity(1).release(count, noise);
    }

    /**
     * The sum of {@code values} each clamped to [lower, upper], with noise for sensitivity
     * {@code max(|lower|, |upper|)} (what adding or removing one clamped value can change).
     */
    static double noisySum(double[] values, double lower, double upper, NoiseMechanism mechanism, SecureNoise noise) {
        checkBounds(lower, upper);
        double sum = 0;
        for (int i = 0; i < values.length; i++) {
            if (Double.isNaN(values[i])) throw new IllegalArgumentException("values[" + i + "] is NaN");
            sum += Math.clamp(values[i], lower, upper);
        }
        double sensitivity = Math.max(Math.abs(lower), Math.abs(upper));
        if (sensitivity == 0) return 0; // every clamped value is 0: the sum reveals nothing
        return mechanism.withSensitivity(sensitivity).release(sum, noise);
    }

    /**
     * The mean of {@code values} clamped to [lower, upper], as a noisy sum over a noisy count
     * (at least 1), clamped to [lower, upper]. It makes two releases, so it spends twice the
     * mechanism's epsilon (and delta) by basic composition: give it half the budget.
     */
    static double noisyMean(double[] values, double lower, double upper, NoiseMechanism mechanism, SecureNoise noise) {
        checkBounds(lower, upper);
        double sum = noisySum(values, lower, upper, mechanism, noise);
        double count = Math.max(1, noisyCount(values.length, mechanism, noise));
        return Math.clamp(sum / count, lower, upper);
    }

    private static void checkBounds(double lower, double upper) {
        if (!Double.isFinite(lower) || !Double.isFinite(upper) || lower > upper)
            throw new IllegalArgumentException("clamping bounds must be finite with lower <= upper, got [" + lower + ", " + upper + "]");
    }

    private static void checkEpsilonDelta(double epsilon, double delta) {
        requirePositive("epsilon", epsilon);
        if (!(delta > 0 && delta < 1)) throw new IllegalArgumentException("delta must be in (0, 1), got " + delta);
    }

    /** Laplace noise of scale {@code sensitivity / epsilon}: epsilon-DP. */
    record Laplace(double epsilon, double sensitivity) implements NoiseMechanism {
        public Laplace {
            requirePositive("epsilon", epsilon);
            requirePositive("sensitivity", sensitivity);
        }

        @Override
        public double delta() {
            return 0;
        }

        @Override
        public double scale() {
            return sensitivity / epsilon;
        }

        @Override
        public double variance() {
            return 2 * scale() * scale();
        }

        @Override
        public Laplace withSensitivity(double sensitivity) {
            return new Laplace(epsilon, sensitivity);
        }

        @Override
        public double sample(SecureNoise noise) {
            return noise.laplace(scale());
        }
    }

    /**
     * Gaussian noise of standard deviation {@code sigma}, (epsilon, delta)-DP for the sensitivity;
     * made by {@link #gaussian} or {@link #analyticGaussian}, which compute sigma.
     */
    record Gaussian(double epsilon, double delta, double sensitivity, double sigma) implements NoiseMechanism {
        public Gaussian {
            checkEpsilonDelta(epsilon, delta);
            requirePositive("sensitivity", sensitivity);
            requirePositive("sigma", sigma);
        }

        @Override
        public double scale() {
            return sigma;
        }

        @Override
        public double variance() {
            return sigma * sigma;
        }

        @Override
        public Gaussian withSensitivity(double sensitivity) {
            requirePositive("sensitivity", sensitivity);
            return new Gaussian(epsilon, delta, sensitivity, sigma / this.sensitivity * sensitivity);
        }

        @Override
        public double sample(SecureNoise noise) {
            return noise.gaussian(sigma);
        }
    }
}
