package dev.jumbo.privacy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import org.junit.jupiter.api.Test;

class NoiseMechanismTest {
    final SecureNoise noise = new SecureNoise();

    @Test
    void laplaceScaleIsSensitivityOverEpsilon() {
        NoiseMechanism m = NoiseMechanism.laplace(0.5, 3);
        assertThat(m.scale()).isEqualTo(6.0);
        assertThat(m.variance()).isEqualTo(72.0);
        assertThat(m.delta()).isZero();
        assertThat(m.withSensitivity(1).scale()).isEqualTo(2.0);
    }

    @Test
    void classicGaussianSigmaIsSqrtTwoLnOnePointTwoFiveOverDeltaTimesSensitivityOverEpsilon() {
        NoiseMechanism m = NoiseMechanism.gaussian(0.5, 1e-5, 2);
        assertThat(m.scale()).isCloseTo(Math.sqrt(2 * Math.log(1.25e5)) * 2 / 0.5, within(1e-12));
        assertThat(m.withSensitivity(1).scale()).isCloseTo(m.scale() / 2, within(1e-12));
        assertThatThrownBy(() -> NoiseMechanism.gaussian(1, 1e-5, 1))
                .hasMessageContaining("epsilon < 1 only, got 1.0").hasMessageContaining("analyticGaussian");
    }

    @Test
    void erfcMatchesTabulatedValuesAndAnIntegralOfTheDensity() {
        // reference values of erfc to 16 digits, from mpmath at 30 digits
        double[][] table = {{0.5, 0.4795001221869535}, {1, 0.1572992070502851}, {2.5, 4.069520174449590e-4},
                {3, 2.209049699858544e-5}, {5, 1.537459794428035e-12}, {-1, 1.842700792949715}};
        for (double[] row : table) assertThat(NormalTail.erfc(row[0])).isCloseTo(row[1], within(1e-13 * row[1]));
        // far past underflow: the asymptotic series e^{-z^2}/(z sqrt(pi)) (1 - 1/(2z^2) + 3/(4z^4) - 15/(8z^6)), error ~1e-11 at z = 30
        double z = 30, z2 = z * z;
        double asymptotic = -z2 - Math.log(z * Math.sqrt(Math.PI)) + Math.log(1 - 1 / (2 * z2) + 3 / (4 * z2 * z2) - 15 / (8 * z2 * z2 * z2));
        assertThat(NormalTail.logErfc(z)).isCloseTo(asymptotic, within(1e-9));
        Random rnd = new Random();
        for (int i = 0; i < 20; i++) {
            double x = -6 + 8 * rnd.nextDouble();
            // Phi(x) by Simpson's rule on the density from -40 (where it is 1e-349) to x
            int steps = 200_000;
            double lo = -40, h = (x - lo) / steps, s = 0;
            for (int k = 0; k <= steps; k++) {
                double t = lo + k * h, w = k == 0 || k == steps ? 1 : (k % 2 == 1 ? 4 : 2);
                s += w * Math.exp(-t * t / 2);
            }
            double phi = s * h / 3 / Math.sqrt(2 * Math.PI);
            assertThat(NormalTail.cdf(x)).as("Phi(%s)", x).isCloseTo(phi, within(1e-9 * phi));
            assertThat(NormalTail.logCdf(x)).isCloseTo(Math.log(phi), within(1e-9));
        }
    }

    @Test
    void analyticGaussianMeetsDeltaExactlyByTheHockeyStickIntegral() {
        for (double[] ed : new double[][] {{0.1, 1e-5}, {0.5, 1e-6}, {1, 1e-5}, {3, 1e-7}, {8, 1e-5}}) {
            double eps = ed[0], delta = ed[1];
            NoiseMechanism.Gaussian m = NoiseMechanism.analyticGaussian(eps, delta, 1);
            // delta of N(0, s^2) against N(1, s^2): the integral of max(0, p - e^eps q), positive where x < 1/2 - eps s^2
            double achieved = hockeyStick(eps, m.sigma());
            assertThat(achieved).as("eps %s delta %s sigma %s", eps, delta, m.sigma()).isCloseTo(delta, within(1e-6 * delta));
            assertThat(hockeyStick(eps, m.sigma() * 0.99)).isGreaterThan(delta); // and no smaller sigma would do
            if (eps < 1) assertThat(m.sigma()).isLessThan(NoiseMechanism.gaussian(eps, delta, 1).sigma());
            assertThat(NoiseMechanism.analyticGaussian(eps, delta, 4).sigma()).isCloseTo(4 * m.sigma(), within(1e-9 * m.sigma()));
        }
    }

