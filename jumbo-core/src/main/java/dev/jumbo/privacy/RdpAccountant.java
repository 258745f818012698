package dev.jumbo.privacy;

import java.util.ArrayList;
import java.util.List;

/**
 * Rényi-DP accounting of the sampled Gaussian mechanism (DP-SGD with Poisson sampling at rate
 * {@code q}, noise multiplier {@code sigma}), converted to (epsilon, delta).
 *
 * <p>The RDP of one step at order {@code a} is {@code log(A_a) / (a - 1)} with {@code A_a} from
 * Mironov, Talwar and Zhang (2019), "Rényi Differential Privacy of the Sampled Gaussian
 * Mechanism": the binomial sum (their Section 3.3) for integer orders, the two-sided series with
 * {@code erfc} terms for fractional ones, computed in log space as TensorFlow Privacy's and
 * Opacus's {@code rdp_analysis} do; steps add up. The orders are Opacus's defaults
 * {@code 1 + x / 10} for x = 1..99 and 12..63.
 *
 * <p>Conversion to (epsilon, delta), minimised over the orders: by default the improved bound of
 * Balle et al. (2020), "Hypothesis testing interpretations and Rényi DP" (Opacus's
 * {@code get_privacy_spent}):
 * {@code eps = rdp - (log(delta) + log(a)) / (a - 1) + log((a - 1) / a)}; on request the classic
 * {@code eps = rdp - log(delta) / (a - 1)} (Mironov 2017), the figure TensorFlow Privacy's
 * tutorial prints.
 *
 * <pre>{@code
 * long steps = RdpAccountant.steps(60_000, 256, 60);                   // 14,063
 * var spent = RdpAccountant.epsilon(256.0 / 60_000, 1.1, steps, 1e-5, Conversion.IMPROVED);
 * // spent.epsilon() about 2.597, spent.order() the best order
 * double sigma = RdpAccountant.noiseFor(8, 1e-5, 0.04, 2250);           // about 1.42
 * }</pre>
 */
public final class RdpAccountant {
    /** How RDP is turned into (epsilon, delta). */
    public enum Conversion {
        /** Balle et al. 2020, Opacus's default. */
        IMPROVED,
        /** {@code rdp - log(delta) / (order - 1)}, TensorFlow Privacy's tutorial. */
        CLASSIC
    }

    /** The epsilon spent and the order that gave it. */
    public record Spent(double epsilon, double order) {}

    /** Opacus's default orders: 1.1, 1.2, ..., 10.9, then 12, 13, ..., 63. */
    public static final List<Double> DEFAULT_ORDERS = defaultOrders();

    /**
     * The orders of TensorFlow Privacy's {@code compute_dp_sgd_privacy} (1.25 to 4.5, 5 to 63, 128,
     * 256, 512): with {@link Conversion#CLASSIC} they reproduce the figures its tutorial prints
     * (3.009 where Opacus's finer grid finds 3.008 at order 8.8).
     */
    public static final List<Double> TF_PRIVACY_ORDERS = tfPrivacyOrders();

    private RdpAccountant() {}

    private static List<Double> tfPrivacyOrders() {
        List<Double> orders = new ArrayList<>(List.of(1.25, 1.5, 1.75, 2.0, 2.25, 2.5, 3.0, 3.5, 4.0, 4.5));
        for (int a = 5; a < 64; a++) orders.add((double) a);
        orders.addAll(List.of(128.0, 256.0, 512.0));
        return List.copyOf(orders);
    }

    private static List<Double> defaultOrders() {
        List<Double> orders = new ArrayList<>();
        for (int x = 1; x < 100; x++) orders.add(1 + x / 10.0);
        for (int a = 12; a < 64; a++) orders.add((double) a);
        return List.copyOf(orders);
    }

    /**
     * Steps of {@code epochs} passes over {@code n} examples in (expected) batches of
     * {@code batchSize}: {@code ceil(epochs * n / batchSize)}, as TensorFlow Privacy's
     * {@code compute_dp_sgd_privacy} counts them.
     */
    public static long steps(long n, int batchSize, double epochs) {
        if (n <= 0 || batchSize <= 0 || batchSize > n)
            throw new IllegalArgumentException("need 0 < batch size <= n, got batch size " + batchSize + " and n " + n);
        if (!(epochs > 0) || Double.isInfinite(epochs)) throw new IllegalArgumentException("epochs must be positive, got " + epochs);
        return (long) Math.ceil(epochs * n / batchSize);
    }

