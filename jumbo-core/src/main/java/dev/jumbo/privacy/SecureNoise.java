package dev.jumbo.privacy;

import java.security.SecureRandom;

/**
 * Noise for differential privacy drawn from a cryptographically secure source
 * ({@link SecureRandom}): an adversary who sees some draws cannot predict the others, which a
 * seeded {@link java.util.Random} would allow (its state follows from two outputs).
 *
 * <pre>{@code
 * SecureNoise noise = new SecureNoise();
 * double released = trueCount + noise.laplace(1 / epsilon);
 * }</pre>
 *
 * <p><b>Floating-point caveat.</b> These are textbook samplers on doubles: Laplace by its inverse
 * CDF on a uniform of 53 random bits, Gaussian by the JDK's {@code nextGaussian} (Marsaglia's
 * polar method) on the secure source. Mironov (2012, "On significance of the least significant
 * bits for differential privacy") showed that value + such noise, as doubles, can leak the value:
 * which doubles are reachable depends on it. Neither his snapping mechanism nor discrete Laplace
 * or Gaussian samplers (Canonne, Kamath and Steinke 2020) are implemented here; releases meant to
 * resist an adversary who inspects the low bits should round their output to a coarse grid at
 * least, and better use such a sampler.
 */
public final class SecureNoise {
    private final SecureRandom random;

    /** Noise from the platform's default {@link SecureRandom}. */
    public SecureNoise() {
        this(new SecureRandom());
    }

    /** Noise from {@code random} (for example {@code SecureRandom.getInstance("DRBG")}). */
    public SecureNoise(SecureRandom random) {
        if (random == null) throw new IllegalArgumentException("a SecureRandom is required");
        this.random = random;
    }

    /** Uniform in the open interval (0, 1): 53 random bits, offset by half a step so 0 and 1 never occur. */
    public double uniform() {
        return ((random.nextLong() >>> 11) + 0.5) * 0x1p-53;
    }

    /**
     * A draw from Laplace(0, {@code scale}), density {@code exp(-|x|/scale) / (2 scale)}, by the
     * inverse CDF: with u uniform in (-1/2, 1/2), {@code x = -scale sgn(u) ln(1 - 2|u|)}.
     */
    public double laplace(double scale) {
        requirePositive("Laplace scale", scale);
        double u = uniform() - 0.5; // never exactly 0 or +-1/2 (see uniform), so the logarithm is finite
        return -scale * Math.signum(u) * Math.log(1 - 2 * Math.abs(u));
    }

    /** A draw from N(0, {@code sigma}^2). */
    public double gaussian(double sigma) {
        requirePositive("Gaussian sigma", sigma);
        return sigma * random.nextGaussian();
    }

    static void requirePositive(String what, double v) {
        if (!(v > 0) || Double.isInfinite(v)) throw new IllegalArgumentException(what + " must be positive and finite, got " + v);
    }
}
