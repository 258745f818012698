package dev.jumbo.federated;

import dev.jumbo.federated.proto.JoinReply;
import dev.jumbo.nn.FlatParameters;
import dev.jumbo.train.Sequential;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;

/**
 * The federated server: owns the global model (its config and flat weights), the round number
 * and the model version (how many aggregations made the weights), and serves the
 * {@code Federation} gRPC service. {@link #run} drives the rounds: sample up to
 * {@code clientsPerRound} of the clients waiting for work, hand them the weights, wait until all
 * answered or the round's deadline passed, then, if at least {@code minClients} answered, combine
 * their deltas through the {@link ServerAggregationScheme} and update the weights with the
 * {@link Aggregator}. Stragglers and dead clients only cost the deadline; a round with too few
 * answers leaves the model as it was.
 *
 * <pre>{@code
 * try (var server = new FederatedServer(model, Aggregator.of("fedavg", 0), new PlainAggregation(), settings)) {
 *     int port = server.start("127.0.0.1", 0);
 *     List<RoundResult> rounds = server.run((result, weights) -> System.out.println(result));
 * }
 * }</pre>
 */
public final class FederatedServer implements AutoCloseable {
    /**
     * How the rounds go. {@code roundTimeout} bounds both the wait for clients to be ready and the
     * wait for their updates; {@code proxMu} is sent to clients (FedProx's mu, 0 otherwise).
     */
    public record Settings(int rounds, int clientsPerRound, int minClients, Duration roundTimeout, int chunkBytes, long seed, double proxMu) {
        public Settings {
            if (rounds < 1) throw new IllegalArgumentException("rounds must be at least 1, got " + rounds);
            if (minClients < 1) throw new IllegalArgumentException("min clients must be at least 1, got " + minClients);
            if (clientsPerRound < minClients)
                throw new IllegalArgumentException("clients per round (" + clientsPerRound + ") must be at least min clients (" + minClients + ")");
            if (roundTimeout.isNegative() || roundTimeout.isZero()) throw new IllegalArgumentException("round timeout must be positive, got " + roundTimeout);
            if (chunkBytes < 1024 || chunkBytes > 3 << 20) throw new IllegalArgumentException("chunk size must be 1 KB to 3 MB, got " + chunkBytes);
            if (!(proxMu >= 0)) throw new IllegalArgumentException("FedProx mu must be >= 0, got " + proxMu);
        }
    }

    /** What happened in one round; {@code applied} is false when fewer than the minimum answered. */
    public record RoundResult(int round, long modelVersion, List<String> sampled, List<String> answered, int rejectedUpdates, boolean applied) {}

    /** Called after each round with the global weights as they now are (do not modify them). */
    public interface RoundListener {
        void roundEnded(RoundResult result, float[] globalWeights);
    }

    private final String modelConfig;
    private final Aggregator aggregator;
    private final ServerAggregationScheme scheme;
    private final Settings settings;
    private final int parameterCount;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    // all below under lock
    private float[] global;
    private long version;
    private int round;
    private boolean open, finished;
    private final Map<String, Long> joined = new LinkedHashMap<>();
    private final Set<String> ready = new LinkedHashSet<>(), missing = new HashSet<>();
    private Set<String> sampled = Set.of();
    private final Map<String, Contribution> received = new LinkedHashMap<>();
    private int rejected;

    private Server grpc;

    public FederatedServer(Sequential model, Aggregator aggregator, ServerAggregationScheme scheme, Settings settings) {
        this.modelConfig = model.configJson();
        this.global = FlatParameters.state(model);
        this.parameterCount = global.length;
        this.aggregator = aggregator;
        this.scheme = scheme;
        this.settings = settings;
    }

    /** Starts serving on {@code host:port} (0: a free port) and returns the port. */
    public int start(String host, int port) throws IOException {
        if (grpc != null) throw new IllegalStateException("server already started");
        grpc = NettyServerBuilder.forAddress(new InetSocketAddress(host, port))
                // a chunk plus its header; anything larger is refused by gRPC itself (RESOURCE_EXHAUSTED)
                .maxInboundMessageSize(settings.chunkBytes() + 64 * 1024)
                .executor(Executors.newVirtualThreadPerTaskExecutor()) // long-polling GetModel calls block cheaply
                .addService(new FederationService(this))
                .build()
                .start();
        return grpc.getPort();
    }

