package dev.jumbo.privacy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.jumbo.privacy.RdpAccountant.Conversion;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RdpAccountantTest {
    /** TensorFlow Privacy's compute_dp_sgd_privacy example: MNIST, 60,000 examples. */
    @Test
    void mnistBatch150Sigma13Over15EpochsSpends07242AtOrder19() {
        long steps = RdpAccountant.steps(60_000, 150, 15);
        assertThat(steps).isEqualTo(6000);
        var spent = RdpAccountant.epsilon(150.0 / 60_000, 1.3, steps, 1e-5);
        assertThat(spent.epsilon()).isCloseTo(0.7242, within(5e-5));
        assertThat(spent.order()).isEqualTo(19.0);
    }

    @Test
    void hundredThousandExamplesSigma1Over30EpochsSpends14155AtOrder13() {
        long steps = RdpAccountant.steps(100_000, 100, 30);
        var spent = RdpAccountant.epsilon(100.0 / 100_000, 1.0, steps, 1e-7);
        assertThat(spent.epsilon()).isCloseTo(1.4155, within(5e-5));
        assertThat(spent.order()).isEqualTo(13.0);
    }

    @Test
    void tutorialSettingGives2597ImprovedAnd3009Classic() {
        long steps = RdpAccountant.steps(60_000, 256, 60);
        assertThat(steps).isEqualTo(14_063);   // ceil(60 * 60000 / 256) = ceil(14062.5)
        double q = 256.0 / 60_000;
        assertThat(RdpAccountant.epsilon(q, 1.1, steps, 1e-5, Conversion.IMPROVED).epsilon()).isCloseTo(2.597, within(5e-4));
        // TF Privacy's tutorial figure comes from its own (integer-heavy) orders: order 9
        var classic = RdpAccountant.epsilon(q, 1.1, steps, 1e-5, Conversion.CLASSIC, RdpAccountant.TF_PRIVACY_ORDERS);
        assertThat(classic.epsilon()).isCloseTo(3.009, within(5e-4));
        assertThat(classic.order()).isEqualTo(9.0);
        // Opacus's finer orders find a slightly better one (8.8)
        assertThat(RdpAccountant.epsilon(q, 1.1, steps, 1e-5, Conversion.CLASSIC).epsilon()).isCloseTo(3.0084, within(5e-4)).isLessThan(classic.epsilon());
    }

    @Test
    void noiseForEpsilon8AtRate004Over90EpochsIsAbout1416() {
        long steps = Math.round(90 / 0.04);
        double sigma = RdpAccountant.noiseFor(8, 1e-5, 0.04, steps);
        assertThat(sigma).isCloseTo(1.416, within(0.01));
        // the solved sigma meets the target and a slightly smaller one does not
        assertThat(RdpAccountant.epsilon(0.04, sigma, steps, 1e-5).epsilon()).isLessThanOrEqualTo(8);
        assertThat(RdpAccountant.epsilon(0.04, sigma * 0.999, steps, 1e-5).epsilon()).isGreaterThan(8);
    }

    @Test
    void fractionalSeriesAgreesWithTheBinomialSumAtIntegerOrders() {
        Random rnd = new Random();
        for (int trial = 0; trial < 20; trial++) {
            double q = 0.001 + 0.2 * rnd.nextDouble(), sigma = 0.7 + 3 * rnd.nextDouble();
            int order = 2 + rnd.nextInt(30);
            double integer = RdpAccountant.logAIntegerOrder(q, sigma, order);
            double series = RdpAccountant.logAFractionalOrder(q, sigma, order);
            assertThat(series).as("q %s sigma %s order %s", q, sigma, order).isCloseTo(integer, within(1e-9 * Math.max(1, Math.abs(integer))));
        }
    }

    @Test
    void rdpGrowsWithOrderAndIsContinuousAcrossIntegers() {
        double q = 0.01, sigma = 1.1;
        double below = RdpAccountant.rdp(q, sigma, 1, 4.999999), at = RdpAccountant.rdp(q, sigma, 1, 5), above = RdpAccountant.rdp(q, sigma, 1, 5.000001);
        assertThat(below).isCloseTo(at, within(1e-6 * at)).isLessThanOrEqualTo(above);
        double previous = 0;
        for (double a : RdpAccountant.DEFAULT_ORDERS) {
            double r = RdpAccountant.rdp(q, sigma, 1, a);
            assertThat(r).as("order %s", a).isGreaterThanOrEqualTo(previous);
            previous = r;
        }
    }

    @Test
    void fullBatchIsTheGaussianMechanism() {
        assertThat(RdpAccountant.rdp(1, 2, 3, 10)).isCloseTo(3 * 10 / (2 * 4.0), within(1e-12));
        assertThat(RdpAccountant.rdp(0, 2, 3, 10)).isZero();
    }

    @Test
    void logErfcMatchesScipyIncludingDeepTails() {
        // log(2) + scipy.special.log_ndtr(-x * sqrt(2)), as TF Privacy's _log_erfc computes it
        double[][] ref = {{-3.0, 0.6931361352504468}, {-0.7, 0.5174841229791057}, {0.0, 0.0}, {0.3, -0.39843005144008525},
                {1.5, -3.3844920895515536}, {1.99, -5.320852015139978}, {2.0, -5.36494126461664}, {2.5, -7.806815272727267},
                {5.0, -27.200889545537446}, {12.0, -147.06071417798705}, {40.0, -1604.2615566532743}};
        for (double[] r : ref)
            assertThat(RdpAccountant.logErfc(r[0])).as("x = %s", r[0]).isCloseTo(r[1], within(1e-12 * Math.max(1, Math.abs(r[1]))));
    }

    @Test
    void refusesBadArgumentsNamingThem() {
        assertThatThrownBy(() -> RdpAccountant.epsilon(1.5, 1, 10, 1e-5)).hasMessageContaining("sampling rate q");
        assertThatThrownBy(() -> RdpAccountant.epsilon(0.1, 1, 10, 0)).hasMessageContaining("delta");
        assertThatThrownBy(() -> RdpAccountant.steps(100, 200, 1)).hasMessageContaining("batch size 200");
        assertThatThrownBy(() -> RdpAccountant.noiseFor(-1, 1e-5, 0.1, 10)).hasMessageContaining("target epsilon");
    }
}
