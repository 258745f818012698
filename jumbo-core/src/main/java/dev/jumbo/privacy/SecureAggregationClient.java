package dev.jumbo.privacy;

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
import java.nio.ByteBuffer;
import java.security.KeyPair;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * One client's side of a secure aggregation round (Bonawitz et al. 2017, "Practical Secure
 * Aggregation for Privacy-Preserving Machine Learning", the semi-honest protocol of section 4
 * without its consistency-check round): the server learns the sum of the survivors' updates mod
 * 2^32 and nothing about any one of them.
 *
 * <p>The client answers each phase with one message, given the server's message that opened it:
 * <pre>{@code
 * var client = new SecureAggregationClient(7, config, quantizer.quantize(update), new SecureRandom());
 * byte[] keys   = client.respond(SecureAggregationPhase.ADVERTISE_KEYS, new byte[0]);
 * byte[] shares = client.respond(SecureAggregationPhase.SHARE_KEYS, directoryFromServer);
 * byte[] masked = client.respond(SecureAggregationPhase.MASKED_INPUT, sharesFromServer);
 * byte[] reveal = client.respond(SecureAggregationPhase.UNMASKING, unmaskRequestFromServer);
 * }</pre>
 *
 * <p>Masks: with s_uv the HKDF of the X25519 agreement of u's and v's masking keys, and b_u a
 * random seed, u sends y_u = x_u + PRG(b_u) + sum over peers v > u of PRG(s_uv) - sum over v < u
 * of PRG(s_uv), all mod 2^32. The pairwise masks cancel in the sum over any set that holds both
 * ends of each pair; the server removes the rest with shares the survivors reveal.
 *
 * <p>Safety rule: a client reveals, for each peer, a share of its self-mask seed or of its
 * masking key, never both, and it answers one unmasking request per round; a server that asks
 * for both of one peer (which would let it strip every mask from that peer's input) is refused.
 * As in the paper, each client has two X25519 pairs, one whose agreements key the AES-GCM
 * encryption of shares and one whose agreements seed the pairwise masks (only the latter's
 * private key is secret-shared). Simplified against the paper: no signatures on the keys and no
 * consistency-check round, so this protects against an honest-but-curious server that follows
 * the protocol, not one that lies about who dropped to different clients.
 */
public final class SecureAggregationClient {
    private static final String MASK_PURPOSE = "pairwise mask";
    private static final String SHARE_PURPOSE = "share encryption";

    private final int id;
    private final SecureAggregationConfig config;
    private final int[] input;
    private final SecureRandom random;
    private final KeyPair encryptionKeys;
    private final KeyPair maskingKeys;
    private final byte[] selfMaskSeed;

    private SecureAggregationPhase next = SecureAggregationPhase.ADVERTISE_KEYS;
    private final Map<Integer, AdvertiseKeys> directory = new TreeMap<>();
    /** Shares held for each peer in U2 (the peer's id to its masking-key share and self-mask-seed share). */
    private final Map<Integer, ShamirShare[]> heldShares = new TreeMap<>();

    /**
     * A client with a quantised update (see {@link UpdateQuantizer}).
     *
     * @param id this client's id, unique in the round, {@code >= 0}
     */
    public SecureAggregationClient(int id, SecureAggregationConfig config, int[] quantizedUpdate, SecureRandom random) {
        if (id < 0 || id == Integer.MAX_VALUE) {
            throw new IllegalArgumentException("SecureAggregationClient: id must be in [0, 2^31 - 2], got " + id);
        }
        if (quantizedUpdate.length != config.vectorLength()) {
            throw new IllegalArgumentException("SecureAggregationClient " + id + ": the update has length "
                    + quantizedUpdate.length + ", the round expects " + config.vectorLength());
        }
        this.id = id;
        this.config = config;
        this.input = quantizedUpdate.clone();
        this.random = random;
        this.encryptionKeys = SecureAggregationCrypto.newKeyPair(random);
        this.maskingKeys = SecureAggregationCrypto.newKeyPair(random);
        this.selfMaskSeed = new byte[SecureAggregationCrypto.KEY_BYTES];
        random.nextBytes(selfMaskSeed);
    }

    /** This client's id. */
    public int id() {
        return id;
    }

    /**
     * This client's message for {@code phase}, given the bytes the server sent to open it (empty
     * for {@link SecureAggregationPhase#ADVERTISE_KEYS}). Phases must come in order, each once.
     */
    public byte[] respond(SecureAggregationPhase phase, byte[] fromServer) {
        if (next == null) {
            throw new SecureAggregationException("client " + id + ": the round is over for this client (it answers one "
                    + "unmasking request per round); asked for phase " + phase);
        }
        if (phase != next) {
            throw new SecureAggregationException(
                    "client " + id + ": asked for phase " + phase + " but the next phase is " + next);
        }
        SecureAggregationMessage out = switch (phase) {
            case ADVERTISE_KEYS -> advertiseKeys();
            case SHARE_KEYS -> shareKeys(decode(fromServer, KeyDirectory.class));
            case MASKED_INPUT -> maskedInput(decode(fromServer, KeyShares.class));
            case UNMASKING -> unmask(decode(fromServer, UnmaskRequest.class));
        };
        next = phase.ordinal() + 1 < SecureAggregationPhase.values().length
                ? SecureAggregationPhase.values()[phase.ordinal() + 1]
                : null;
        return SecureAggregationMessage.encode(config.round(), out);
    }

    private <T extends SecureAggregationMessage> T decode(byte[] bytes, Class<T> type) {
        return SecureAggregationMessage.decode(bytes, config.round(), type, "the server (to client " + id + ")");
    }

    AdvertiseKeys advertiseKeys() {
        return new AdvertiseKeys(
                id,
                SecureAggregationCrypto.encodePublicKey(encryptionKeys.getPublic()),
                SecureAggregationCrypto.encodePublicKey(maskingKeys.getPublic()));
    }

    KeyShares shareKeys(KeyDirectory message) {
        for (AdvertiseKeys a : message.clients()) {
            if (a.clientId() < 0 || a.clientId() == Integer.MAX_VALUE || directory.put(a.clientId(), a) != null) {
                throw new SecureAggregationException("client " + id + ": the key directory lists client " + a.clientId()
                        + " twice or with an invalid id");
            }
        }
        AdvertiseKeys mine = directory.get(id);
        if (mine == null
                || !Arrays.equals(mine.encryptionKey(), advertiseKeys().encryptionKey())
                || !Arrays.equals(mine.maskingKey(), advertiseKeys().maskingKey())) {
            throw new SecureAggregationException("client " + id + ": the key directory does not hold this client's own keys");
        }
        requireThreshold(directory.size(), "clients in the key directory");
        int[] xs = directory.keySet().stream().mapToInt(v -> v + 1).toArray();
        byte[] maskingScalar = SecureAggregationCrypto.privateScalar(maskingKeys.getPrivate());
        List<ShamirShare> keyShares = Shamir.splitBytes(maskingScalar, config.threshold(), xs, random);
        List<ShamirShare> seedShares = Shamir.splitBytes(selfMaskSeed, config.threshold(), xs, random);
        List<EncryptedShare> out = new ArrayList<>();
        int i = 0;
        for (AdvertiseKeys peer : directory.values()) {
            PublicKey peerKey = SecureAggregationCrypto.decodePublicKey(
                    peer.encryptionKey(), "client " + peer.clientId() + "'s encryption key");
            byte[] key = SecureAggregationCrypto.agreedKey(
                    encryptionKeys.getPrivate(), peerKey, SHARE_PURPOSE, config.round());
            byte[] plaintext = ByteBuffer.allocate(2 * Shamir.ELEMENT_BYTES)
                    .put(Shamir.toFixedBytes(keyShares.get(i).y(), Shamir.ELEMENT_BYTES))
                    .put(Shamir.toFixedBytes(seedShares.get(i).y(), Shamir.ELEMENT_BYTES))
                    .array();
            out.add(new EncryptedShare(id, peer.clientId(),
                    SecureAggregationCrypto.seal(key, plaintext, associatedData(id, peer.clientId()), random)));
            i++;
        }
        return new KeyShares(out);
    }

    MaskedInput maskedInput(KeyShares message) {
        for (EncryptedShare s : message.shares()) {
            AdvertiseKeys sender = directory.get(s.from());
            if (s.to() != id || sender == null || heldShares.containsKey(s.from())) {
                throw new SecureAggregationException("client " + id + ": got a share from " + s.from() + " to " + s.to()
                        + ", which is not addressed to this client, not from a listed client, or a repeat");
            }
            PublicKey senderKey = SecureAggregationCrypto.decodePublicKey(
                    sender.encryptionKey(), "client " + s.from() + "'s encryption key");
            byte[] key = SecureAggregationCrypto.agreedKey(
                    encryptionKeys.getPrivate(), senderKey, SHARE_PURPOSE, config.round());
            byte[] plain = SecureAggregationCrypto.open(
                    key, s.ciphertext(), associatedData(s.from(), id), "the share from client " + s.from());
            if (plain.length != 2 * Shamir.ELEMENT_BYTES) {
                throw new SecureAggregationException(
                        "client " + id + ": the share from client " + s.from() + " is " + plain.length + " bytes");
            }
            BigInteger keyY = new BigInteger(1, Arrays.copyOfRange(plain, 0, Shamir.ELEMENT_BYTES));
            BigInteger seedY = new BigInteger(1, Arrays.copyOfRange(plain, Shamir.ELEMENT_BYTES, plain.length));
            try {
                heldShares.put(s.from(), new ShamirShare[] {new ShamirShare(id + 1, keyY), new ShamirShare(id + 1, seedY)});
            } catch (IllegalArgumentException e) {
                throw new SecureAggregationException("client " + id + ": the share from client " + s.from() + ": " + e.getMessage());
            }
        }
        if (!heldShares.containsKey(id)) {
            throw new SecureAggregationException("client " + id + ": the server did not relay this client's own share");
        }
        requireThreshold(heldShares.size(), "clients that shared keys");
        int[] masked = input.clone();
        UpdateQuantizer.addInto(masked, SecureAggregationCrypto.expand(selfMaskSeed, config.vectorLength()));
        for (int peer : heldShares.keySet()) {
            if (peer == id) {
                continue;
            }
            int[] mask = pairwiseMask(maskingKeys.getPrivate(), directory.get(peer).maskingKey(), peer);
            if (id < peer) {
                UpdateQuantizer.addInto(masked, mask);
            } else {
                UpdateQuantizer.subtractFrom(masked, mask);
            }
        }
        return new MaskedInput(id, masked);
    }

    UnmaskResponse unmask(UnmaskRequest request) {
        Set<Integer> survivors = idSet(request.survivors(), "survivors");
        Set<Integer> dropped = idSet(request.dropped(), "dropped clients");
        for (int v : survivors) {
            if (dropped.contains(v)) {
                throw new SecureAggregationException("client " + id + ": refuses to unmask: the server asks for both the "
                        + "self-mask seed and the masking key of client " + v + ", which would reveal its update");
            }
        }
        if (!survivors.contains(id)) {
            throw new SecureAggregationException("client " + id + ": refuses to unmask: the server does not count this "
                    + "client among the survivors although it sent its masked input");
        }
        Set<Integer> all = new HashSet<>(survivors);
        all.addAll(dropped);
        if (!all.equals(heldShares.keySet())) {
            throw new SecureAggregationException("client " + id + ": refuses to unmask: survivors and dropped clients "
                    + all + " are not exactly the clients that shared keys " + heldShares.keySet());
        }
        requireThreshold(survivors.size(), "survivors");
        List<RevealedShare> out = new ArrayList<>();
        for (int v : survivors) {
            out.add(new RevealedShare(v, ShareKind.SELF_MASK_SEED, heldShares.get(v)[1]));
        }
        for (int v : dropped) {
            out.add(new RevealedShare(v, ShareKind.MASKING_KEY, heldShares.get(v)[0]));
        }
        return new UnmaskResponse(id, out);
    }

    private Set<Integer> idSet(int[] ids, String what) {
        Set<Integer> set = new HashSet<>();
        for (int v : ids) {
            if (!set.add(v)) {
                throw new SecureAggregationException("client " + id + ": the unmask request lists client " + v + " twice among " + what);
            }
        }
        return set;
    }

    private void requireThreshold(int count, String what) {
        if (count < config.threshold()) {
            throw new SecureAggregationException("client " + id + ": only " + count + " " + what
                    + ", fewer than the threshold " + config.threshold() + "; the round cannot complete safely");
        }
    }

    /** PRG(s_uv): the same vector from either end, since X25519 agreement is symmetric. */
    int[] pairwiseMask(java.security.PrivateKey mine, byte[] peerMaskingKey, int peer) {
        PublicKey theirs = SecureAggregationCrypto.decodePublicKey(peerMaskingKey, "client " + peer + "'s masking key");
        return SecureAggregationCrypto.expand(
                SecureAggregationCrypto.agreedKey(mine, theirs, MASK_PURPOSE, config.round()), config.vectorLength());
    }

    /** Binds a ciphertext to its sender and recipient, so the server cannot pass one client's share off as another's. */
    static byte[] associatedData(int from, int to) {
        return ByteBuffer.allocate(8).putInt(from).putInt(to).array();
    }

    static String maskPurpose() {
        return MASK_PURPOSE;
    }
}