    /** Runs every round (blocking) and returns what happened in each; clients then learn training is over. */
    public List<RoundResult> run(RoundListener listener) throws InterruptedException {
        List<RoundResult> results = new ArrayList<>();
        try {
            for (int r = 1; r <= settings.rounds(); r++) {
                RoundResult result = runRound(r);
                results.add(result);
                listener.roundEnded(result, weights());
            }
        } finally {
            lock.lock();
            try {
                finished = true;
                open = false;
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }
        return results;
    }

    private RoundResult runRound(int r) throws InterruptedException {
        List<String> chosen;
        long deadline;
        lock.lock();
        try {
            long readyBy = System.nanoTime() + settings.roundTimeout().toNanos();
            while (!canStart(r, System.nanoTime() >= readyBy)) changed.await(100, TimeUnit.MILLISECONDS);
            List<String> pool = new ArrayList<>(ready);
            Collections.sort(pool);
            Collections.shuffle(pool, new Random(settings.seed() * 7919L + r));
            chosen = List.copyOf(pool.subList(0, Math.min(settings.clientsPerRound(), pool.size())));
            round = r;
            sampled = Set.copyOf(chosen);
            scheme.roundStarted(r, chosen, parameterCount);
            received.clear();
            rejected = 0;
            open = true;
            changed.signalAll();
            deadline = System.nanoTime() + settings.roundTimeout().toNanos();
            while (received.size() < sampled.size()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) break;
                changed.awaitNanos(left);
            }
            open = false;
        } finally {
            lock.unlock();
        }
        List<Contribution> contributions;
        int rejectedNow;
        lock.lock();
        try {
            contributions = List.copyOf(received.values());
            rejectedNow = rejected;
            for (String id : chosen) if (!received.containsKey(id)) missing.add(id);
        } finally {
            lock.unlock();
        }
        List<String> answered = contributions.stream().map(Contribution::clientId).toList();
        boolean applied = answered.size() >= settings.minClients();
        float[] mean = applied ? scheme.combine(r, chosen, contributions, parameterCount) : null;
        applied = mean != null;
        if (applied) {
            float[] next = weights().clone();
            aggregator.apply(next, mean);
            lock.lock();
            try {
                global = next;
                version++;
            } finally {
                lock.unlock();
            }
        }
        return new RoundResult(r, modelVersion(), chosen, answered, rejectedNow, applied);
    }

    /**
     * Round 1 waits for a full round of clients (or, after the timeout, the minimum); later rounds
     * also start once every client that has not gone missing is waiting, so dead clients cost one
     * deadline, not one per round.
     */
    private boolean canStart(int r, boolean waitedLong) {
        int n = ready.size();
        if (n >= settings.clientsPerRound()) return true;
        if (n < settings.minClients()) return false;
        if (waitedLong) return true;
        if (r == 1) return false;
        for (String id : joined.keySet()) if (!missing.contains(id) && !ready.contains(id)) return false;
        return true;
    }

    /** The current global weights (a snapshot: the array is replaced, never written, after publication). */
    public float[] weights() {
        lock.lock();
        try {
            return global;
        } finally {
            lock.unlock();
        }
    }

    public long modelVersion() {
        lock.lock();
        try {
            return version;
        } finally {
            lock.unlock();
        }
    }

    public int parameterCount() {
        return parameterCount;
    }

    public Settings settings() {
        return settings;
    }

    // ---------------------------------------------------------------- called by FederationService

