package dev.jumbo.privacy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

class ShamirTest {
    private final SecureRandom random = new SecureRandom();

    @Test
    void anyThresholdSubsetRecoversTheSecretAndFewerDoNot() {
        for (int trial = 0; trial < 30; trial++) {
            int n = 2 + random.nextInt(12);
            int t = 1 + random.nextInt(n);
            BigInteger secret = new BigInteger(256, random);
            List<ShamirShare> shares = new ArrayList<>(Shamir.split(secret, t, n, random));
            Collections.shuffle(shares, random);
            assertThat(Shamir.combine(shares.subList(0, t))).isEqualTo(secret);
            assertThat(Shamir.combine(shares)).isEqualTo(secret); // more points lie on the same polynomial
            if (t > 1) {
                assertThat(Shamir.combine(shares.subList(0, t - 1))).isNotEqualTo(secret);
            }
        }
    }

    @Test
    void naiveInterpolationAgreesOnAKnownPolynomial() {
        // f(x) = 5 + 3x + 2x^2: shares at 1, 2, 3 are 10, 19, 32
        List<ShamirShare> shares = List.of(
                new ShamirShare(1, BigInteger.valueOf(10)),
                new ShamirShare(2, BigInteger.valueOf(19)),
                new ShamirShare(3, BigInteger.valueOf(32)));
        assertThat(Shamir.combine(shares)).isEqualTo(BigInteger.valueOf(5));
    }

    @Test
    void fewerThanThresholdSharesLookTheSameWhateverTheSecret() {
        // with t = 2, one share of secret 0 and one share of secret 1 follow the same distribution: check the top bit's frequency
        int ones0 = 0;
        int ones1 = 0;
        int trials = 2000;
        for (int i = 0; i < trials; i++) {
            ones0 += Shamir.split(BigInteger.ZERO, 2, 3, random).get(0).y().testBit(519) ? 1 : 0;
            ones1 += Shamir.split(BigInteger.ONE, 2, 3, random).get(0).y().testBit(519) ? 1 : 0;
        }
        assertThat(ones0).isBetween(trials / 2 - 150, trials / 2 + 150);
        assertThat(ones1).isBetween(trials / 2 - 150, trials / 2 + 150);
    }

    @Test
    void anAlteredShareIsDetectedWhenMoreThanTheThresholdArrive() {
        BigInteger secret = new BigInteger(256, random);
        List<ShamirShare> shares = new ArrayList<>(Shamir.split(secret, 4, 7, random));
        assertThat(Shamir.combine(shares, 4)).isEqualTo(secret);
        assertThat(Shamir.combine(shares.subList(2, 6), 4)).isEqualTo(secret);
        ShamirShare honest = shares.get(5);
        shares.set(5, new ShamirShare(honest.x(), honest.y().add(BigInteger.ONE).mod(Shamir.PRIME)));
        assertThatThrownBy(() -> Shamir.combine(shares, 4)).hasMessageContaining("x = 6 does not lie on the polynomial");
        // the first four define the polynomial, so an altered one among them is caught by the extras too
        Collections.swap(shares, 0, 5);
        assertThatThrownBy(() -> Shamir.combine(shares, 4)).hasMessageContaining("does not lie on the polynomial");
        assertThatThrownBy(() -> Shamir.combine(shares.subList(0, 3), 4)).hasMessageContaining("fewer than the threshold 4");
    }

    @Test
    void byteSecretsKeepLeadingZeros() {
        byte[] secret = new byte[32];
        random.nextBytes(secret);
        secret[0] = 0;
        secret[1] = 0;
        List<ShamirShare> shares = Shamir.splitBytes(secret, 3, new int[] {4, 9, 12, 30}, random);
        assertThat(Shamir.combineBytes(shares.subList(1, 4), 3, 32)).isEqualTo(secret);
    }

    @Test
    void refusesBadArguments() {
        assertThatThrownBy(() -> Shamir.split(BigInteger.ONE, 4, 3, random)).hasMessageContaining("threshold 4 of 3");
        assertThatThrownBy(() -> Shamir.split(BigInteger.ONE, 2, new int[] {1, 1}, random)).hasMessageContaining("distinct");
        assertThatThrownBy(() -> Shamir.split(Shamir.PRIME, 2, 3, random)).hasMessageContaining("secret");
        assertThatThrownBy(() -> Shamir.combine(List.of(new ShamirShare(1, BigInteger.ONE), new ShamirShare(1, BigInteger.TWO))))
                .hasMessageContaining("two shares at x = 1");
        assertThatThrownBy(() -> new ShamirShare(0, BigInteger.ONE)).hasMessageContaining("x must be >= 1");
    }
}
