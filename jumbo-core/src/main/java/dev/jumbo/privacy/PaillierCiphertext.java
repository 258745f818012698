package dev.jumbo.privacy;

import java.math.BigInteger;

/**
 * A Paillier ciphertext: an element of the units of Z/n^2Z. Multiplying two (see {@link
 * PaillierPublicKey#add}) encrypts the sum of their plaintexts.
 *
 * @param value in {@code [1, n^2)}, checked against a key by {@link PaillierPublicKey#add} and decryption
 */
public record PaillierCiphertext(BigInteger value) {
    /** Refuses null and non-positive values. */
    public PaillierCiphertext {
        if (value == null || value.signum() <= 0) {
            throw new IllegalArgumentException("PaillierCiphertext: the value must be a positive integer, got " + value);
        }
    }
}
