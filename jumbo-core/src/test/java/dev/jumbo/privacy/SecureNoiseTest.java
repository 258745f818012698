package dev.jumbo.privacy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** Moments and CDF points of the samplers over many draws; tolerances are about ten standard errors. */
class SecureNoiseTest {
    static final int N = 200_000;
    final SecureNoise noise = new SecureNoise();

    @Test
    void laplaceDrawsHaveMeanZeroVarianceTwoBSquaredAndTheLaplaceCdf() {
        double b = 3.5, sum = 0, sumSq = 0;
        int beyondB = 0, belowMinus2B = 0;
        for (int i = 0; i < N; i++) {
            double x = noise.laplace(b);
            sum += x;
            sumSq += x * x;
            if (Math.abs(x) > b) beyondB++;
            if (x < -2 * b) belowMinus2B++;
        }
        double mean = sum / N, variance = sumSq / N - mean * mean;
        assertThat(mean).isCloseTo(0, within(0.03 * b));                 // standard error 0.0032 b
        assertThat(variance).isCloseTo(2 * b * b, within(0.05 * 2 * b * b)); // standard error 0.5%
        assertThat(beyondB / (double) N).isCloseTo(Math.exp(-1), within(0.01));          // P(|X| > b) = e^-1
        assertThat(belowMinus2B / (double) N).isCloseTo(0.5 * Math.exp(-2), within(0.005)); // CDF(-2b) = e^-2 / 2
    }

    @Test
    void gaussianDrawsHaveMeanZeroVarianceSigmaSquaredAndTheNormalCdf() {
        double sigma = 0.7, sum = 0, sumSq = 0;
        int withinSigma = 0;
        for (int i = 0; i < N; i++) {
            double x = noise.gaussian(sigma);
            sum += x;
            sumSq += x * x;
            if (Math.abs(x) < sigma) withinSigma++;
        }
        double mean = sum / N, variance = sumSq / N - mean * mean;
        assertThat(mean).isCloseTo(0, within(0.03 * sigma));
        assertThat(variance).isCloseTo(sigma * sigma, within(0.04 * sigma * sigma));
        assertThat(withinSigma / (double) N).isCloseTo(0.682689, within(0.01));
    }

    @Test
    void uniformStaysInsideTheOpenIntervalWithMeanOneHalf() {
        double sum = 0;
        for (int i = 0; i < N; i++) {
            double u = noise.uniform();
            assertThat(u).isGreaterThan(0).isLessThan(1);
            sum += u;
        }
        assertThat(sum / N).isCloseTo(0.5, within(0.01));
    }

    @Test
    void rejectsScalesThatAreNotPositiveAndFinite() {
        assertThatThrownBy(() -> noise.laplace(0)).hasMessageContaining("Laplace scale must be positive and finite, got 0.0");
        assertThatThrownBy(() -> noise.laplace(Double.NaN)).hasMessageContaining("got NaN");
        assertThatThrownBy(() -> noise.gaussian(-1)).hasMessageContaining("Gaussian sigma");
        assertThatThrownBy(() -> noise.gaussian(Double.POSITIVE_INFINITY)).hasMessageContaining("Infinity");
        assertThatThrownBy(() -> new SecureNoise(null)).hasMessageContaining("SecureRandom");
    }
}
