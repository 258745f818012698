package dev.jumbo.privacy;

import java.math.BigInteger;
import java.security.SecureRandom;

/**
 * The public half of a Paillier key (Paillier, "Public-Key Cryptosystems Based on Composite
 * Degree Residuosity Classes", EUROCRYPT 1999) with the generator g = n + 1: a message m in
 * {@code [0, n)} encrypts to {@code (1 + m n) r^n mod n^2} for a random unit r, since
 * (n + 1)^m = 1 + m n mod n^2. Encryption is additively homomorphic: the product of two
 * ciphertexts decrypts to the sum of their messages mod n.
 *
 * <pre>{@code
 * PaillierKeyPair keys = PaillierKeyPair.generate(2048, new SecureRandom());
 * PaillierCiphertext sum = keys.publicKey().add(
 *         keys.publicKey().encrypt(BigInteger.valueOf(20), random),
 *         keys.publicKey().encrypt(BigInteger.valueOf(22), random));
 * keys.privateKey().decrypt(sum);   // 42
 * }</pre>
 */
public final class PaillierPublicKey {
    private final BigInteger n;
    private final BigInteger nSquared;

    /** The key of modulus {@code n} (a product of two distinct primes of equal length). */
    public PaillierPublicKey(BigInteger n) {
        if (n == null || n.bitLength() < 64 || !n.testBit(0)) {
            throw new IllegalArgumentException("PaillierPublicKey: the modulus must be an odd number of at least 64 bits, got "
                    + (n == null ? "null" : n.bitLength() + " bits"));
        }
        this.n = n;
        this.nSquared = n.multiply(n);
    }

    /** The modulus n = pq. */
    public BigInteger modulus() {
        return n;
    }

    /** n^2, the modulus ciphertexts live under. */
    public BigInteger modulusSquared() {
        return nSquared;
    }

    /** The bit length of n (2048 for the default keys). */
    public int bits() {
        return n.bitLength();
    }

    /** Bytes that hold any ciphertext, big-endian. */
    public int ciphertextBytes() {
        return (nSquared.bitLength() + 7) / 8;
    }

    /** Encrypts {@code m} in {@code [0, n)} with fresh randomness. */
    public PaillierCiphertext encrypt(BigInteger m, SecureRandom random) {
        if (m.signum() < 0 || m.compareTo(n) >= 0) {
            throw new IllegalArgumentException("Paillier: the message must be in [0, n), got " + m.bitLength() + " bits"
                    + (m.signum() < 0 ? " (negative)" : ""));
        }
        // g^m = (1 + n)^m = 1 + m n mod n^2: one multiplication instead of an exponentiation
        BigInteger gm = BigInteger.ONE.add(m.multiply(n)).mod(nSquared);
        return new PaillierCiphertext(gm.multiply(randomizer(random)).mod(nSquared));
    }

    /**
     * r^n mod n^2 for a random unit r: the costly part of an encryption (one exponentiation by a
     * |n|-bit exponent modulo n^2), independent of the message.
     */
    BigInteger randomizer(SecureRandom random) {
        BigInteger r;
        do {
            r = new BigInteger(n.bitLength(), random);
        } while (r.signum() == 0 || r.compareTo(n) >= 0 || !r.gcd(n).equals(BigInteger.ONE));
        return r.modPow(n, nSquared);
    }

    /** A ciphertext of the sum of {@code a}'s and {@code b}'s messages (mod n): their product mod n^2. */
    public PaillierCiphertext add(PaillierCiphertext a, PaillierCiphertext b) {
        check(a, "the first ciphertext");
        check(b, "the second ciphertext");
        return new PaillierCiphertext(a.value().multiply(b.value()).mod(nSquared));
    }

    /** Refuses a value outside {@code [1, n^2)}, which no encryption under this key produces. */
    void check(PaillierCiphertext c, String what) {
        if (c.value().compareTo(nSquared) >= 0) {
            throw new IllegalArgumentException("Paillier: " + what + " is not below n^2 (" + c.value().bitLength()
                    + " bits for a " + bits() + "-bit key): it was not made with this key");
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PaillierPublicKey k && k.n.equals(n);
    }

    @Override
    public int hashCode() {
        return n.hashCode();
    }

    @Override
    public String toString() {
        return "PaillierPublicKey[" + bits() + " bits]";
    }
}
