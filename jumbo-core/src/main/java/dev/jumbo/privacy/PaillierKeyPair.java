package dev.jumbo.privacy;

import java.math.BigInteger;
import java.security.SecureRandom;

/**
 * A Paillier key pair: the public key encrypts and adds, the private key decrypts.
 *
 * <pre>{@code
 * PaillierKeyPair keys = PaillierKeyPair.generate(2048, new SecureRandom());
 * }</pre>
 *
 * @param publicKey n
 * @param privateKey p, q and the decryption precomputation
 */
public record PaillierKeyPair(PaillierPublicKey publicKey, PaillierPrivateKey privateKey) {
    /** The default modulus size, as the issue asks (NIST puts 2048-bit factoring at 112-bit security). */
    public static final int DEFAULT_BITS = 2048;

    /** A pair whose modulus has {@link #DEFAULT_BITS} bits. */
    public static PaillierKeyPair generate(SecureRandom random) {
        return generate(DEFAULT_BITS, random);
    }

    /**
     * A pair whose modulus n = pq has exactly {@code bits} bits, p and q distinct probable primes
     * (error below 2^-100) of {@code bits / 2} bits each; equal lengths make gcd(pq, (p-1)(q-1)) = 1,
     * which the g = n + 1 variant needs, and it is checked anyway.
     */
    public static PaillierKeyPair generate(int bits, SecureRandom random) {
        if (bits < 128 || bits % 2 != 0) {
            throw new IllegalArgumentException("Paillier: the key size must be even and at least 128 bits, got " + bits);
        }
        while (true) {
            BigInteger p = BigInteger.probablePrime(bits / 2, random);
            BigInteger q = BigInteger.probablePrime(bits / 2, random);
            BigInteger n = p.multiply(q);
            BigInteger phi = p.subtract(BigInteger.ONE).multiply(q.subtract(BigInteger.ONE));
            if (p.equals(q) || n.bitLength() != bits || !n.gcd(phi).equals(BigInteger.ONE)) {
                continue;
            }
            PaillierPrivateKey privateKey = new PaillierPrivateKey(p, q);
            return new PaillierKeyPair(privateKey.publicKey(), privateKey);
        }
    }
}