    JoinReply join(String clientId, long examples) {
        if (clientId.isBlank()) throw Status.INVALID_ARGUMENT.withDescription("client id must not be empty").asRuntimeException();
        if (examples < 1) throw Status.INVALID_ARGUMENT.withDescription("client '" + clientId + "' declares " + examples + " examples; needs at least 1").asRuntimeException();
        lock.lock();
        try {
            joined.put(clientId, examples);
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        return JoinReply.newBuilder().setModelConfig(modelConfig).setParameterCount(parameterCount).setRounds(settings.rounds())
                .setAggregator(aggregator.name()).setProxMu(settings.proxMu()).setScheme(scheme.name()).build();
    }

    /** A round's start for one client: the weights it trains from, or finished. */
    record Assignment(int round, long version, float[] weights, boolean finished) {}

    /**
     * Waits until a round later than {@code afterRound} is open with {@code clientId} sampled, or
     * training is over; null if the call was cancelled meanwhile (the client went away).
     */
    Assignment awaitAssignment(String clientId, int afterRound, BooleanSupplier cancelled) throws InterruptedException {
        lock.lock();
        try {
            if (!joined.containsKey(clientId))
                throw Status.PERMISSION_DENIED.withDescription("client '" + clientId + "' has not joined").asRuntimeException();
            missing.remove(clientId);
            ready.add(clientId);
            changed.signalAll();
            try {
                while (true) {
                    if (finished) return new Assignment(round, version, null, true);
                    if (open && round > afterRound && sampled.contains(clientId)) return new Assignment(round, version, global, false);
                    if (cancelled.getAsBoolean()) return null;
                    changed.await(200, TimeUnit.MILLISECONDS);
                }
            } finally {
                ready.remove(clientId);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Checks an update's header before its data is read; throws the status that refuses it. */
    void checkUpdate(String clientId, int updateRound, long updateVersion, long examples, int count) {
        lock.lock();
        try {
            Status refusal = refusal(clientId, updateRound, updateVersion, examples, count);
            if (refusal != null) {
                if (joined.containsKey(clientId)) rejected++;
                throw refusal.asRuntimeException();
            }
        } finally {
            lock.unlock();
        }
    }

    private Status refusal(String clientId, int updateRound, long updateVersion, long examples, int count) {
        Long declared = joined.get(clientId);
        if (declared == null) return Status.PERMISSION_DENIED.withDescription("client '" + clientId + "' has not joined");
        if (!open) return Status.FAILED_PRECONDITION.withDescription("update for round " + updateRound + " but no round is open (last was " + round + ")");
        if (updateRound != round) return Status.FAILED_PRECONDITION.withDescription("update for round " + updateRound + " but round " + round + " is open");
        if (updateVersion != version)
            return Status.FAILED_PRECONDITION.withDescription("update made from model version " + updateVersion + " but round " + round + " trains version " + version);
        if (!sampled.contains(clientId)) return Status.PERMISSION_DENIED.withDescription("client '" + clientId + "' was not sampled for round " + round);
        if (received.containsKey(clientId)) return Status.ALREADY_EXISTS.withDescription("client '" + clientId + "' already sent its update for round " + round);
        if (count != parameterCount)
            return Status.INVALID_ARGUMENT.withDescription("update has " + count + " parameters but the model has " + parameterCount);
        if (examples != declared)
            return Status.INVALID_ARGUMENT.withDescription("update claims " + examples + " examples but client '" + clientId + "' joined with " + declared);
        return null;
    }

    /** Counts an update refused while its data streamed in (size, NaN) towards the round's rejections. */
    void countRejected() {
        lock.lock();
        try {
            rejected++;
        } finally {
            lock.unlock();
        }
    }

    /** Accepts a complete, checked update into the round; throws the status if the round moved on meanwhile. */
    int accept(String clientId, int updateRound, long updateVersion, long examples, float[] vector) {
        lock.lock();
        try {
            Status refusal = refusal(clientId, updateRound, updateVersion, examples, vector.length);
            if (refusal != null) {
                rejected++;
                throw refusal.asRuntimeException();
            }
            received.put(clientId, new Contribution(clientId, examples, vector));
            changed.signalAll();
            return received.size();
        } finally {
            lock.unlock();
        }
    }

    byte[] phase(int phaseRound, String phase, String clientId, byte[] payload) {
        lock.lock();
        try {
            if (!joined.containsKey(clientId)) throw Status.PERMISSION_DENIED.withDescription("client '" + clientId + "' has not joined").asRuntimeException();
            // a closed round still takes its phases until the next opens: a scheme may need them while combining (Paillier's decryption)
            if (phaseRound != round || round == 0)
                throw Status.FAILED_PRECONDITION.withDescription("phase '" + phase + "' for round " + phaseRound + " but round " + round + (open ? " is open" : " is closed")).asRuntimeException();
            if (!sampled.contains(clientId))
                throw Status.PERMISSION_DENIED.withDescription("client '" + clientId + "' was not sampled for round " + round).asRuntimeException();
        } finally {
            lock.unlock();
        }
        try {
            return scheme.onPhase(phaseRound, phase, clientId, payload);
        } catch (UnsupportedOperationException e) {
            throw Status.UNIMPLEMENTED.withDescription(e.getMessage()).asRuntimeException();
        } catch (IllegalArgumentException e) {
            throw Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException();
        }
    }

    int chunkBytes() {
        return settings.chunkBytes();
    }

    /** Stops serving: open calls are cancelled. */
    @Override
    public void close() throws InterruptedException {
        lock.lock();
        try {
            finished = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        if (grpc != null) {
            grpc.shutdown();
            if (!grpc.awaitTermination(5, TimeUnit.SECONDS)) grpc.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }
}
