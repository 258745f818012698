package dev.jumbo.privacy;

import java.math.BigInteger;

/**
 * One point {@code (x, y)} of a Shamir sharing: the value at {@code x} of a random polynomial
 * over {@link Shamir#PRIME}'s field whose value at 0 is the secret.
 *
 * @param x where the polynomial was evaluated, {@code >= 1} (0 would be the secret itself)
 * @param y the polynomial's value there, in {@code [0, PRIME)}
 */
public record ShamirShare(int x, BigInteger y) {
    /** Validates that the point is a share and not the secret, and that y is a field element. */
    public ShamirShare {
        if (x < 1) {
            throw new IllegalArgumentException("ShamirShare: x must be >= 1, got " + x);
        }
        if (y == null || y.signum() < 0 || y.compareTo(Shamir.PRIME) >= 0) {
            throw new IllegalArgumentException("ShamirShare: y must be in [0, 2^521 - 1), got " + y);
        }
    }
}
