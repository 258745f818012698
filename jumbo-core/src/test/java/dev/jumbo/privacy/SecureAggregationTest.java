package dev.jumbo.privacy;

import static dev.jumbo.privacy.SecureAggregationPhase.ADVERTISE_KEYS;
import static dev.jumbo.privacy.SecureAggregationPhase.MASKED_INPUT;
import static dev.jumbo.privacy.SecureAggregationPhase.SHARE_KEYS;
import static dev.jumbo.privacy.SecureAggregationPhase.UNMASKING;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumbo.privacy.SecureAggregationMessage.UnmaskRequest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class SecureAggregationTest {
    private static final int CLIENTS = 10;
    private static final int THRESHOLD = 6;
    private final SecureRandom random = new SecureRandom();

    private record Updates(UpdateQuantizer quantizer, Map<Integer, float[]> floats, Map<Integer, int[]> quantized) {}

    private Updates updates(int clients, int dim) {
        UpdateQuantizer q = new UpdateQuantizer(1.0, clients);
        Map<Integer, float[]> floats = new TreeMap<>();
        Map<Integer, int[]> quantized = new TreeMap<>();
        for (int c = 0; c < clients; c++) {
            float[] u = new float[dim];
            for (int i = 0; i < dim; i++) {
                u[i] = (float) (random.nextGaussian() * 0.6);
            }
            int id = 3 * c + 1; // ids need not be 0..n-1
            floats.put(id, u);
            quantized.put(id, q.quantize(u));
        }
        return new Updates(q, floats, quantized);
    }

    /** The unmasked sum equals the plain wrapped sum of the survivors' quantised updates, bit for bit, and decodes within n * step / 2. */
    private void assertExactSum(Updates u, Map<Integer, SecureAggregationPhase> drops, int expectedSurvivors) {
        int dim = u.quantized().values().iterator().next().length;
        var result = SecureAggregationSimulation.run(
                new SecureAggregationConfig(42, THRESHOLD, dim), u.quantized(), drops, random);
        assertThat(result.survivors()).hasSize(expectedSurvivors);
        int[] plain = new int[dim];
        double[] clipped = new double[dim];
        for (int id : result.survivors()) {
            UpdateQuantizer.addInto(plain, u.quantized().get(id));
            for (int i = 0; i < dim; i++) {
                clipped[i] += Math.max(-1, Math.min(1, u.floats().get(id)[i]));
            }
            SecureAggregationPhase drop = drops.get(id);
            assertThat(drop == null || drop == UNMASKING).isTrue();
        }
        assertThat(result.sum()).isEqualTo(plain);
        double[] decoded = u.quantizer().decodeSum(result.sum());
        for (int i = 0; i < dim; i++) {
            assertThat(Math.abs(decoded[i] - clipped[i]))
                    .isLessThanOrEqualTo(expectedSurvivors * u.quantizer().step() / 2 * 1.000001);
        }
    }

    @Test
    void sumIsExactWithNoDropouts() {
        assertExactSum(updates(CLIENTS, 1000), Map.of(), CLIENTS);
    }

    @Test
    void sumIsExactWhenOneClientDropsAfterSharingItsKeys() {
        assertExactSum(updates(CLIENTS, 1000), Map.of(7, MASKED_INPUT), CLIENTS - 1);
    }

    @Test
    void sumIsExactWhenThreeClientsDropAfterSharingTheirKeys() {
        assertExactSum(updates(CLIENTS, 1000), Map.of(1, MASKED_INPUT, 13, MASKED_INPUT, 28, MASKED_INPUT), CLIENTS - 3);
    }

    @Test
    void sumIsExactWhenClientsDropAtEveryStage() {
        // one never advertises, one drops after advertising, one after sharing, one during unmasking
        // (its masked input is in the sum; the others' self-mask seed shares recover its self-mask)
        assertExactSum(
                updates(CLIENTS, 300),
                Map.of(1, ADVERTISE_KEYS, 4, SHARE_KEYS, 7, MASKED_INPUT, 13, UNMASKING),
                CLIENTS - 3);
    }

    @Test
    void whatTheServerHoldsOfAClientIsIndependentOfItsUpdate() {
        int dim = 20_000;
        Updates u = updates(CLIENTS, dim);
        // make client 1's update extreme and structured, so any leak would show
        int[] extreme = new int[dim];
        for (int i = 0; i < dim; i++) {
            extreme[i] = (i % 2 == 0 ? 1 : -1) * (int) (u.quantizer().maxLevel() * (i / (double) dim));
        }
        Map<Integer, int[]> inputs = new HashMap<>(u.quantized());
        inputs.put(1, extreme);
        var result = SecureAggregationSimulation.run(
                new SecureAggregationConfig(7, THRESHOLD, dim), inputs, Map.of(4, MASKED_INPUT), random);
        for (int id : result.survivors()) {
            int[] held = result.server().maskedInputOf(id);
            assertThat(Math.abs(correlation(held, inputs.get(id)))).as("client %d", id).isLessThan(0.05);
            assertUniformMod2To32(held);
            // after unmasking the server also knows b_u; stripping the self-mask still leaves the pairwise masks
            int[] withoutSelfMask = held.clone();
            UpdateQuantizer.subtractFrom(
                    withoutSelfMask, SecureAggregationCrypto.expand(result.server().reconstructedSelfMaskSeed(id), dim));
            assertThat(Math.abs(correlation(withoutSelfMask, inputs.get(id)))).as("client %d", id).isLessThan(0.05);
            assertUniformMod2To32(withoutSelfMask);
        }
        // the masks are real: the sum of the masked inputs alone is not the sum of the updates
        int[] naive = new int[dim];
        int[] plain = new int[dim];
        for (int id : result.survivors()) {
            UpdateQuantizer.addInto(naive, result.server().maskedInputOf(id));
            UpdateQuantizer.addInto(plain, inputs.get(id));
        }
        assertThat(naive).isNotEqualTo(plain);
        assertThat(result.sum()).isEqualTo(plain);
        assertThat(result.server().maskedInputOf(4)).isNull();
    }

    private static double correlation(int[] a, int[] b) {
        double ma = Arrays.stream(a).average().orElseThrow();
        double mb = Arrays.stream(b).average().orElseThrow();
        double sab = 0;
        double saa = 0;
        double sbb = 0;
        for (int i = 0; i < a.length; i++) {
            sab += (a[i] - ma) * (b[i] - mb);
            saa += (a[i] - ma) * (a[i] - ma);
            sbb += (b[i] - mb) * (b[i] - mb);
        }
        return sab / Math.sqrt(saa * sbb);
    }

    /** Chi-square over 64 buckets of the top 6 bits, and the low byte's: a uniform vector stays far below 130 (p < 1e-6 at 63 dof). */
    private static void assertUniformMod2To32(int[] values) {
        for (int shift : new int[] {26, 0}) {
            long[] counts = new long[64];
            for (int v : values) {
                counts[(v >>> shift) & 63]++;
            }
            double expected = values.length / 64.0;
            double chi2 = 0;
            for (long c : counts) {
                chi2 += (c - expected) * (c - expected) / expected;
            }
            assertThat(chi2).as("chi-square of bits from %d", shift).isLessThan(130);
        }
    }

    @Test
    void fewerThanThresholdSurvivorsFailClearlyInsteadOfSumming() {
        Updates u = updates(CLIENTS, 50);
        Map<Integer, SecureAggregationPhase> drops = new HashMap<>();
        for (int id : List.of(1, 4, 7, 10, 13)) {
            drops.put(id, MASKED_INPUT); // 5 of 10 left, threshold 6
        }
        assertThatThrownBy(() -> SecureAggregationSimulation.run(
                        new SecureAggregationConfig(3, THRESHOLD, 50), u.quantized(), drops, random))
                .isInstanceOf(SecureAggregationException.class)
                .hasMessageContaining("only 5 clients sent a masked input, fewer than the threshold 6");

        Map<Integer, SecureAggregationPhase> lateDrops = new HashMap<>();
        for (int id : List.of(1, 4, 7, 10, 13)) {
            lateDrops.put(id, UNMASKING); // all 10 masked, 5 reveal
        }
        assertThatThrownBy(() -> SecureAggregationSimulation.run(
                        new SecureAggregationConfig(3, THRESHOLD, 50), u.quantized(), lateDrops, random))
                .isInstanceOf(SecureAggregationException.class)
                .hasMessageContaining("only 5 survivors revealed their shares");
    }

    /** Clients and server driven by hand up to the unmasking request, with client 10 dropped after sharing. */
    private record Round(SecureAggregationConfig config, Map<Integer, SecureAggregationClient> clients, SecureAggregationServer server) {}

    private Round roundUpToUnmasking(Updates u) {
        var config = new SecureAggregationConfig(9, THRESHOLD, 20);
        Map<Integer, SecureAggregationClient> clients = new TreeMap<>();
        u.quantized().forEach((id, x) -> clients.put(id, new SecureAggregationClient(id, config, x, random)));
        var server = new SecureAggregationServer(config);
        for (var phase : List.of(ADVERTISE_KEYS, SHARE_KEYS, MASKED_INPUT)) {
            for (var c : clients.values()) {
                if (phase == MASKED_INPUT && c.id() == 10) {
                    continue;
                }
                byte[] opening = phase == ADVERTISE_KEYS ? new byte[0] : server.messageFor(c.id());
                server.accept(c.id(), c.respond(phase, opening));
            }
            server.closePhase();
        }
        return new Round(config, clients, server);
    }

    @Test
    void aClientRefusesToRevealBothSecretsOfOnePeer() {
        Updates u = updates(CLIENTS, 20);
        Round r = roundUpToUnmasking(u);
        var client = r.clients().get(1);
        // a server that claims client 13 both survived and dropped would get b_13 and s_13, strip all its masks
        int[] survivors = {1, 4, 7, 13, 16, 19, 22, 25, 28};
        byte[] both = SecureAggregationMessage.encode(9, new UnmaskRequest(survivors, new int[] {10, 13}));
        assertThatThrownBy(() -> client.respond(UNMASKING, both))
                .isInstanceOf(SecureAggregationException.class)
                .hasMessageContaining("both the self-mask seed and the masking key of client 13");
        // calling a client that sent its input "dropped" is the same attack on that client: it refuses
        byte[] claimsDropped = SecureAggregationMessage.encode(
                9, new UnmaskRequest(new int[] {1, 4, 7, 16, 19, 22, 25, 28}, new int[] {10, 13}));
        assertThatThrownBy(() -> r.clients().get(13).respond(UNMASKING, claimsDropped))
                .isInstanceOf(SecureAggregationException.class)
                .hasMessageContaining("does not count this client among the survivors");
        // a request that leaves out a client that shared keys is refused too
        byte[] partial = SecureAggregationMessage.encode(
                9, new UnmaskRequest(new int[] {1, 4, 7, 13, 16, 19, 22, 25}, new int[] {10}));
        assertThatThrownBy(() -> client.respond(UNMASKING, partial))
                .hasMessageContaining("not exactly the clients that shared keys");
        // the honest request is answered once; a second one, whatever it asks, is refused
        client.respond(UNMASKING, r.server().messageFor(1));
        byte[] swapped = SecureAggregationMessage.encode(
                9, new UnmaskRequest(new int[] {1, 4, 7, 10, 16, 19, 22, 25, 28}, new int[] {13}));
        assertThatThrownBy(() -> client.respond(UNMASKING, swapped))
                .isInstanceOf(SecureAggregationException.class)
                .hasMessageContaining("one unmasking request per round");
    }

    @Test
    void malformedOrMisplacedMessagesAreRefusedAndTheRoundStillCompletes() {
        Updates u = updates(CLIENTS, 20);
        Round r = roundUpToUnmasking(u);
        var server = r.server();
        byte[] good = r.clients().get(4).respond(UNMASKING, server.messageFor(4));
        assertThatThrownBy(() -> server.accept(4, Arrays.copyOf(good, 15)))
                .isInstanceOf(SecureAggregationException.class)
                .hasMessageContaining("ends early");
        assertThatThrownBy(() -> server.accept(4, Arrays.copyOf(good, good.length - 3)))
                .isInstanceOf(SecureAggregationException.class)
                .hasMessageContaining("does not fit");
        assertThatThrownBy(() -> server.accept(4, Arrays.copyOf(good, good.length + 1)))
                .hasMessageContaining("1 bytes after the end");
        assertThatThrownBy(() -> server.accept(7, good)).hasMessageContaining("claims to come from client 4");
        assertThatThrownBy(() -> server.accept(4, new byte[] {1, 2, 3})).hasMessageContaining("not a secure aggregation message");
        byte[] oversized = good.clone();
        // the share count right after magic, type, round and id: claim 2^30 shares
        oversized[17] = 0x40;
        assertThatThrownBy(() -> server.accept(4, oversized)).hasMessageContaining("does not fit");
        byte[] otherRound = SecureAggregationMessage.encode(8, new UnmaskRequest(new int[0], new int[0]));
        assertThatThrownBy(() -> server.accept(4, otherRound)).hasMessageContaining("for round 8, this is round 9");
        byte[] fromDropped = SecureAggregationMessage.encode(
                9, new SecureAggregationMessage.UnmaskResponse(10, List.of()));
        assertThatThrownBy(() -> server.accept(10, fromDropped))
                .hasMessageContaining("not among the clients that sent a masked input");

        server.accept(4, good);
        assertThatThrownBy(() -> server.accept(4, good)).hasMessageContaining("already revealed");
        for (var c : r.clients().values()) {
            if (c.id() != 4 && c.id() != 10) {
                server.accept(c.id(), c.respond(UNMASKING, server.messageFor(c.id())));
            }
        }
        server.closePhase();
        int[] plain = new int[20];
        u.quantized().forEach((id, x) -> {
            if (id != 10) {
                UpdateQuantizer.addInto(plain, x);
            }
        });
        assertThat(server.sum()).isEqualTo(plain);
    }

    @Test
    void aSurvivorRevealingAWrongShareStopsTheRoundInsteadOfCorruptingTheSum() {
        Updates u = updates(CLIENTS, 20);
        Round r = roundUpToUnmasking(u);
        var server = r.server();
        for (var c : r.clients().values()) {
            if (c.id() == 10) {
                continue;
            }
            byte[] reply = c.respond(UNMASKING, server.messageFor(c.id()));
            if (c.id() == 16) {
                var honest = SecureAggregationMessage.decode(
                        reply, 9, SecureAggregationMessage.UnmaskResponse.class, "test");
                var shares = new java.util.ArrayList<>(honest.shares());
                var first = shares.get(0); // a self-mask seed share of some survivor
                shares.set(0, new SecureAggregationMessage.RevealedShare(first.owner(), first.kind(),
                        new ShamirShare(first.share().x(), first.share().y().add(java.math.BigInteger.ONE))));
                reply = SecureAggregationMessage.encode(9, new SecureAggregationMessage.UnmaskResponse(16, shares));
            }
            server.accept(c.id(), reply);
        }
        assertThatThrownBy(server::closePhase)
                .isInstanceOf(SecureAggregationException.class)
                .hasMessageContaining("'s SELF_MASK_SEED do not combine")
                .hasMessageContaining("does not lie on the polynomial");
    }

    @Test
    void aTamperedShareIsRefusedByItsRecipient() {
        Updates u = updates(3, 5);
        var config = new SecureAggregationConfig(1, 2, 5);
        Map<Integer, SecureAggregationClient> clients = new TreeMap<>();
        u.quantized().forEach((id, x) -> clients.put(id, new SecureAggregationClient(id, config, x, random)));
        var server = new SecureAggregationServer(config);
        for (var c : clients.values()) {
            server.accept(c.id(), c.respond(ADVERTISE_KEYS, new byte[0]));
        }
        server.closePhase();
        for (var c : clients.values()) {
            server.accept(c.id(), c.respond(SHARE_KEYS, server.messageFor(c.id())));
        }
        server.closePhase();
        byte[] relayed = server.messageFor(1);
        relayed[relayed.length - 1] ^= 1; // flips a bit of the last share's tag
        assertThatThrownBy(() -> clients.get(1).respond(MASKED_INPUT, relayed))
                .isInstanceOf(SecureAggregationException.class)
                .hasMessageContaining("does not authenticate");
    }

    @Test
    void aClientAdvertisingASmallOrderKeyIsLeftOutAndTheOthersCarryOn() throws Exception {
        Updates u = updates(4, 8);
        var config = new SecureAggregationConfig(2, 3, 8);
        byte[] zeroPoint = java.security.KeyFactory.getInstance("X25519")
                .generatePublic(new java.security.spec.XECPublicKeySpec(
                        java.security.spec.NamedParameterSpec.X25519, java.math.BigInteger.ZERO))
                .getEncoded();
        var server = new SecureAggregationServer(config);
        byte[] bad = SecureAggregationMessage.encode(
                2, new SecureAggregationMessage.AdvertiseKeys(1, zeroPoint, zeroPoint));
        assertThatThrownBy(() -> server.accept(1, bad))
                .isInstanceOf(SecureAggregationException.class)
                .hasMessageContaining("small order");
        Map<Integer, SecureAggregationClient> clients = new TreeMap<>();
        u.quantized().forEach((id, x) -> {
            if (id != 1) {
                clients.put(id, new SecureAggregationClient(id, config, x, random));
            }
        });
        for (var phase : SecureAggregationPhase.values()) {
            for (var c : clients.values()) {
                server.accept(c.id(), c.respond(phase, phase == ADVERTISE_KEYS ? new byte[0] : server.messageFor(c.id())));
            }
            server.closePhase();
        }
        int[] plain = new int[8];
        clients.keySet().forEach(id -> UpdateQuantizer.addInto(plain, u.quantized().get(id)));
        assertThat(server.sum()).isEqualTo(plain);
    }

    @Test
    void pairwiseMasksCancelAndAgreeFromBothEnds() {
        var config = new SecureAggregationConfig(5, 2, 64);
        var a = SecureAggregationCrypto.newKeyPair(random);
        var b = SecureAggregationCrypto.newKeyPair(random);
        byte[] ab = SecureAggregationCrypto.agreedKey(a.getPrivate(), b.getPublic(), "pairwise mask", config.round());
        byte[] ba = SecureAggregationCrypto.agreedKey(b.getPrivate(), a.getPublic(), "pairwise mask", config.round());
        assertThat(ab).isEqualTo(ba);
        assertThat(SecureAggregationCrypto.agreedKey(a.getPrivate(), b.getPublic(), "pairwise mask", 6)).isNotEqualTo(ab);
        // the public key recomputed from the private scalar is the advertised one
        byte[] scalar = SecureAggregationCrypto.privateScalar(a.getPrivate());
        assertThat(SecureAggregationCrypto.publicKeyOf(scalar))
                .isEqualTo(SecureAggregationCrypto.encodePublicKey(a.getPublic()));
        // HKDF-SHA256, RFC 5869 test case 1
        byte[] okm = SecureAggregationCrypto.hkdf(
                hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"), hex("000102030405060708090a0b0c"),
                hex("f0f1f2f3f4f5f6f7f8f9"), 42);
        assertThat(okm).isEqualTo(hex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"));
    }

    private static byte[] hex(String s) {
        return java.util.HexFormat.of().parseHex(s);
    }
}
