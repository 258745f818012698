package dev.jumbo.privacy;

import java.math.BigInteger;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Shamir's (t, n) secret sharing over the prime field of the Mersenne prime 2^521 - 1: any
 * {@code t} shares give back the secret, fewer reveal nothing about it (every secret is equally
 * consistent with {@code t - 1} points of a random polynomial of degree {@code t - 1}).
 *
 * <pre>{@code
 * List<ShamirShare> shares = Shamir.split(new BigInteger(1, seed), 3, 5, new SecureRandom());
 * BigInteger back = Shamir.combine(shares.subList(1, 4));   // any 3 of the 5
 * }</pre>
 *
 * <p>The field is far larger than the 32-byte keys and seeds secure aggregation shares, so a
 * secret is any integer in {@code [0, PRIME)}; {@link #splitBytes}/{@link #combineBytes} carry
 * byte strings of up to 64 bytes.
 */
public final class Shamir {
    /** 2^521 - 1, a Mersenne prime. */
    public static final BigInteger PRIME = BigInteger.ONE.shiftLeft(521).subtract(BigInteger.ONE);

    /** Bytes that hold any field element, big-endian (what a share's y is written as). */
    public static final int ELEMENT_BYTES = 66;

    private Shamir() {}

    /**
     * Splits {@code secret} into {@code n} shares at x = 1..n, any {@code threshold} of which
     * recover it.
     */
    public static List<ShamirShare> split(BigInteger secret, int threshold, int n, SecureRandom random) {
        int[] xs = new int[Math.max(n, 0)];
        for (int i = 0; i < xs.length; i++) {
            xs[i] = i + 1;
        }
        return split(secret, threshold, xs, random);
    }

    /**
     * Splits {@code secret} into one share per point of {@code xs} (distinct, each {@code >= 1}),
     * any {@code threshold} of which recover it. Secure aggregation evaluates at each client's
     * id + 1, so a share names the client that holds it.
     */
    public static List<ShamirShare> split(BigInteger secret, int threshold, int[] xs, SecureRandom random) {
        if (secret.signum() < 0 || secret.compareTo(PRIME) >= 0) {
            throw new IllegalArgumentException("Shamir: the secret must be in [0, 2^521 - 1)");
        }
        if (threshold < 1 || threshold > xs.length) {
            throw new IllegalArgumentException(
                    "Shamir: need 1 <= threshold <= shares, got threshold " + threshold + " of " + xs.length);
        }
        Set<Integer> distinct = new HashSet<>();
        for (int x : xs) {
            if (x < 1 || !distinct.add(x)) {
                throw new IllegalArgumentException("Shamir: share points must be distinct and >= 1, got " + x + " twice or below 1");
            }
        }
        BigInteger[] coefficients = new BigInteger[threshold];
        coefficients[0] = secret;
        for (int i = 1; i < threshold; i++) {
            coefficients[i] = randomElement(random);
        }
        List<ShamirShare> shares = new ArrayList<>(xs.length);
        for (int x : xs) {
            // Horner's rule, highest coefficient first
            BigInteger bx = BigInteger.valueOf(x);
            BigInteger y = BigInteger.ZERO;
            for (int i = threshold - 1; i >= 0; i--) {
                y = y.multiply(bx).add(coefficients[i]).mod(PRIME);
            }
            shares.add(new ShamirShare(x, y));
        }
        return shares;
    }

    /**
     * The polynomial's value at 0 by Lagrange interpolation through the given shares. With at
     * least {@code threshold} shares of one sharing this is the secret; with fewer it is an
     * unrelated field element, which is why callers must count shares before combining (or use
     * {@link #combine(List, int)}, which counts and cross-checks).
     */
    public static BigInteger combine(List<ShamirShare> shares) {
        requireDistinct(shares);
        return interpolate(shares, BigInteger.ZERO);
    }

    /**
     * The secret, from at least {@code threshold} shares: interpolated through the first
     * {@code threshold}, and every further share checked to lie on the same polynomial, so a share
     * that was altered (or belongs to another secret) is detected whenever more than the threshold
     * arrive, instead of silently giving a wrong secret.
     */
    public static BigInteger combine(List<ShamirShare> shares, int threshold) {
        if (threshold < 1 || shares.size() < threshold) {
            throw new IllegalArgumentException(
                    "Shamir: " + shares.size() + " shares, fewer than the threshold " + threshold);
        }
        requireDistinct(shares);
        List<ShamirShare> basis = shares.subList(0, threshold);
        for (ShamirShare extra : shares.subList(threshold, shares.size())) {
            if (!interpolate(basis, BigInteger.valueOf(extra.x())).equals(extra.y())) {
                throw new IllegalArgumentException("Shamir: the share at x = " + extra.x() + " does not lie on the polynomial "
                        + "of the first " + threshold + " shares: a share was altered or belongs to another secret");
            }
        }
        return interpolate(basis, BigInteger.ZERO);
    }

    private static void requireDistinct(List<ShamirShare> shares) {
        if (shares.isEmpty()) {
            throw new IllegalArgumentException("Shamir: no shares to combine");
        }
        Set<Integer> seen = new HashSet<>();
        for (ShamirShare s : shares) {
            if (!seen.add(s.x())) {
                throw new IllegalArgumentException("Shamir: two shares at x = " + s.x());
            }
        }
    }

    /** The value at {@code at} of the polynomial of degree {@code shares.size() - 1} through the shares (Lagrange). */
    private static BigInteger interpolate(List<ShamirShare> shares, BigInteger at) {
        BigInteger value = BigInteger.ZERO;
        for (ShamirShare i : shares) {
            // l_i(at) = prod_{j != i} (at - x_j) / (x_i - x_j)
            BigInteger numerator = BigInteger.ONE;
            BigInteger denominator = BigInteger.ONE;
            for (ShamirShare j : shares) {
                if (j.x() == i.x()) {
                    continue;
                }
                numerator = numerator.multiply(at.subtract(BigInteger.valueOf(j.x()))).mod(PRIME);
                denominator = denominator.multiply(BigInteger.valueOf(i.x() - j.x())).mod(PRIME);
            }
            BigInteger basis = numerator.multiply(denominator.modInverse(PRIME)).mod(PRIME);
            value = value.add(i.y().multiply(basis)).mod(PRIME);
        }
        return value;
    }

    /** {@link #split} of a byte string (up to 64 bytes), read as an unsigned big-endian integer. */
    public static List<ShamirShare> splitBytes(byte[] secret, int threshold, int n, SecureRandom random) {
        if (secret.length > 64) {
            throw new IllegalArgumentException("Shamir: a byte secret holds at most 64 bytes, got " + secret.length);
        }
        return split(new BigInteger(1, secret), threshold, n, random);
    }

    /** {@link #split(BigInteger, int, int[], SecureRandom)} of a byte string (up to 64 bytes). */
    public static List<ShamirShare> splitBytes(byte[] secret, int threshold, int[] xs, SecureRandom random) {
        if (secret.length > 64) {
            throw new IllegalArgumentException("Shamir: a byte secret holds at most 64 bytes, got " + secret.length);
        }
        return split(new BigInteger(1, secret), threshold, xs, random);
    }

    /** The byte string of {@code length} bytes that {@link #splitBytes} shared, by {@link #combine(List, int)}. */
    public static byte[] combineBytes(List<ShamirShare> shares, int threshold, int length) {
        return toFixedBytes(combine(shares, threshold), length);
    }

    /** {@code value} big-endian in exactly {@code length} bytes; refuses a value that needs more. */
    static byte[] toFixedBytes(BigInteger value, int length) {
        byte[] raw = value.toByteArray();
        int start = 0;
        while (start < raw.length - 1 && raw[start] == 0) {
            start++;
        }
        int significant = raw.length - start;
        if (value.signum() == 0) {
            significant = 0;
        }
        if (significant > length) {
            throw new IllegalArgumentException(
                    "Shamir: the combined value needs " + significant + " bytes, more than the " + length
                            + " expected (shares of different secrets, or too few of them?)");
        }
        byte[] out = new byte[length];
        System.arraycopy(raw, raw.length - significant, out, length - significant, significant);
        return out;
    }

    private static BigInteger randomElement(SecureRandom random) {
        BigInteger r;
        do {
            r = new BigInteger(521, random);
        } while (r.compareTo(PRIME) >= 0);
        return r;
    }
}