    private static double hockeyStick(double eps, double s) {
        double hi = 0.5 - eps * s * s, lo = hi - 40 * s, e = Math.exp(eps);
        int steps = 400_000;
        double h = (hi - lo) / steps, sum = 0, norm = 1 / (s * Math.sqrt(2 * Math.PI));
        for (int k = 0; k <= steps; k++) {
            double x = lo + k * h, w = k == 0 || k == steps ? 1 : (k % 2 == 1 ? 4 : 2);
            double p = norm * Math.exp(-x * x / (2 * s * s)), q = norm * Math.exp(-(x - 1) * (x - 1) / (2 * s * s));
            sum += w * Math.max(0, p - e * q);
        }
        return sum * h / 3;
    }

    @Test
    void noisyCountAndSumAreUnbiasedWithTheCalibratedVariance() {
        NoiseMechanism m = NoiseMechanism.laplace(0.8, 1);
        int n = 40_000;
        double sum = 0, sumSq = 0;
        for (int i = 0; i < n; i++) {
            double c = NoiseMechanism.noisyCount(1000, m, noise);
            sum += c;
            sumSq += c * c;
        }
        double mean = sum / n, variance = sumSq / n - mean * mean;
        assertThat(mean).isCloseTo(1000, within(0.1));                     // standard error 0.009
        assertThat(variance).isCloseTo(2 / (0.8 * 0.8), within(0.1 * 2 / 0.64));
        // values outside [-2, 10] are clamped: the true clamped sum is -2 + 3 + 10 = 11; sensitivity 10
        double[] values = {-7, 3, 25};
        NoiseMechanism.Gaussian g = NoiseMechanism.analyticGaussian(1, 1e-5, 1);
        sum = 0;
        sumSq = 0;
        for (int i = 0; i < n; i++) {
            double s = NoiseMechanism.noisySum(values, -2, 10, g, noise);
            sum += s;
            sumSq += s * s;
        }
        mean = sum / n;
        variance = sumSq / n - mean * mean;
        double sigma = g.withSensitivity(10).sigma();
        assertThat(sigma).isCloseTo(10 * g.sigma(), within(1e-9));
        assertThat(mean).isCloseTo(11, within(0.05 * sigma));
        assertThat(variance).isCloseTo(sigma * sigma, within(0.1 * sigma * sigma));
    }

    @Test
    void noisyMeanOfManyValuesIsCloseAndStaysInsideTheBounds() {
        double[] ages = new double[100_000];
        Random rnd = new Random(3);
        double exact = 0;
        for (int i = 0; i < ages.length; i++) {
            ages[i] = 17 + 73 * rnd.nextDouble();
            exact += ages[i];
        }
        exact /= ages.length;
        double released = NoiseMechanism.noisyMean(ages, 17, 90, NoiseMechanism.laplace(1, 1), noise);
        assertThat(released).isCloseTo(exact, within(0.05)); // sum noise scale 90 over 100,000 values
        double tiny = NoiseMechanism.noisyMean(new double[] {50}, 17, 90, NoiseMechanism.laplace(0.01, 1), noise);
        assertThat(tiny).isBetween(17.0, 90.0);
    }

    @Test
    void rejectsBadEpsilonDeltaSensitivityBoundsAndValues() {
        assertThatThrownBy(() -> NoiseMechanism.laplace(0, 1)).hasMessageContaining("epsilon must be positive and finite, got 0.0");
        assertThatThrownBy(() -> NoiseMechanism.laplace(1, -1)).hasMessageContaining("sensitivity must be positive");
        assertThatThrownBy(() -> NoiseMechanism.analyticGaussian(1, 0, 1)).hasMessageContaining("delta must be in (0, 1), got 0.0");
        assertThatThrownBy(() -> NoiseMechanism.gaussian(0.5, 1, 1)).hasMessageContaining("delta must be in (0, 1), got 1.0");
        NoiseMechanism m = NoiseMechanism.laplace(1, 1);
        assertThatThrownBy(() -> NoiseMechanism.noisySum(new double[] {1}, 5, 2, m, noise)).hasMessageContaining("[5.0, 2.0]");
        assertThatThrownBy(() -> NoiseMechanism.noisySum(new double[] {1, Double.NaN}, 0, 2, m, noise)).hasMessageContaining("values[1] is NaN");
        assertThatThrownBy(() -> NoiseMechanism.noisyCount(-3, m, noise)).hasMessageContaining("got -3");
        assertThatThrownBy(() -> m.release(Double.POSITIVE_INFINITY, noise)).hasMessageContaining("finite");
    }
}
