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
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The server's side of a secure aggregation round (see {@link SecureAggregationClient} for the
 * protocol): it relays keys and encrypted shares, adds up the masked inputs, and removes the masks
 * with the shares the survivors reveal, learning only the sum of the survivors' updates mod 2^32.
 *
 * <p>Driven phase by phase by any transport: {@link #accept} each client's bytes for the current
 * phase, {@link #closePhase} when the clients that will answer have answered (a client that has
 * not is counted as dropped), then send each remaining client {@link #messageFor} it. After the
 * {@link SecureAggregationPhase#UNMASKING} phase closes, {@link #sum()} is the result. Whenever
 * fewer than the threshold remain, closing the phase throws {@link SecureAggregationException}
 * rather than produce a sum. The methods are synchronized, so a server of concurrent calls (one
 * per client) may call them from its request threads.
 *
 * <pre>{@code
 * var server = new SecureAggregationServer(config);
 * for (var c : clients) server.accept(c.id(), c.respond(ADVERTISE_KEYS, new byte[0]));
 * server.closePhase();
 * for (var c : clients) server.accept(c.id(), c.respond(SHARE_KEYS, server.messageFor(c.id())));
 * ... // MASKED_INPUT, UNMASKING the same way
 * int[] sum = server.sum();
 * }</pre>
 */
public final class SecureAggregationServer {
    private final SecureAggregationConfig config;
    private SecureAggregationPhase phase = SecureAggregationPhase.ADVERTISE_KEYS;
    private boolean finished;

    private final Map<Integer, AdvertiseKeys> keys = new TreeMap<>(); // U1
    private final Map<Integer, List<EncryptedShare>> sharesFrom = new TreeMap<>(); // U2's uploads
    private final Map<Integer, int[]> maskedInputs = new TreeMap<>(); // U3
    private final Map<Integer, UnmaskResponse> responses = new TreeMap<>(); // U4
    private KeyDirectory directory;
    private UnmaskRequest unmaskRequest;
    private int[] sum;

    /** A server for one round. */
    public SecureAggregationServer(SecureAggregationConfig config) {
        this.config = config;
    }

    /** The phase whose messages {@link #accept} takes now; after the last closes, {@link #sum()} is ready. */
    public synchronized SecureAggregationPhase phase() {
        return phase;
    }

    /**
     * Takes client {@code clientId}'s message for the current phase. A malformed message, one from a
     * client not in the round at this phase, or a second one from the same client is refused with a
     * {@link SecureAggregationException}, and the round's state is left as it was: the client simply
     * counts as dropped unless it sends a valid message.
     */
    public synchronized void accept(int clientId, byte[] bytes) {
        if (finished) {
            throw new SecureAggregationException("round " + config.round() + " is over; client " + clientId + " is too late");
        }
        String from = "client " + clientId + " in phase " + phase;
        switch (phase) {
            case ADVERTISE_KEYS -> {
                AdvertiseKeys a = SecureAggregationMessage.decode(bytes, config.round(), AdvertiseKeys.class, from);
                requireSender(a.clientId(), clientId, from);
                if (clientId < 0 || clientId == Integer.MAX_VALUE) {
                    throw new SecureAggregationException(from + ": invalid client id");
                }
                SecureAggregationCrypto.requireUsable(
                        SecureAggregationCrypto.decodePublicKey(a.encryptionKey(), from + ": the encryption key"),
                        from + ": the encryption key");
                SecureAggregationCrypto.requireUsable(
                        SecureAggregationCrypto.decodePublicKey(a.maskingKey(), from + ": the masking key"),
                        from + ": the masking key");
                if (keys.containsKey(clientId)) {
                    throw new SecureAggregationException(from + ": already advertised its keys");
                }
                keys.put(clientId, a);
            }
            case SHARE_KEYS -> {
                KeyShares k = SecureAggregationMessage.decode(bytes, config.round(), KeyShares.class, from);
                requireMember(keys.keySet(), clientId, from, "advertised keys");
                if (sharesFrom.containsKey(clientId)) {
                    throw new SecureAggregationException(from + ": already sent its shares");
                }
                Set<Integer> recipients = new TreeSet<>();
                for (EncryptedShare s : k.shares()) {
                    requireSender(s.from(), clientId, from);
                    if (!keys.containsKey(s.to()) || !recipients.add(s.to())) {
                        throw new SecureAggregationException(from + ": a share for client " + s.to()
                                + ", who is not in the key directory or got two");
                    }
                }
                if (!recipients.equals(keys.keySet())) {
                    throw new SecureAggregationException(from + ": shares for " + recipients
                            + ", not one for each client in the key directory " + keys.keySet());
                }
                sharesFrom.put(clientId, k.shares());
            }
            case MASKED_INPUT -> {
                MaskedInput m = SecureAggregationMessage.decode(bytes, config.round(), MaskedInput.class, from);
                requireSender(m.clientId(), clientId, from);
                requireMember(sharesFrom.keySet(), clientId, from, "shared keys");
                if (m.masked().length != config.vectorLength()) {
                    throw new SecureAggregationException(from + ": a masked input of length " + m.masked().length
                            + ", the round expects " + config.vectorLength());
                }
                if (maskedInputs.containsKey(clientId)) {
                    throw new SecureAggregationException(from + ": already sent its masked input");
                }
                maskedInputs.put(clientId, m.masked());
            }
            case UNMASKING -> {
                UnmaskResponse r = SecureAggregationMessage.decode(bytes, config.round(), UnmaskResponse.class, from);
                requireSender(r.clientId(), clientId, from);
                requireMember(maskedInputs.keySet(), clientId, from, "sent a masked input");
                if (responses.containsKey(clientId)) {
                    throw new SecureAggregationException(from + ": already revealed its shares");
                }
                Set<Integer> seen = new TreeSet<>();
                for (RevealedShare s : r.shares()) {
                    boolean survivor = maskedInputs.containsKey(s.owner());
                    ShareKind expected = survivor ? ShareKind.SELF_MASK_SEED : ShareKind.MASKING_KEY;
                    if (!sharesFrom.containsKey(s.owner()) || s.kind() != expected || !seen.add(s.owner())
                            || s.share().x() != clientId + 1) {
                        throw new SecureAggregationException(from + ": a revealed share of client " + s.owner() + " ("
                                + s.kind() + ", x = " + s.share().x() + ") that was not asked for, or a repeat");
                    }
                }
                if (!seen.equals(sharesFrom.keySet())) {
                    throw new SecureAggregationException(from + ": revealed shares of " + seen
                            + ", not of every client that shared keys " + sharesFrom.keySet());
                }
                responses.put(clientId, r);
            }
        }
    }

    /**
     * Ends the current phase with the clients that answered it; throws if they are fewer than the
     * threshold. Closing {@link SecureAggregationPhase#UNMASKING} computes the sum.
     */
    public synchronized void closePhase() {
        if (finished) {
            throw new SecureAggregationException("round " + config.round() + " is already over");
        }
        switch (phase) {
            case ADVERTISE_KEYS -> {
                requireThreshold(keys.size(), "clients advertised keys");
                directory = new KeyDirectory(List.copyOf(keys.values()));
                phase = SecureAggregationPhase.SHARE_KEYS;
            }
            case SHARE_KEYS -> {
                requireThreshold(sharesFrom.size(), "clients shared their keys");
                phase = SecureAggregationPhase.MASKED_INPUT;
            }
            case MASKED_INPUT -> {
                requireThreshold(maskedInputs.size(), "clients sent a masked input");
                Set<Integer> dropped = new TreeSet<>(sharesFrom.keySet());
                dropped.removeAll(maskedInputs.keySet());
                unmaskRequest = new UnmaskRequest(
                        maskedInputs.keySet().stream().mapToInt(Integer::intValue).toArray(),
                        dropped.stream().mapToInt(Integer::intValue).toArray());
                phase = SecureAggregationPhase.UNMASKING;
            }
            case UNMASKING -> {
                requireThreshold(responses.size(), "survivors revealed their shares");
                sum = unmask();
                finished = true;
            }
        }
    }

    /** The bytes that open the current phase for {@code clientId}, or a refusal if it is no longer in the round. */
    public synchronized byte[] messageFor(int clientId) {
        SecureAggregationMessage message = switch (phase) {
            case ADVERTISE_KEYS -> throw new SecureAggregationException(
                    "the ADVERTISE_KEYS phase needs no message from the server");
            case SHARE_KEYS -> {
                requireMember(keys.keySet(), clientId, "client " + clientId, "advertised keys");
                yield directory;
            }
            case MASKED_INPUT -> {
                requireMember(sharesFrom.keySet(), clientId, "client " + clientId, "shared keys");
                List<EncryptedShare> toClient = new ArrayList<>();
                for (List<EncryptedShare> shares : sharesFrom.values()) {
                    for (EncryptedShare s : shares) {
                        if (s.to() == clientId) {
                            toClient.add(s);
                        }
                    }
                }
                yield new KeyShares(toClient);
            }
            case UNMASKING -> {
                requireMember(maskedInputs.keySet(), clientId, "client " + clientId, "sent a masked input");
                yield unmaskRequest;
            }
        };
        return SecureAggregationMessage.encode(config.round(), message);
    }

    /** The sum of the survivors' quantised updates mod 2^32, once the round is over. */
    public synchronized int[] sum() {
        if (!finished) {
            throw new SecureAggregationException("round " + config.round() + " is in phase " + phase + "; no sum yet");
        }
        return sum.clone();
    }

    /** The clients whose updates are in {@link #sum()}. */
    public synchronized int[] survivors() {
        return maskedInputs.keySet().stream().mapToInt(Integer::intValue).toArray();
    }

    /** What the server holds of client {@code clientId}: its masked input, or null if none arrived (for audits and tests). */
    public synchronized int[] maskedInputOf(int clientId) {
        int[] m = maskedInputs.get(clientId);
        return m == null ? null : m.clone();
    }

    /**
     * Survivor {@code clientId}'s self-mask seed b_u as the server reconstructs it from the revealed
     * shares: part of everything the server learns, so tests can check that even with it the
     * server's view of one input stays masked by the pairwise masks.
     */
    synchronized byte[] reconstructedSelfMaskSeed(int clientId) {
        if (!finished || !maskedInputs.containsKey(clientId)) {
            throw new SecureAggregationException("no self-mask seed of client " + clientId + " was revealed");
        }
        return secretOf(clientId, ShareKind.SELF_MASK_SEED);
    }

    private int[] unmask() {
        int[] total = new int[config.vectorLength()];
        for (int[] y : maskedInputs.values()) {
            UpdateQuantizer.addInto(total, y);
        }
        // self-masks of the survivors
        for (int u : maskedInputs.keySet()) {
            byte[] seed = secretOf(u, ShareKind.SELF_MASK_SEED);
            UpdateQuantizer.subtractFrom(total, SecureAggregationCrypto.expand(seed, config.vectorLength()));
        }
        // pairwise masks the survivors share with clients that dropped before sending their input
        for (int v : sharesFrom.keySet()) {
            if (maskedInputs.containsKey(v)) {
                continue;
            }
            byte[] scalar = secretOf(v, ShareKind.MASKING_KEY);
            if (!Arrays.equals(SecureAggregationCrypto.publicKeyOf(scalar), keys.get(v).maskingKey())) {
                throw new SecureAggregationException("the masking key of dropped client " + v
                        + " reconstructed from the survivors' shares does not match the key it advertised");
            }
            var dropped = SecureAggregationCrypto.privateKey(scalar);
            for (int u : maskedInputs.keySet()) {
                PublicKey survivorKey = SecureAggregationCrypto.decodePublicKey(keys.get(u).maskingKey(), "client " + u);
                int[] mask = SecureAggregationCrypto.expand(
                        SecureAggregationCrypto.agreedKey(
                                dropped, survivorKey, SecureAggregationClient.maskPurpose(), config.round()),
                        config.vectorLength());
                // u added the mask if u < v, subtracted it otherwise
                if (u < v) {
                    UpdateQuantizer.subtractFrom(total, mask);
                } else {
                    UpdateQuantizer.addInto(total, mask);
                }
            }
        }
        return total;
    }

    /** One client's secret from the revealed shares; shares that disagree (a survivor lied or erred) stop the round. */
    private byte[] secretOf(int owner, ShareKind kind) {
        try {
            return Shamir.combineBytes(sharesOf(owner, kind), config.threshold(), SecureAggregationCrypto.KEY_BYTES);
        } catch (IllegalArgumentException e) {
            throw new SecureAggregationException("round " + config.round() + ": the revealed shares of client " + owner
                    + "'s " + kind + " do not combine: " + e.getMessage() + "; no sum is produced");
        }
    }

    private List<ShamirShare> sharesOf(int owner, ShareKind kind) {
        List<ShamirShare> out = new ArrayList<>();
        for (UnmaskResponse r : responses.values()) {
            for (RevealedShare s : r.shares()) {
                if (s.owner() == owner && s.kind() == kind) {
                    out.add(s.share());
                }
            }
        }
        return out;
    }

    private void requireThreshold(int count, String what) {
        if (count < config.threshold()) {
            throw new SecureAggregationException("round " + config.round() + ", phase " + phase + ": only " + count + " "
                    + what + ", fewer than the threshold " + config.threshold() + "; no sum is produced");
        }
    }

    private static void requireSender(int claimed, int clientId, String from) {
        if (claimed != clientId) {
            throw new SecureAggregationException(from + ": the message claims to come from client " + claimed);
        }
    }

    private static void requireMember(Set<Integer> members, int clientId, String from, String what) {
        if (!members.contains(clientId)) {
            throw new SecureAggregationException(from + ": not among the clients that " + what);
        }
    }
}
