package dev.jumbo.federated;

import dev.jumbo.privacy.PaillierCiphertext;
import dev.jumbo.privacy.PaillierKeyPair;
import dev.jumbo.privacy.PaillierPacking;
import dev.jumbo.privacy.PaillierPublicKey;
import dev.jumbo.privacy.UpdateQuantizer;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.math.BigInteger;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Aggregation under Paillier encryption: the server adds the clients' encrypted updates without
 * seeing any of them, and cannot decrypt their sum; a client does, and hands the server the sum
 * it needs to move the model.
 *
 * <p><b>Keys.</b> The clients share one key pair ({@link PaillierKeyPair#generate}, 2048 bits by
 * default), handed to them out of band (a key file given to each client, say); the server gets
 * only the public key, and {@link Server} has no place for a private one.
 *
 * <p><b>Setup.</b> Server and clients must quantise on the same grid, or the server decodes the
 * sum on another grid than the clients quantised it on (a wrong model, silently); and the clients'
 * ciphertexts add up only under the server's public key. So, as {@link SecureAggregation}'s setup
 * tells its clients the clip, the {@link Server} answers an {@code Exchange("paillier-setup")}
 * (empty payload) with its quantiser and public key; a {@link Client} asks once, before its
 * first update, builds its quantiser from the answer, and stops with an error if the server's
 * key is not the public half of its own pair. The reply, big-endian: clip (float64), maxSummands
 * (int32), maxLevel (int32), the length of n's two's-complement bytes (int32), those bytes.
 *
 * <p><b>A round.</b> Each client quantises its delta ({@link UpdateQuantizer}: clipped, rounded
 * to integers), packs many values into each plaintext ({@link PaillierPacking}) and sends the
 * ciphertexts in an {@code Exchange("ciphertexts")} payload: bytes, since ciphertexts are not
 * float32. Its {@code encode} then returns a vector of zeros, which {@code SubmitUpdate} carries
 * as usual so that the server still records who took part; the zeros tell it nothing. After
 * that, the client's long-poll {@code Exchange("sum")} (sent from a virtual thread, since the
 * round cannot close before the client has submitted) returns once the round closes, that is
 * once every sampled client answered or the round's deadline passed: the server multiplies the
 * ciphertexts of the clients that submitted (dropped clients are simply left out) and sends the
 * product, with how many updates it holds, to every client that asks. Every such client decrypts
 * it and returns the integer sum through {@code Exchange("decrypted")}. The server takes the
 * first answer; later ones that arrive while the round is still the current one are compared
 * with it (a mismatch is refused and counted in {@link Server#disagreements()}); later ones that
 * arrive after the next round opened are refused by the server and dropped by the client. So
 * the others verify when they are in time, and the round never waits for them.
 *
 * <p><b>Equal weights.</b> The mean is the plain mean over clients, not FedAvg's examples-weighted
 * one: weighting inside the ciphertexts would need each client to multiply its update by its
 * example count before encrypting, which either puts that count in the clear (it is already in
 * the join request, but a scheme should not lean on it) or needs slots wide enough for
 * {@code examples * maxLevel * clients}, fewer values per ciphertext and more traffic.
 *
 * <p><b>What it protects.</b> The server (and anyone on the wire, which is plaintext gRPC here)
 * learns the sum of the round's updates, which it needs, and nothing about any one update. The
 * clients are trusted to decrypt honestly: one client could return a wrong sum; other clients
 * that answer in time would disagree with it, but the first answer is the one used. A client
 * holding the private key can read other clients' ciphertexts if it sees them, which it does not
 * here (the server never forwards them), and the sum, which it does.
 *
 * <pre>{@code
 * PaillierKeyPair keys = PaillierKeyPair.generate(new SecureRandom());            // out of band
 * var quantizer = new UpdateQuantizer(0.5, 16, (1 << 15) - 1);                   // clip, clients, levels
 * var serverScheme = new PaillierAggregation.Server(keys.publicKey(), quantizer, FlatParameters.stateSize(model), Duration.ofMinutes(2));
 * var server = new FederatedServer(model, Aggregator.of("fedavg", 0), serverScheme, settings);
 * var client = new FederatedClient(target, "client-1", data, training, new PaillierAggregation.Client(keys, "keys.json", new SecureRandom()));
 * }</pre>
 */
public final class PaillierAggregation {
    private static final System.Logger LOG = System.getLogger(PaillierAggregation.class.getName());

    /** The scheme's name in the join reply. */
    public static final String NAME = "paillier";
    static final String SETUP = "paillier-setup", CIPHERTEXTS = "ciphertexts", SUM = "sum", DECRYPTED = "decrypted";

    private PaillierAggregation() {}

    /**
     * The server's half: tells each client its quantiser and public key, stores each client's
     * ciphertexts, multiplies those of the clients that submitted once the round closes, and waits
     * (up to {@code patience}) for a client to return the decrypted sum. Holds the public key only.
     */
    public static final class Server implements ServerAggregationScheme {
        private final PaillierPublicKey key;
        private final UpdateQuantizer quantizer;
        private final PaillierPacking packing;
        private final int parameterCount;
        private final Duration patience;
        private final byte[] setup;                                  // the "paillier-setup" reply, the same for every client

        private final ReentrantLock lock = new ReentrantLock();
        private final Condition changed = lock.newCondition();
        // all below under lock
        private int round;                                           // the round whose ciphertexts are being collected or combined
        private final Map<String, PaillierCiphertext[]> ciphertexts = new HashMap<>();
        private boolean closed;                                      // the round's aggregate is fixed
        private byte[] aggregate;                                    // the "sum" reply, once closed
        private int summands;
        private int[] decrypted;                                     // the first client's answer
        private int disagreements;
        private final AtomicLong aggregateNanos = new AtomicLong(), bytesReceived = new AtomicLong();

        /**
         * @param key the clients' public key
         * @param quantizer how the clients quantise (clip, levels, the most clients per round)
         * @param parameterCount values in an update (the model's flat weights)
         * @param patience how long the combine waits for a decrypted sum, and a "sum" poll for the round to close
         */
        public Server(PaillierPublicKey key, UpdateQuantizer quantizer, int parameterCount, Duration patience) {
            if (parameterCount < 1) throw new IllegalArgumentException("Paillier aggregation needs at least one parameter, got " + parameterCount);
            if (patience.isNegative() || patience.isZero()) throw new IllegalArgumentException("Paillier aggregation's patience must be positive, got " + patience);
            this.key = key;
            this.quantizer = quantizer;
            this.packing = PaillierPacking.of(key, quantizer);
            this.parameterCount = parameterCount;
            this.patience = patience;
            this.setup = Wire.setupReply(quantizer, key);
        }

        @Override
        public String name() {
            return NAME;
        }

        /** Ciphertexts per update. */
        public int ciphertextsPerUpdate() {
            return packing.ciphertextsFor(parameterCount);
        }

        /** Rounds whose later decrypted sums disagreed with the first one. */
        public int disagreements() {
            lock.lock();
            try {
                return disagreements;
            } finally {
                lock.unlock();
            }
        }

        /** Time spent multiplying ciphertexts, over all rounds. */
        public long aggregateNanos() {
            return aggregateNanos.get();
        }

        /** Payload bytes of the clients' "ciphertexts" messages, over all rounds. */
        public long bytesReceived() {
            return bytesReceived.get();
        }

        @Override
        public byte[] onPhase(int phaseRound, String phase, String clientId, byte[] payload) {
            return switch (phase) {
                case SETUP -> {
                    if (payload.length != 0) throw new IllegalArgumentException("client '" + clientId + "': the " + SETUP + " message must be empty, got " + payload.length + " bytes");
                    yield setup.clone();
                }
                case CIPHERTEXTS -> receive(phaseRound, clientId, payload);
                case SUM -> awaitSum(phaseRound, clientId);
                case DECRYPTED -> acceptDecrypted(phaseRound, clientId, payload);
                default -> throw new IllegalArgumentException("Paillier aggregation has no phase '" + phase + "' (client '" + clientId
                        + "'): use " + SETUP + ", ciphertexts, sum or decrypted");
            };
        }

        private byte[] receive(int phaseRound, String clientId, byte[] payload) {
            // decoding checks every ciphertext is a unit below n^2: done before taking the lock
            PaillierCiphertext[] mine;
            try {
                mine = PaillierPacking.decode(key, payload, ciphertextsPerUpdate());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("ciphertexts of client '" + clientId + "' in round " + phaseRound + ": " + e.getMessage());
            }
            lock.lock();
            try {
                moveTo(phaseRound);
                // a straggler, as SubmitUpdate would tell it: the client takes this status as "too late", not as a fault
                if (closed)
                    throw Status.FAILED_PRECONDITION.withDescription("ciphertexts of client '" + clientId + "' came after round " + phaseRound + " closed").asRuntimeException();
                if (ciphertexts.putIfAbsent(clientId, mine) != null)
                    throw new IllegalArgumentException("client '" + clientId + "' already sent its ciphertexts for round " + phaseRound);
                bytesReceived.addAndGet(payload.length);
                return new byte[0];
            } finally {
                lock.unlock();
            }
        }

        /** Long poll: the round's encrypted sum once it closes. */
        private byte[] awaitSum(int phaseRound, String clientId) {
            lock.lock();
            try {
                long deadline = System.nanoTime() + patience.toNanos();
                while (round < phaseRound || (round == phaseRound && aggregate == null)) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) throw Status.DEADLINE_EXCEEDED.withDescription("round " + phaseRound + " did not close within " + patience).asRuntimeException();
                    changed.awaitNanos(left);
                }
                if (round != phaseRound) throw new IllegalArgumentException("client '" + clientId + "' asked for the sum of round " + phaseRound + " but round " + round + " is being combined");
                return aggregate;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw Status.UNAVAILABLE.withDescription("server is shutting down").asRuntimeException();
            } finally {
                lock.unlock();
            }
        }

        private byte[] acceptDecrypted(int phaseRound, String clientId, byte[] payload) {
            int[] sum = Wire.readInts(payload, parameterCount, "decrypted sum of client '" + clientId + "'");
            lock.lock();
            try {
                if (round != phaseRound || aggregate == null) throw new IllegalArgumentException("client '" + clientId + "' sent a decrypted sum for round " + phaseRound + ", which is not being combined");
                if (decrypted == null) {
                    decrypted = sum;
                    changed.signalAll();
                } else if (!Arrays.equals(decrypted, sum)) {
                    disagreements++;
                    throw new IllegalArgumentException("decrypted sum of client '" + clientId + "' disagrees with the one received first for round " + phaseRound);
                }
                return new byte[0];
            } finally {
                lock.unlock();
            }
        }

        /** Forgets an older round's state when the first message of a later one arrives. */
        private void moveTo(int phaseRound) {
            if (phaseRound < round) throw new IllegalArgumentException("message for round " + phaseRound + " but round " + round + " is under way");
            if (phaseRound > round) {
                round = phaseRound;
                ciphertexts.clear();
                closed = false;
                aggregate = null;
                decrypted = null;
                summands = 0;
            }
        }

        /**
         * Multiplies the ciphertexts of the clients in {@code contributions} (their zero vectors
         * only mark who submitted), publishes the product to the "sum" polls and returns the mean
         * of the decrypted sum over those clients.
         */
        @Override
        public float[] combine(int combineRound, List<String> sampled, List<Contribution> contributions, int length) {
            if (length != parameterCount) throw new IllegalArgumentException("Paillier aggregation was set up for " + parameterCount + " parameters, the model has " + length);
            if (contributions.size() > quantizer.maxSummands())
                throw new IllegalArgumentException(contributions.size() + " clients answered round " + combineRound + " but the quantiser allows sums of at most " + quantizer.maxSummands());
            if (contributions.isEmpty()) throw new IllegalArgumentException("no contributions to combine in round " + combineRound);
            List<PaillierCiphertext[]> parts = new ArrayList<>();
            lock.lock();
            try {
                moveTo(combineRound);
                closed = true; // later ciphertexts are refused: the set is fixed
                for (Contribution c : contributions) {
                    PaillierCiphertext[] cs = ciphertexts.get(c.clientId());
                    // only a client that skipped the ciphertexts phase gets here; its zeros are not an update
                    if (cs == null) return notApplied(combineRound, "client '" + c.clientId() + "' submitted without sending its ciphertexts");
                    parts.add(cs);
                }
            } finally {
                lock.unlock();
            }
            long start = System.nanoTime();
            PaillierCiphertext[] product = parts.getFirst();
            for (int k = 1; k < parts.size(); k++) product = PaillierPacking.add(key, product, parts.get(k));
            aggregateNanos.addAndGet(System.nanoTime() - start);
            byte[] reply = Wire.sumReply(parts.size(), PaillierPacking.encode(key, product));
            int[] sum;
            lock.lock();
            try {
                summands = parts.size();
                aggregate = reply;
                changed.signalAll();
                long deadline = System.nanoTime() + patience.toNanos();
                while (decrypted == null) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) return notApplied(combineRound, "no client returned the decrypted sum within " + patience);
                    changed.awaitNanos(left);
                }
                sum = decrypted;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for the decrypted sum of round " + combineRound, e);
            } finally {
                lock.unlock();
            }
            return quantizer.decodeMean(sum, summands);
        }

        /** A round without a trustworthy sum is not applied: the server keeps its model and runs the next round. */
        private static float[] notApplied(int round, String why) {
            LOG.log(System.Logger.Level.WARNING, "Paillier round " + round + " is not applied (the model stays as it was): " + why);
            return null;
        }
    }

    /**
     * The client's half: holds the key pair, learns the quantiser from the server's setup (and
     * checks the server holds its public key), encrypts its quantised delta, submits zeros, and
     * decrypts the round's sum on a virtual thread. Keeps its costs for reporting.
     */
    public static final class Client implements ClientAggregationScheme {
        private final PaillierKeyPair keys;
        private final String keySource;
        private final SecureRandom random;
        private volatile Grid grid;                                  // null until the server's setup answered
        private final List<Thread> decryptors = new ArrayList<>();
        private final AtomicLong encryptNanos = new AtomicLong(), decryptNanos = new AtomicLong(), bytesSent = new AtomicLong(),
                bytesReceived = new AtomicLong(), decryptions = new AtomicLong();
        private volatile Throwable failure;

        /** The server's quantiser and the packing it implies, fixed by the setup. */
        private record Grid(UpdateQuantizer quantizer, PaillierPacking packing) {}

        /**
         * @param keys the key pair the clients share
         * @param keySource where {@code keys} came from (a file name, say), named when the server's key is another
         * @param random for the encryption's randomness
         */
        public Client(PaillierKeyPair keys, String keySource, SecureRandom random) {
            this.keys = keys;
            this.keySource = keySource;
            this.random = random;
        }

        @Override
        public String name() {
            return NAME;
        }

        /** The server's quantiser, once its setup answered (before: null). */
        public UpdateQuantizer quantizer() {
            Grid g = grid;
            return g == null ? null : g.quantizer();
        }

        /**
         * Sends the encrypted update, starts the wait for the round's sum, and returns zeros for
         * {@code SubmitUpdate}; when the round already closed (a straggler) it only returns the zeros.
         */
        @Override
        public float[] encode(int round, float[] delta, long examples, PhaseChannel channel) {
            Grid g = grid;
            if (g == null) {
                byte[] reply;
                try {
                    reply = channel.exchange(round, SETUP, new byte[0]);
                } catch (StatusRuntimeException e) {
                    // the round closed without us, as below: the zeros' SubmitUpdate is refused as late, and the setup is asked again next round
                    if (e.getStatus().getCode() != Status.Code.FAILED_PRECONDITION) throw e;
                    return new float[delta.length];
                }
                UpdateQuantizer q = learn(reply);
                grid = g = new Grid(q, PaillierPacking.of(keys.publicKey(), q));
            }
            PaillierPacking packing = g.packing();
            long start = System.nanoTime();
            int[] levels = g.quantizer().quantize(delta);
            byte[] payload = PaillierPacking.encode(keys.publicKey(), packing.encrypt(keys.publicKey(), levels, random));
            encryptNanos.addAndGet(System.nanoTime() - start);
            try {
                channel.exchange(round, CIPHERTEXTS, payload);
            } catch (StatusRuntimeException e) {
                if (e.getStatus().getCode() != Status.Code.FAILED_PRECONDITION) throw e;
                // the round closed without us: the zeros' SubmitUpdate is refused too and counted as late by the client
                return new float[delta.length];
            }
            bytesSent.addAndGet(payload.length);
            Thread t = Thread.ofVirtual().name("paillier-sum-" + round).start(() -> decryptSum(round, delta.length, channel, packing));
            synchronized (decryptors) {
                decryptors.add(t);
            }
            return new float[delta.length];
        }

        /** The server's quantiser from its setup reply, after checking the server's key is the public half of ours. */
        UpdateQuantizer learn(byte[] reply) {
            Wire.Setup setup = Wire.readSetup(reply);
            if (!setup.modulus().equals(keys.publicKey().modulus()))
                throw new IllegalArgumentException("the server's Paillier public key (" + setup.modulus().bitLength() + " bits) is not the one in " + keySource
                        + " (" + keys.publicKey().bits() + " bits): the server must hold the public half of this client's key pair");
            return setup.quantizer();
        }

        private void decryptSum(int round, int length, PhaseChannel channel, PaillierPacking packing) {
            try {
                byte[] reply = channel.exchange(round, SUM, new byte[0]);
                bytesReceived.addAndGet(reply.length);
                ByteBuffer in = ByteBuffer.wrap(reply);
                int summands = in.getInt();
                byte[] encoded = Arrays.copyOfRange(reply, 4, reply.length);
                long start = System.nanoTime();
                PaillierCiphertext[] sum = PaillierPacking.decode(keys.publicKey(), encoded, packing.ciphertextsFor(length));
                int[] plain = packing.decryptSum(keys.privateKey(), sum, summands, length);
                decryptNanos.addAndGet(System.nanoTime() - start);
                decryptions.incrementAndGet();
                channel.exchange(round, DECRYPTED, Wire.ints(plain));
            } catch (StatusRuntimeException e) {
                // the round moved on (another client's answer was in time) or the client is closing: nothing is owed
                Status.Code code = e.getStatus().getCode();
                if (code != Status.Code.FAILED_PRECONDITION && code != Status.Code.CANCELLED && code != Status.Code.UNAVAILABLE) failure = e;
            } catch (RuntimeException e) {
                failure = e;
            }
        }

        /** Waits for this client's decryptions to finish; throws what went wrong in one, if anything did. */
        public void awaitDecryptions(Duration timeout) throws InterruptedException {
            List<Thread> ts;
            synchronized (decryptors) {
                ts = List.copyOf(decryptors);
            }
            long deadline = System.nanoTime() + timeout.toNanos();
            for (Thread t : ts) t.join(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
            if (failure != null) throw new IllegalStateException("a Paillier decryption failed: " + failure.getMessage(), failure);
        }

        public long encryptNanos() {
            return encryptNanos.get();
        }

        public long decryptNanos() {
            return decryptNanos.get();
        }

        /** Payload bytes of this client's "ciphertexts" messages (the zeros of SubmitUpdate not counted). */
        public long bytesSent() {
            return bytesSent.get();
        }

        /** Payload bytes of the "sum" replies it received. */
        public long bytesReceived() {
            return bytesReceived.get();
        }

        /** Sums this client decrypted. */
        public long decryptions() {
            return decryptions.get();
        }
    }

    /** The payloads that are not ciphertexts alone, big-endian. */
    static final class Wire {
        private Wire() {}

        /** What a "paillier-setup" reply says. */
        record Setup(UpdateQuantizer quantizer, BigInteger modulus) {}

        /** "paillier-setup" reply: clip (float64), maxSummands (int32), maxLevel (int32), n's length (int32), n's two's-complement bytes. */
        static byte[] setupReply(UpdateQuantizer quantizer, PaillierPublicKey key) {
            byte[] n = key.modulus().toByteArray();
            return ByteBuffer.allocate(8 + 4 + 4 + 4 + n.length).putDouble(quantizer.clip()).putInt(quantizer.maxSummands())
                    .putInt(quantizer.maxLevel()).putInt(n.length).put(n).array();
        }

        static Setup readSetup(byte[] reply) {
            try {
                ByteBuffer in = ByteBuffer.wrap(reply);
                double clip = in.getDouble();
                int maxSummands = in.getInt(), maxLevel = in.getInt(), length = in.getInt();
                if (length < 1 || length != in.remaining())
                    throw new IllegalArgumentException("the server's " + SETUP + " reply says its modulus has " + length + " bytes but " + in.remaining() + " follow");
                byte[] n = new byte[length];
                in.get(n);
                UpdateQuantizer quantizer;
                try {
                    quantizer = new UpdateQuantizer(clip, maxSummands, maxLevel);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("the server's " + SETUP + " reply holds no valid quantiser: " + e.getMessage(), e);
                }
                return new Setup(quantizer, new BigInteger(n));
            } catch (BufferUnderflowException e) {
                throw new IllegalArgumentException("the server's " + SETUP + " reply ends early (" + reply.length + " bytes)");
            }
        }

        /** "sum" reply: the number of updates in the sum (int32), then {@link PaillierPacking#encode}'s bytes. */
        static byte[] sumReply(int summands, byte[] ciphertexts) {
            return ByteBuffer.allocate(4 + ciphertexts.length).putInt(summands).put(ciphertexts).array();
        }

        /** "decrypted" payload: the count (int32), then each sum (int32). */
        static byte[] ints(int[] values) {
            ByteBuffer out = ByteBuffer.allocate(4 + 4 * values.length).putInt(values.length);
            for (int v : values) out.putInt(v);
            return out.array();
        }

        static int[] readInts(byte[] payload, int expected, String what) {
            try {
                ByteBuffer in = ByteBuffer.wrap(payload);
                int count = in.getInt();
                if (count != expected || in.remaining() != 4L * count)
                    throw new IllegalArgumentException(what + " holds " + count + " values in " + in.remaining() + " bytes; expected " + expected);
                int[] out = new int[count];
                for (int i = 0; i < count; i++) out[i] = in.getInt();
                return out;
            } catch (BufferUnderflowException e) {
                throw new IllegalArgumentException(what + " ends early (" + payload.length + " bytes)");
            }
        }
    }
}
