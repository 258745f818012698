package dev.jumbo.privacy;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The messages of a secure aggregation round, each a record that {@link #encode}s to bytes and
 * {@link #decode}s back, so any transport (an in-process call, a gRPC {@code Exchange(round,
 * phase, client_id, bytes)}) can carry them without knowing what they hold.
 *
 * <p>Wire format, big-endian: the magic {@code "JSA1"}, a type byte, the round (int64), then the
 * body below. Counts come before lists and are checked against the bytes left before anything is
 * allocated, and a message must end exactly where its body does, so a malformed or oversized
 * message fails with a {@link SecureAggregationException} naming what was wrong.
 */
public sealed interface SecureAggregationMessage {
    /** "JSA1". */
    int MAGIC = 0x4A534131;

    /**
     * Client to server, phase {@link SecureAggregationPhase#ADVERTISE_KEYS}; the server relays the
     * list of them. Body: id (int32), then each key as int32 length and its X.509 bytes.
     *
     * @param clientId the sender
     * @param encryptionKey X25519 public key that shares are encrypted to (c_u^PK in the paper)
     * @param maskingKey X25519 public key for pairwise mask agreement (s_u^PK)
     */
    record AdvertiseKeys(int clientId, byte[] encryptionKey, byte[] maskingKey) implements SecureAggregationMessage {}

    /** Server to every client, opening {@link SecureAggregationPhase#SHARE_KEYS}: the keys of all clients that advertised (U1). Body: count, then each AdvertiseKeys body. */
    record KeyDirectory(List<AdvertiseKeys> clients) implements SecureAggregationMessage {
        /** Copies the list. */
        public KeyDirectory {
            clients = List.copyOf(clients);
        }
    }

    /**
     * One client's Shamir shares for one peer, AES-GCM encrypted to that peer.
     *
     * @param from the client whose secrets these are shares of
     * @param to the client who can decrypt them
     * @param ciphertext nonce, ciphertext and tag
     */
    record EncryptedShare(int from, int to, byte[] ciphertext) {}

    /**
     * Client to server in {@link SecureAggregationPhase#SHARE_KEYS} (all from the sender), and
     * server to client opening {@link SecureAggregationPhase#MASKED_INPUT} (all to the recipient,
     * one from each client that shared: U2). Body: count, then from, to, length and bytes of each.
     */
    record KeyShares(List<EncryptedShare> shares) implements SecureAggregationMessage {
        /** Copies the list. */
        public KeyShares {
            shares = List.copyOf(shares);
        }
    }

    /** Client to server in {@link SecureAggregationPhase#MASKED_INPUT}. Body: id, length, the ints. */
    record MaskedInput(int clientId, int[] masked) implements SecureAggregationMessage {}

    /**
     * Server to the clients that sent a masked input, opening {@link SecureAggregationPhase#UNMASKING}.
     * Body: two int lists (count, ids).
     *
     * @param survivors the clients whose masked inputs are in the sum (U3): reveal their self-mask seeds' shares
     * @param dropped clients that shared keys but sent no input (U2 minus U3): reveal their masking keys' shares
     */
    record UnmaskRequest(int[] survivors, int[] dropped) implements SecureAggregationMessage {}

    /** What a revealed share is a share of. */
    enum ShareKind {
        /** b_u, the seed of a survivor's self-mask. */
        SELF_MASK_SEED,
        /** s_u^SK, a dropped client's masking private key. */
        MASKING_KEY
    }

    /**
     * One share a survivor reveals.
     *
     * @param owner whose secret it is a share of
     * @param kind which of the owner's two secrets
     * @param share the point held by the revealing client
     */
    record RevealedShare(int owner, ShareKind kind, ShamirShare share) {}

    /** Client to server in {@link SecureAggregationPhase#UNMASKING}. Body: id, count, then owner, kind byte, x, 66-byte y of each. */
    record UnmaskResponse(int clientId, List<RevealedShare> shares) implements SecureAggregationMessage {
        /** Copies the list. */
        public UnmaskResponse {
            shares = List.copyOf(shares);
        }
    }

