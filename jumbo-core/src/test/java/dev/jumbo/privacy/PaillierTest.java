package dev.jumbo.privacy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.security.SecureRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class PaillierTest {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static PaillierKeyPair keys;

    @BeforeAll
    static void smallKeys() {
        keys = PaillierKeyPair.generate(512, RANDOM); // fast; the 2048-bit default has its own test
    }

    /** Textbook decryption, no CRT: lambda = lcm(p-1, q-1), mu = L(g^lambda mod n^2)^-1 mod n, m = L(c^lambda mod n^2) mu mod n. */
    private static BigInteger naiveDecrypt(PaillierPrivateKey key, BigInteger c) {
        BigInteger n = key.publicKey().modulus();
        BigInteger n2 = n.multiply(n);
        BigInteger p1 = key.p().subtract(BigInteger.ONE);
        BigInteger q1 = key.q().subtract(BigInteger.ONE);
        BigInteger lambda = p1.multiply(q1).divide(p1.gcd(q1));
        BigInteger g = n.add(BigInteger.ONE);
        BigInteger mu = g.modPow(lambda, n2).subtract(BigInteger.ONE).divide(n).modInverse(n);
        return c.modPow(lambda, n2).subtract(BigInteger.ONE).divide(n).multiply(mu).mod(n);
    }

    private static BigInteger randomBelow(BigInteger bound) {
        BigInteger r;
        do {
            r = new BigInteger(bound.bitLength(), RANDOM);
        } while (r.compareTo(bound) >= 0);
        return r;
    }

    @Test
    void keysHaveTheAskedSizeAndEqualLengthPrimes() {
        PaillierPrivateKey k = keys.privateKey();
        assertThat(keys.publicKey().bits()).isEqualTo(512);
        assertThat(k.p().bitLength()).isEqualTo(256);
        assertThat(k.q().bitLength()).isEqualTo(256);
        assertThat(k.p().isProbablePrime(64)).isTrue();
        assertThat(k.q().isProbablePrime(64)).isTrue();
        assertThat(k.p().multiply(k.q())).isEqualTo(keys.publicKey().modulus());
        assertThat(k.toString()).doesNotContain(k.p().toString());
    }

    @Test
    void decryptionInvertsEncryptionAndMatchesTheTextbookFormula() {
        PaillierPublicKey pk = keys.publicKey();
        BigInteger n = pk.modulus();
        for (BigInteger m : new BigInteger[] {BigInteger.ZERO, BigInteger.ONE, n.subtract(BigInteger.ONE)}) {
            assertThat(keys.privateKey().decrypt(pk.encrypt(m, RANDOM))).isEqualTo(m);
        }
        for (int i = 0; i < 30; i++) {
            BigInteger m = randomBelow(n);
            PaillierCiphertext c = pk.encrypt(m, RANDOM);
            assertThat(keys.privateKey().decrypt(c)).isEqualTo(m);
            assertThat(naiveDecrypt(keys.privateKey(), c.value())).isEqualTo(m);
            // the CRT path agrees with the textbook one on arbitrary units mod n^2, not only on encryptions
            BigInteger unit = randomBelow(pk.modulusSquared());
            if (unit.signum() > 0 && unit.gcd(n).equals(BigInteger.ONE)) {
                assertThat(keys.privateKey().decrypt(new PaillierCiphertext(unit)))
                        .isEqualTo(naiveDecrypt(keys.privateKey(), unit));
            }
        }
    }

    @Test
    void encryptionIsRandomised() {
        BigInteger m = BigInteger.valueOf(42);
        assertThat(keys.publicKey().encrypt(m, RANDOM)).isNotEqualTo(keys.publicKey().encrypt(m, RANDOM));
    }

    @Test
    void theProductOfCiphertextsDecryptsToTheSumModN() {
        PaillierPublicKey pk = keys.publicKey();
        BigInteger n = pk.modulus();
        for (int i = 0; i < 20; i++) {
            BigInteger a = randomBelow(n);
            BigInteger b = randomBelow(n);
            PaillierCiphertext sum = pk.add(pk.encrypt(a, RANDOM), pk.encrypt(b, RANDOM));
            assertThat(keys.privateKey().decrypt(sum)).isEqualTo(a.add(b).mod(n));
        }
    }

    @Test
    void packingMatchesANaiveBigIntegerLayout() {
        PaillierPacking packing = new PaillierPacking(512, 127, 10);
        assertThat(packing.slotBits()).isEqualTo(12); // 2 * 127 * 10 = 2540 < 2^12
        assertThat(packing.slots()).isEqualTo(511 / 12);
        int[] values = new int[100];
        for (int i = 0; i < values.length; i++) {
            values[i] = RANDOM.nextInt(-127, 128);
        }
        BigInteger[] packed = packing.pack(values);
        assertThat(packed).hasSize(3);
        for (int c = 0; c < packed.length; c++) {
            BigInteger naive = BigInteger.ZERO;
            for (int s = 0; s < packing.slots() && c * packing.slots() + s < values.length; s++) {
                naive = naive.add(BigInteger.valueOf(values[c * packing.slots() + s] + 127L).shiftLeft(s * packing.slotBits()));
            }
            assertThat(packed[c]).isEqualTo(naive);
            assertThat(packed[c].bitLength()).isLessThan(512);
        }
        assertThat(packing.unpack(packed, 1, values.length)).isEqualTo(values);
    }

    @Test
    void packedEncryptedSumsEqualPlainSumsForManyClients() {
        for (int maxLevel : new int[] {127, 32767, Integer.MAX_VALUE / 12}) {
            int clients = 12;
            int length = 700;
            PaillierPacking packing = new PaillierPacking(512, maxLevel, clients);
            PaillierCiphertext[] sum = null;
            long[] plain = new long[length];
            for (int c = 0; c < clients; c++) {
                int[] update = new int[length];
                for (int i = 0; i < length; i++) {
                    // extremes included, so a carry between slots would show
                    update[i] = RANDOM.nextInt(4) == 0 ? (RANDOM.nextBoolean() ? maxLevel : -maxLevel)
                            : RANDOM.nextInt(-maxLevel, maxLevel + 1);
                    plain[i] += update[i];
                }
                PaillierCiphertext[] encrypted = packing.encrypt(keys.publicKey(), update, RANDOM);
                assertThat(encrypted).hasSize(packing.ciphertextsFor(length));
                // through the wire format, as a server would receive it
                encrypted = PaillierPacking.decode(
                        keys.publicKey(), PaillierPacking.encode(keys.publicKey(), encrypted), encrypted.length);
                sum = sum == null ? encrypted : PaillierPacking.add(keys.publicKey(), sum, encrypted);
            }
            int[] decrypted = packing.decryptSum(keys.privateKey(), sum, clients, length);
            for (int i = 0; i < length; i++) {
                assertThat((long) decrypted[i]).as("maxLevel %d, value %d", maxLevel, i).isEqualTo(plain[i]);
            }
        }
    }

    @Test
    void quantisedFloatUpdatesSumThroughPaillierWithinQuantisationError() {
        UpdateQuantizer quantizer = new UpdateQuantizer(0.5, 5, 32767);
        PaillierPacking packing = PaillierPacking.of(keys.publicKey(), quantizer);
        int length = 300;
        double[] clipped = new double[length];
        PaillierCiphertext[] sum = null;
        for (int c = 0; c < 5; c++) {
            float[] update = new float[length];
            for (int i = 0; i < length; i++) {
                update[i] = (float) RANDOM.nextGaussian(0, 0.4);
                clipped[i] += Math.max(-0.5, Math.min(0.5, update[i]));
            }
            PaillierCiphertext[] e = packing.encrypt(keys.publicKey(), quantizer.quantize(update), RANDOM);
            sum = sum == null ? e : PaillierPacking.add(keys.publicKey(), sum, e);
        }
        double[] decoded = quantizer.decodeSum(packing.decryptSum(keys.privateKey(), sum, 5, length));
        for (int i = 0; i < length; i++) {
            assertThat(Math.abs(decoded[i] - clipped[i])).isLessThanOrEqualTo(5 * quantizer.step() / 2 * 1.000001);
        }
    }

    @Test
    void refusesWhatWouldDecodeWrongly() {
        PaillierPacking packing = new PaillierPacking(512, 127, 3);
        assertThatThrownBy(() -> packing.pack(new int[] {0, 128})).hasMessageContaining("value 1 is 128");
        int[] ones = new int[50];
        java.util.Arrays.fill(ones, 127);
        PaillierCiphertext[] e = packing.encrypt(keys.publicKey(), ones, RANDOM);
        PaillierCiphertext[] three = PaillierPacking.add(keys.publicKey(), PaillierPacking.add(keys.publicKey(), e, e), e);
        // decoding three updates as if they were one: slots hold more than one update can
        assertThatThrownBy(() -> packing.decryptSum(keys.privateKey(), three, 1, 50)).hasMessageContaining("can add up to");
        assertThatThrownBy(() -> packing.decryptSum(keys.privateKey(), three, 4, 50)).hasMessageContaining("summands");
        assertThatThrownBy(() -> keys.publicKey().encrypt(keys.publicKey().modulus(), RANDOM)).hasMessageContaining("[0, n)");
        assertThatThrownBy(() -> keys.publicKey().add(e[0], new PaillierCiphertext(keys.publicKey().modulusSquared())))
                .hasMessageContaining("not below n^2");
        byte[] wire = PaillierPacking.encode(keys.publicKey(), e);
        assertThatThrownBy(() -> PaillierPacking.decode(keys.publicKey(), wire, e.length + 1)).hasMessageContaining("expected");
        assertThatThrownBy(() -> PaillierPacking.decode(keys.publicKey(), java.util.Arrays.copyOf(wire, 3), e.length))
                .hasMessageContaining("ends early");
        byte[] zero = wire.clone();
        java.util.Arrays.fill(zero, 4, 4 + keys.publicKey().ciphertextBytes(), (byte) 0);
        assertThatThrownBy(() -> PaillierPacking.decode(keys.publicKey(), zero, e.length))
                .hasMessageContaining("ciphertext 0 is not a unit");
        assertThatThrownBy(() -> new PaillierPacking(20, 32767, 10)).hasMessageContaining("cannot hold one slot");
        assertThatThrownBy(() -> PaillierKeyPair.generate(100, RANDOM)).hasMessageContaining("at least 128");
    }

    @Test
    void aDefault2048BitKeyRoundTripsAPackedSum() {
        PaillierKeyPair big = PaillierKeyPair.generate(RANDOM);
        assertThat(big.publicKey().bits()).isEqualTo(2048);
        BigInteger m = randomBelow(big.publicKey().modulus());
        assertThat(big.privateKey().decrypt(big.publicKey().encrypt(m, RANDOM))).isEqualTo(m);
        PaillierPacking packing = new PaillierPacking(2048, 127, 10);
        assertThat(packing.slots()).isEqualTo(170);
        int[] a = new int[400];
        int[] b = new int[400];
        for (int i = 0; i < a.length; i++) {
            a[i] = RANDOM.nextInt(-127, 128);
            b[i] = RANDOM.nextInt(-127, 128);
        }
        PaillierCiphertext[] sum = PaillierPacking.add(
                big.publicKey(), packing.encrypt(big.publicKey(), a, RANDOM), packing.encrypt(big.publicKey(), b, RANDOM));
        int[] decrypted = packing.decryptSum(big.privateKey(), sum, 2, a.length);
        for (int i = 0; i < a.length; i++) {
            assertThat(decrypted[i]).isEqualTo(a[i] + b[i]);
        }
    }
}
