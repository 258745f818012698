package dev.jumbo.privacy;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.jumbo.privacy.SecureAggregationMessage.AdvertiseKeys;
import dev.jumbo.privacy.SecureAggregationMessage.EncryptedShare;
import dev.jumbo.privacy.SecureAggregationMessage.KeyDirectory;
import dev.jumbo.privacy.SecureAggregationMessage.KeyShares;
import dev.jumbo.privacy.SecureAggregationMessage.MaskedInput;
import dev.jumbo.privacy.SecureAggregationMessage.RevealedShare;
import dev.jumbo.privacy.SecureAggregationMessage.ShareKind;
import dev.jumbo.privacy.SecureAggregationMessage.UnmaskRequest;
import dev.jumbo.privacy.SecureAggregationMessage.UnmaskResponse;
import java.math.BigInteger;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Whatever bytes arrive, {@link SecureAggregationMessage#decode} returns a message that encodes
 * back to exactly those bytes or throws {@link SecureAggregationException}: never another
 * exception, never an allocation sized by an unchecked count. The {@code @FuzzTest} runs its
 * stored inputs in the normal build and fuzzes with {@code JAZZER_FUZZ=1}; the seeded test
 * mutates valid messages of every type in every build.
 */
class SecureAggregationMessageFuzzTest {
    private static final List<Class<? extends SecureAggregationMessage>> TYPES = List.of(
            AdvertiseKeys.class, KeyDirectory.class, KeyShares.class, MaskedInput.class, UnmaskRequest.class,
            UnmaskResponse.class);

    @FuzzTest(maxDuration = "30s")
    void decodeEitherRoundTripsOrThrowsSecureAggregationException(byte[] input) {
        check(input);
    }

    @Test
    void mutationsOfValidMessagesBehave() {
        Random random = new Random(11);
        byte[] key = new byte[44];
        random.nextBytes(key);
        AdvertiseKeys advertise = new AdvertiseKeys(3, key, key.clone());
        List<SecureAggregationMessage> seeds = List.of(
                advertise,
                new KeyDirectory(List.of(advertise, new AdvertiseKeys(5, key, key))),
                new KeyShares(List.of(new EncryptedShare(3, 5, new byte[60]), new EncryptedShare(3, 3, new byte[60]))),
                new MaskedInput(3, new int[] {1, -2, Integer.MIN_VALUE}),
                new UnmaskRequest(new int[] {3, 5, 8}, new int[] {9}),
                new UnmaskResponse(3, List.of(
                        new RevealedShare(5, ShareKind.SELF_MASK_SEED, new ShamirShare(4, BigInteger.TEN)),
                        new RevealedShare(9, ShareKind.MASKING_KEY, new ShamirShare(4, Shamir.PRIME.subtract(BigInteger.ONE))))));
        for (SecureAggregationMessage seed : seeds) {
            byte[] bytes = SecureAggregationMessage.encode(77, seed);
            assertThat(SecureAggregationMessage.encode(77, SecureAggregationMessage.decode(bytes, 77, seed.getClass(), "test")))
                    .isEqualTo(bytes);
        }
        for (int i = 0; i < 10_000; i++) {
            byte[] bytes = SecureAggregationMessage.encode(77, seeds.get(i % seeds.size()));
            for (int k = 1 + random.nextInt(3); k > 0; k--) {
                int at = random.nextInt(bytes.length);
                switch (random.nextInt(4)) {
                    case 0 -> bytes[at] = (byte) random.nextInt(256);
                    case 1 -> bytes[at] ^= (byte) (1 << random.nextInt(8));
                    case 2 -> bytes = java.util.Arrays.copyOf(bytes, at);
                    default -> bytes[at] = (byte) (random.nextBoolean() ? 0x7F : 0xFF);
                }
                if (bytes.length == 0) {
                    break;
                }
            }
            check(bytes);
        }
    }

    private static void check(byte[] input) {
        for (Class<? extends SecureAggregationMessage> type : TYPES) {
            SecureAggregationMessage message;
            try {
                message = SecureAggregationMessage.decode(input, 77, type, "the fuzzer");
            } catch (SecureAggregationException expected) {
                continue;
            }
            assertThat(SecureAggregationMessage.encode(77, message)).isEqualTo(input);
        }
    }
}