    /** The bytes of {@code message} for {@code round}. */
    static byte[] encode(long round, SecureAggregationMessage message) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(MAGIC);
            out.writeByte(typeOf(message));
            out.writeLong(round);
            switch (message) {
                case AdvertiseKeys a -> writeAdvertise(out, a);
                case KeyDirectory d -> {
                    out.writeInt(d.clients().size());
                    for (AdvertiseKeys a : d.clients()) {
                        writeAdvertise(out, a);
                    }
                }
                case KeyShares k -> {
                    out.writeInt(k.shares().size());
                    for (EncryptedShare s : k.shares()) {
                        out.writeInt(s.from());
                        out.writeInt(s.to());
                        writeBytes(out, s.ciphertext());
                    }
                }
                case MaskedInput m -> {
                    out.writeInt(m.clientId());
                    writeInts(out, m.masked());
                }
                case UnmaskRequest r -> {
                    writeInts(out, r.survivors());
                    writeInts(out, r.dropped());
                }
                case UnmaskResponse r -> {
                    out.writeInt(r.clientId());
                    out.writeInt(r.shares().size());
                    for (RevealedShare s : r.shares()) {
                        out.writeInt(s.owner());
                        out.writeByte(s.kind().ordinal());
                        out.writeInt(s.share().x());
                        out.write(Shamir.toFixedBytes(s.share().y(), Shamir.ELEMENT_BYTES));
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
        }
        return bytes.toByteArray();
    }

    /**
     * Reads a message of the type {@code expected} for round {@code round}; anything else (another
     * round, another type, a truncated or padded body, a count larger than the bytes that follow)
     * is refused with a {@link SecureAggregationException} that names {@code from}.
     */
    static <T extends SecureAggregationMessage> T decode(byte[] bytes, long round, Class<T> expected, String from) {
        ByteBuffer in = ByteBuffer.wrap(bytes);
        String what = expected.getSimpleName() + " from " + from;
        try {
            if (bytes.length < 13 || in.getInt() != MAGIC) {
                throw new SecureAggregationException(what + ": not a secure aggregation message (no JSA1 magic)");
            }
            int type = in.get();
            long messageRound = in.getLong();
            if (messageRound != round) {
                throw new SecureAggregationException(what + ": the message is for round " + messageRound + ", this is round " + round);
            }
            SecureAggregationMessage message = switch (type) {
                case 1 -> readAdvertise(in, what);
                case 2 -> {
                    int n = count(in, 4 + 4 + 4, what);
                    List<AdvertiseKeys> clients = new ArrayList<>(n);
                    for (int i = 0; i < n; i++) {
                        clients.add(readAdvertise(in, what));
                    }
                    yield new KeyDirectory(clients);
                }
                case 3 -> {
                    int n = count(in, 12, what);
                    List<EncryptedShare> shares = new ArrayList<>(n);
                    for (int i = 0; i < n; i++) {
                        shares.add(new EncryptedShare(in.getInt(), in.getInt(), readBytes(in, what)));
                    }
                    yield new KeyShares(shares);
                }
                case 4 -> new MaskedInput(in.getInt(), readInts(in, what));
                case 5 -> new UnmaskRequest(readInts(in, what), readInts(in, what));
                case 6 -> {
                    int id = in.getInt();
                    int n = count(in, 4 + 1 + 4 + Shamir.ELEMENT_BYTES, what);
                    List<RevealedShare> shares = new ArrayList<>(n);
                    ShareKind[] kinds = ShareKind.values();
                    for (int i = 0; i < n; i++) {
                        int owner = in.getInt();
                        int kind = in.get();
                        if (kind < 0 || kind >= kinds.length) {
                            throw new SecureAggregationException(what + ": share " + i + " has unknown kind " + kind);
                        }
                        int x = in.getInt();
                        byte[] y = new byte[Shamir.ELEMENT_BYTES];
                        in.get(y);
                        ShamirShare share;
                        try {
                            share = new ShamirShare(x, new BigInteger(1, y));
                        } catch (IllegalArgumentException e) {
                            throw new SecureAggregationException(what + ": share " + i + ": " + e.getMessage());
                        }
                        shares.add(new RevealedShare(owner, kinds[kind], share));
                    }
                    yield new UnmaskResponse(id, shares);
                }
                default -> throw new SecureAggregationException(what + ": unknown message type " + type);
            };
            if (in.hasRemaining()) {
                throw new SecureAggregationException(what + ": " + in.remaining() + " bytes after the end of the message");
            }
            if (!expected.isInstance(message)) {
                throw new SecureAggregationException(
                        what + ": got a " + message.getClass().getSimpleName() + " instead");
            }
            return expected.cast(message);
        } catch (BufferUnderflowException e) {
            throw new SecureAggregationException(what + ": the message ends early (" + bytes.length + " bytes)");
        }
    }

    private static int typeOf(SecureAggregationMessage message) {
        return switch (message) {
            case AdvertiseKeys a -> 1;
            case KeyDirectory d -> 2;
            case KeyShares k -> 3;
            case MaskedInput m -> 4;
            case UnmaskRequest r -> 5;
            case UnmaskResponse r -> 6;
        };
    }

    private static void writeAdvertise(DataOutputStream out, AdvertiseKeys a) throws IOException {
        out.writeInt(a.clientId());
        writeBytes(out, a.encryptionKey());
        writeBytes(out, a.maskingKey());
    }

    private static AdvertiseKeys readAdvertise(ByteBuffer in, String what) {
        return new AdvertiseKeys(in.getInt(), readBytes(in, what), readBytes(in, what));
    }

    private static void writeBytes(DataOutputStream out, byte[] b) throws IOException {
        out.writeInt(b.length);
        out.write(b);
    }

    private static void writeInts(DataOutputStream out, int[] values) throws IOException {
        out.writeInt(values.length);
        for (int v : values) {
            out.writeInt(v);
        }
    }

    private static byte[] readBytes(ByteBuffer in, String what) {
        int n = count(in, 1, what);
        byte[] b = new byte[n];
        in.get(b);
        return b;
    }

    private static int[] readInts(ByteBuffer in, String what) {
        int n = count(in, 4, what);
        int[] values = new int[n];
        in.asIntBuffer().get(values);
        in.position(in.position() + 4 * n);
        return values;
    }

    /** A count read from the message, refused unless that many items of at least {@code bytesEach} fit in what is left. */
    private static int count(ByteBuffer in, int bytesEach, String what) {
        int n = in.getInt();
        if (n < 0 || (long) n * bytesEach > in.remaining()) {
            throw new SecureAggregationException(
                    what + ": a count of " + n + " at byte " + (in.position() - 4) + " does not fit the " + in.remaining()
                            + " bytes left");
        }
        return n;
    }
}