    /** The RDP of {@code steps} steps of the sampled Gaussian mechanism at {@code order}. */
    public static double rdp(double q, double sigma, long steps, double order) {
        check(q, sigma, steps);
        if (!(order > 1)) throw new IllegalArgumentException("RDP order must be > 1, got " + order);
        return rdpOfOneStep(q, sigma, order) * steps;
    }

    /** The smallest epsilon over {@link #DEFAULT_ORDERS}, with the improved conversion. */
    public static Spent epsilon(double q, double sigma, long steps, double delta) {
        return epsilon(q, sigma, steps, delta, Conversion.IMPROVED);
    }

    /** The smallest epsilon over {@link #DEFAULT_ORDERS} with the given conversion. */
    public static Spent epsilon(double q, double sigma, long steps, double delta, Conversion conversion) {
        return epsilon(q, sigma, steps, delta, conversion, DEFAULT_ORDERS);
    }

    /** The smallest epsilon over the given orders (each > 1) with the given conversion. */
    public static Spent epsilon(double q, double sigma, long steps, double delta, Conversion conversion, List<Double> orders) {
        check(q, sigma, steps);
        if (orders.isEmpty()) throw new IllegalArgumentException("no RDP orders given");
        if (!(delta > 0 && delta < 1)) throw new IllegalArgumentException("delta must be in (0, 1), got " + delta);
        double best = Double.POSITIVE_INFINITY, bestOrder = Double.NaN;
        for (double a : orders) {
            if (!(a > 1)) throw new IllegalArgumentException("RDP order must be > 1, got " + a);
            double r = rdpOfOneStep(q, sigma, a) * steps;
            double eps = conversion == Conversion.IMPROVED
                    ? r - (Math.log(delta) + Math.log(a)) / (a - 1) + Math.log((a - 1) / a)
                    : r - Math.log(delta) / (a - 1);
            if (eps < best) {   // NaN never wins, as numpy's nanargmin
                best = eps;
                bestOrder = a;
            }
        }
        return new Spent(Math.max(0, best), bestOrder);
    }

    /**
     * The smallest noise multiplier whose epsilon (improved conversion) after {@code steps} steps
     * at rate {@code q} is at most {@code targetEpsilon}, found by bisection to a relative 1e-6.
     *
     * @throws IllegalArgumentException if even a noise multiplier of 1e6 does not reach the target
     */
    public static double noiseFor(double targetEpsilon, double delta, double q, long steps) {
        return noiseFor(targetEpsilon, delta, q, steps, Conversion.IMPROVED);
    }

    /** {@link #noiseFor(double, double, double, long)} with the given conversion. */
    public static double noiseFor(double targetEpsilon, double delta, double q, long steps, Conversion conversion) {
        if (!(targetEpsilon > 0) || Double.isInfinite(targetEpsilon))
            throw new IllegalArgumentException("target epsilon must be positive, got " + targetEpsilon);
        double lo = 0, hi = 1;
        while (epsilon(q, hi, steps, delta, conversion).epsilon() > targetEpsilon) {
            lo = hi;
            hi *= 2;
            if (hi > 1e6) throw new IllegalArgumentException("no noise multiplier up to 1e6 reaches epsilon " + targetEpsilon + " at delta " + delta);
        }
        while (hi - lo > 1e-6 * hi) {
            double mid = (lo + hi) / 2;
            if (epsilon(q, mid, steps, delta, conversion).epsilon() > targetEpsilon) lo = mid;
            else hi = mid;
        }
        return hi;
    }

    private static void check(double q, double sigma, long steps) {
        if (!(q >= 0 && q <= 1)) throw new IllegalArgumentException("sampling rate q must be in [0, 1], got " + q);
        if (!(sigma >= 0) || Double.isInfinite(sigma)) throw new IllegalArgumentException("noise multiplier must be finite and >= 0, got " + sigma);
        if (steps < 0) throw new IllegalArgumentException("steps must be >= 0, got " + steps);
    }

    // ---------------------------------------------------------------- one step (Mironov et al. 2019)

    static double rdpOfOneStep(double q, double sigma, double order) {
        if (q == 0) return 0;
        if (sigma == 0) return Double.POSITIVE_INFINITY;
        if (q == 1) return order / (2 * sigma * sigma);
        double logA = order == Math.rint(order) ? logAIntegerOrder(q, sigma, (int) order) : logAFractionalOrder(q, sigma, order);
        return logA / (order - 1);
    }

