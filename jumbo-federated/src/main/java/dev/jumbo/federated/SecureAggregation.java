package dev.jumbo.federated;

import dev.jumbo.privacy.SecureAggregationClient;
import dev.jumbo.privacy.SecureAggregationConfig;
import dev.jumbo.privacy.SecureAggregationException;
import dev.jumbo.privacy.SecureAggregationPhase;
import dev.jumbo.privacy.SecureAggregationServer;
import dev.jumbo.privacy.UpdateQuantizer;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Secure aggregation (Bonawitz et al. 2017, as {@link SecureAggregationServer} implements it) as a
 * federated aggregation scheme: the server learns the sum of the clients' quantised deltas and
 * never one delta in the clear. Both halves in one class, as {@link PlainAggregation}; the server
 * and each client use their own instance.
 *
 * <p>A round runs five phases over the {@code Exchange} rpc, each a long poll: the server records a
 * client's message and holds the call until the phase closes for the round (every client still in
 * it answered, or {@code phaseTimeout} passed: the ones missing then count as dropped), then
 * answers with what opens the next phase. {@code setup} (an empty message) fixes who takes part,
 * gives each an integer id and the round's parameters (threshold, clip, grid); then the four
 * phases of {@link SecureAggregationPhase}, the masked input travelling in the
 * {@code MASKED_INPUT} message. Keys are fresh every round (a new {@link SecureAggregationClient}).
 * Clients that drop after sharing their keys are recovered by the protocol; when fewer than the
 * threshold remain at any phase, the round yields no sum and {@link #combine} returns null, so the
 * server keeps its previous model and says so (a warning, and {@link #outcome}).
 *
 * <p>The update the client then submits is all zeros of the delta's length: {@code SubmitUpdate}
 * still announces that the client took part (the server counts answers against its minimum), but
 * carries nothing about the delta.
 *
 * <p>Choices, and why:
 * <ul>
 * <li>threshold t = max(2, ceil(2n/3)) of the n clients in {@code setup} (the core config has no
 *     default): above half, so the server cannot unmask two halves separately, and a third may drop;
 * <li>the delta is clipped to {@code [-clip, clip]} per coordinate and quantised on the finest grid
 *     for n summands ({@link UpdateQuantizer}), so the sum of up to n never wraps;
 * <li>the mean gives every survivor equal weight: weighting by examples would need each client to
 *     scale its own update by its size (revealing it, and stretching the quantisation range by the
 *     largest size), so FedAvg here is the unweighted mean of the survivors' deltas.
 * </ul>
 * The class is not final so that an audit (or a test) can subclass the server half and record every
 * byte it receives. {@code phaseTimeout} must leave room in the server's round timeout for all five phases plus
 * training and submission, or the round closes before its sum exists (and is then not applied).
 *
 * <pre>{@code
 * var server = new FederatedServer(model, Aggregator.of("fedavg", 0), new SecureAggregation(1.0, Duration.ofSeconds(5)), settings);
 * var client = new FederatedClient(target, "alice", data, training, new SecureAggregation(1.0, Duration.ofSeconds(5)));
 * }</pre>
 */
public class SecureAggregation implements ServerAggregationScheme, ClientAggregationScheme {
    public static final String NAME = "secure";
    /** The phase before the protocol's four: who takes part, and with which ids and parameters. */
    public static final String SETUP = "setup";

    private static final System.Logger LOG = System.getLogger(SecureAggregation.class.getName());
    private static final byte OK = 0, ABORTED = 1;

    /**
     * What a round came to on the server: the survivors (whose deltas are in the sum), the sum
     * mod 2^32 and its decoded mean, or why there is none ({@code failure}, with null sum and mean).
     */
    public record Outcome(int round, List<String> survivors, int[] sum, float[] mean, String failure) {}

    private final double clip;
    private final Duration phaseTimeout;
    private final SecureRandom random = new SecureRandom();
    private volatile RoundState current;
    private final Map<Integer, Outcome> outcomes = new ConcurrentHashMap<>();

    /**
     * @param clip the largest magnitude a delta coordinate keeps (the server's value is the one used)
     * @param phaseTimeout how long the server holds a phase open for clients that have not answered
     */
    public SecureAggregation(double clip, Duration phaseTimeout) {
        if (!(clip > 0) || Double.isInfinite(clip)) throw new IllegalArgumentException("secure aggregation clip must be finite and > 0, got " + clip);
        if (phaseTimeout.isNegative() || phaseTimeout.isZero()) throw new IllegalArgumentException("secure aggregation phase timeout must be positive, got " + phaseTimeout);
        this.clip = clip;
        this.phaseTimeout = phaseTimeout;
    }

    @Override
    public String name() {
        return NAME;
    }

    /** What round {@code round} came to on this server, or null if it never reached {@link #combine}. */
    public Outcome outcome(int round) {
        return outcomes.get(round);
    }

    // ---------------------------------------------------------------- server half

    @Override
    public void roundStarted(int round, List<String> sampled, int length) {
        RoundState previous = current;
        if (previous != null) previous.abort("round " + previous.round + " is over");
        current = new RoundState(round, sampled, length);
    }

    @Override
    public byte[] onPhase(int round, String phase, String clientId, byte[] payload) {
        RoundState s = current;
        if (s == null || s.round != round) throw new IllegalArgumentException("no secure aggregation round " + round + " is running (phase '" + phase + "' from client '" + clientId + "')");
        try {
            return s.exchange(phase, clientId, payload);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while holding phase '" + phase + "' of round " + round, e);
        }
    }

    @Override
    public float[] combine(int round, List<String> sampled, List<Contribution> contributions, int length) {
        RoundState s = current;
        Outcome o = s != null && s.round == round ? s.finish(length) : new Outcome(round, List.of(), null, null, "the round's secure aggregation never started");
        outcomes.put(round, o);
        if (o.failure() != null) LOG.log(System.Logger.Level.WARNING, "secure aggregation round " + round + " is not applied (the model stays as it was): " + o.failure());
        return o.mean();
    }

    /** One round on the server: its phases, who is in each, and the replies waiting for them. */
    private final class RoundState {
        final int round;
        final int length;
        final ReentrantLock lock = new ReentrantLock();
        final Condition closed = lock.newCondition();
        // under lock
        Set<String> expected;
        int step; // 0: setup, 1..4: the protocol's phases, 5: done
        long deadline; // 0 until the setup's first message starts its clock
        final Set<String> answered = new LinkedHashSet<>();
        final Map<String, byte[]> replies = new HashMap<>();
        final Map<String, Integer> ids = new TreeMap<>();
        SecureAggregationServer server;
        UpdateQuantizer quantizer;
        String failure;

        RoundState(int round, List<String> sampled, int length) {
            this.round = round;
            this.length = length;
            this.expected = new LinkedHashSet<>(sampled);
        }

        byte[] exchange(String phase, String clientId, byte[] payload) throws InterruptedException {
            lock.lock();
            try {
                int mine = stepOf(phase);
                if (failure != null) return aborted(failure);
                if (mine != step)
                    throw new IllegalArgumentException("client '" + clientId + "' sent phase '" + phase + "' but round " + round + " is in phase '" + stepName(step) + "'");
                if (!expected.contains(clientId))
                    throw new IllegalArgumentException("client '" + clientId + "' is not in phase '" + phase + "' of round " + round + " (not sampled, or dropped earlier)");
                if (answered.contains(clientId)) throw new IllegalArgumentException("client '" + clientId + "' already sent phase '" + phase + "' of round " + round);
                if (mine == 0) {
                    if (payload.length != 0) throw new IllegalArgumentException("client '" + clientId + "': the setup message must be empty, got " + payload.length + " bytes");
                    if (deadline == 0) deadline = System.nanoTime() + phaseTimeout.toNanos();
                } else {
                    try {
                        server.accept(ids.get(clientId), payload);
                    } catch (SecureAggregationException e) {
                        throw new IllegalArgumentException("client '" + clientId + "', round " + round + ": " + e.getMessage());
                    }
                }
                answered.add(clientId);
                if (answered.equals(expected)) close();
                while (step == mine && failure == null) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) close();
                    else closed.awaitNanos(left);
                }
                if (failure != null) return aborted(failure);
                return replies.get(clientId);
            } finally {
                lock.unlock();
            }
        }

        /** Ends the current phase with the clients that answered it and prepares each one's reply. */
        private void close() {
            expected = new LinkedHashSet<>(answered);
            answered.clear();
            replies.clear();
            try {
                if (step == 0) openRound();
                else closeProtocolPhase();
                step++;
                deadline = System.nanoTime() + phaseTimeout.toNanos();
            } catch (SecureAggregationException e) {
                failure = e.getMessage(); // names the round, the phase and the count
            }
            closed.signalAll();
        }

        private void openRound() {
            int n = expected.size();
            int threshold = Math.max(2, (n * 2 + 2) / 3);
            if (n < threshold)
                throw new SecureAggregationException("round " + round + ", phase " + SETUP + ": only " + n + " client(s) took part, fewer than the threshold " + threshold + "; no sum is produced");
            quantizer = new UpdateQuantizer(clip, n);
            server = new SecureAggregationServer(new SecureAggregationConfig(round, threshold, length));
            for (String c : expected.stream().sorted().toList()) ids.put(c, ids.size());
            for (String c : expected) {
                ByteBuffer b = ByteBuffer.allocate(1 + 4 * 4 + 8).put(OK).putInt(ids.get(c)).putInt(threshold).putInt(n).putInt(length).putDouble(clip);
                replies.put(c, b.array());
            }
        }

        private void closeProtocolPhase() {
            server.closePhase();
            for (String c : expected) {
                byte[] next = step < 4 ? server.messageFor(ids.get(c)) : new byte[0];
                replies.put(c, ByteBuffer.allocate(1 + next.length).put(OK).put(next).array());
            }
        }

        void abort(String why) {
            lock.lock();
            try {
                if (failure == null && step < 5) failure = why;
                closed.signalAll();
            } finally {
                lock.unlock();
            }
        }

        Outcome finish(int vectorLength) {
            lock.lock();
            try {
                if (failure == null && step < 5) failure = "the round's deadline passed in phase '" + stepName(step) + "'";
                closed.signalAll();
                if (failure != null) return new Outcome(round, List.of(), null, null, failure);
                if (vectorLength != length) return new Outcome(round, List.of(), null, null, "the sum has " + length + " values, the model " + vectorLength);
                int[] sum = server.sum();
                int[] survivorIds = server.survivors();
                List<String> survivors = new ArrayList<>();
                for (var e : ids.entrySet()) if (Arrays.binarySearch(survivorIds, e.getValue()) >= 0) survivors.add(e.getKey());
                return new Outcome(round, List.copyOf(survivors), sum, quantizer.decodeMean(sum, survivorIds.length), null);
            } finally {
                lock.unlock();
            }
        }
    }

    private static int stepOf(String phase) {
        if (phase.equals(SETUP)) return 0;
        for (SecureAggregationPhase p : SecureAggregationPhase.values()) if (p.name().equals(phase)) return p.ordinal() + 1;
        throw new IllegalArgumentException("unknown secure aggregation phase '" + phase + "': expected " + SETUP + " or one of " + Arrays.toString(SecureAggregationPhase.values()));
    }

    private static String stepName(int step) {
        return step == 0 ? SETUP : step <= 4 ? SecureAggregationPhase.values()[step - 1].name() : "done";
    }

    private static byte[] aborted(String why) {
        byte[] text = why.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(1 + text.length).put(ABORTED).put(text).array();
    }

    // ---------------------------------------------------------------- client half

    /**
     * Runs the round's phases and returns zeros of the delta's length: the delta itself only ever
     * leaves masked. If the server aborts the round (too few clients), the client submits the
     * zeros all the same and the server does not apply the round.
     */
    @Override
    public float[] encode(int round, float[] delta, long examples, PhaseChannel channel) {
        float[] nothing = new float[delta.length];
        ByteBuffer setup = reply(channel.exchange(round, SETUP, new byte[0]));
        if (setup == null) return nothing;
        int id = setup.getInt(), threshold = setup.getInt(), clients = setup.getInt(), length = setup.getInt();
        double serverClip = setup.getDouble();
        if (length != delta.length)
            throw new IllegalStateException("secure aggregation round " + round + " sums vectors of " + length + " values but this client's delta has " + delta.length);
        int[] quantised = quantize(delta, serverClip, clients);
        var client = new SecureAggregationClient(id, new SecureAggregationConfig(round, threshold, length), quantised, random);
        byte[] opening = new byte[0];
        for (SecureAggregationPhase phase : SecureAggregationPhase.values()) {
            ByteBuffer next = reply(channel.exchange(round, phase.name(), client.respond(phase, opening)));
            if (next == null) return nothing;
            opening = new byte[next.remaining()];
            next.get(opening);
        }
        return nothing;
    }

    /** The integers this client masks and sends for {@code delta} in a round of {@code clients} (for tests and audits). */
    public static int[] quantize(float[] delta, double clip, int clients) {
        return new UpdateQuantizer(clip, clients).quantize(delta);
    }

    /** The body of an OK reply, or null if the server aborted the round. */
    private static ByteBuffer reply(byte[] bytes) {
        if (bytes.length == 0) throw new IllegalStateException("empty reply from the server in a secure aggregation phase");
        if (bytes[0] == ABORTED) {
            LOG.log(System.Logger.Level.WARNING, "the server aborted the secure aggregation round: " + new String(bytes, 1, bytes.length - 1, StandardCharsets.UTF_8));
            return null;
        }
        if (bytes[0] != OK) throw new IllegalStateException("unknown reply status " + bytes[0] + " in a secure aggregation phase");
        return ByteBuffer.wrap(bytes, 1, bytes.length - 1).slice();
    }
}