    /** {@code log A_a = log sum_i C(a, i) q^i (1-q)^(a-i) exp((i^2 - i) / (2 sigma^2))}. */
    static double logAIntegerOrder(double q, double sigma, int order) {
        double logA = Double.NEGATIVE_INFINITY, logBinom = 0;   // log C(order, 0)
        for (int i = 0; i <= order; i++) {
            if (i > 0) logBinom += Math.log((double) (order - i + 1) / i);
            double s = logBinom + i * Math.log(q) + (order - i) * Math.log1p(-q) + (i * (double) i - i) / (2 * sigma * sigma);
            logA = logAdd(logA, s);
        }
        return logA;
    }

    /** The fractional-order series: two sums with erfc factors around {@code z0}, until terms fall under e^-30. */
    static double logAFractionalOrder(double q, double sigma, double order) {
        double logA0 = Double.NEGATIVE_INFINITY, logA1 = Double.NEGATIVE_INFINITY;
        double z0 = sigma * sigma * Math.log(1 / q - 1) + 0.5;
        double logAbsCoef = 0, sign = 1;   // the generalised binomial C(order, i), in log magnitude and sign
        for (int i = 0; ; i++) {
            if (i > 0) {
                double ratio = (order - i + 1) / i;
                logAbsCoef += Math.log(Math.abs(ratio));
                if (ratio < 0) sign = -sign;
            }
            double j = order - i;
            double logT0 = logAbsCoef + i * Math.log(q) + j * Math.log1p(-q);
            double logT1 = logAbsCoef + j * Math.log(q) + i * Math.log1p(-q);
            double logE0 = Math.log(0.5) + logErfc((i - z0) / (Math.sqrt(2) * sigma));
            double logE1 = Math.log(0.5) + logErfc((z0 - j) / (Math.sqrt(2) * sigma));
            double logS0 = logT0 + (i * (double) i - i) / (2 * sigma * sigma) + logE0;
            double logS1 = logT1 + (j * j - j) / (2 * sigma * sigma) + logE1;
            if (sign > 0) {
                logA0 = logAdd(logA0, logS0);
                logA1 = logAdd(logA1, logS1);
            } else {
                logA0 = logSub(logA0, logS0);
                logA1 = logSub(logA1, logS1);
            }
            if (Math.max(logS0, logS1) < -30) break;
            if (i > 100_000) throw new ArithmeticException("RDP series at order " + order + " did not converge (q " + q + ", sigma " + sigma + ")");
        }
        return logAdd(logA0, logA1);
    }

    static double logAdd(double x, double y) {
        double a = Math.min(x, y), b = Math.max(x, y);
        if (a == Double.NEGATIVE_INFINITY) return b;
        return Math.log1p(Math.exp(a - b)) + b;
    }

    static double logSub(double x, double y) {
        if (x < y) throw new ArithmeticException("log of a negative number in the RDP series (" + x + " < " + y + ")");
        if (y == Double.NEGATIVE_INFINITY) return x;
        if (x == y) return Double.NEGATIVE_INFINITY;
        double d = Math.expm1(x - y);
        return Double.isInfinite(d) ? x : Math.log(d) + y;
    }

    /**
     * {@code log(erfc(x))} to about 1e-14 relative: {@code 2 - erfc(-x)} for negative x, the
     * all-positive series {@code erf(x) = 2/sqrt(pi) e^(-x^2) sum 2^n x^(2n+1) / (2n+1)!!} below 2,
     * and the continued fraction {@code erfc(x) = e^(-x^2)/sqrt(pi) / (x + 1/2 / (x + 1 / (x + 3/2 / ...)))}
     * from 2 on, taken in log space so it never underflows.
     */
    static double logErfc(double x) {
        if (x < 0) return Math.log(2 - Math.exp(logErfc(-x)));
        if (x < 2) {
            double term = x, sum = x;
            for (int n = 1; term > 1e-17 * sum; n++) {
                term *= 2 * x * x / (2 * n + 1);
                sum += term;
            }
            return Math.log1p(-2 / Math.sqrt(Math.PI) * Math.exp(-x * x) * sum);
        }
        double f = x;
        for (int n = 400; n >= 1; n--) f = x + (n / 2.0) / f;
        return -x * x - 0.5 * Math.log(Math.PI) - Math.log(f);
    }
}
