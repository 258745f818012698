package dev.jumbo.federated;

import dev.jumbo.data.TensorDataset;
import dev.jumbo.train.Sequential;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A server and {@code clients} clients in one process, talking real gRPC over 127.0.0.1 (a free
 * port): each client takes its part of the training data by index and seed, as separate
 * processes would. With {@code kill > 0}, that many of the clients sampled in round
 * {@code killRound} die after receiving the weights, so that round completes with the others
 * once its deadline passes (if at least the minimum answered).
 *
 * <pre>{@code
 * var eval = new GlobalEvaluation(copy, data.test(), System.out::println);
 * FederatedSimulation.run(model, data.train(), Aggregator.of("fedavg", 0), settings,
 *         new FederatedSimulation.Setup(10, "shards:2", 42, new LocalTraining(1, 32, 0.05, 0.9, 42), 0, 0), eval);
 * }</pre>
 */
public final class FederatedSimulation {
    /** The clients' side of a simulation. */
    public record Setup(int clients, String partition, long seed, LocalTraining training, int kill, int killRound) {
        public Setup {
            if (clients < 1) throw new IllegalArgumentException("need at least one client, got " + clients);
            if (kill < 0 || kill > clients) throw new IllegalArgumentException("--kill must be between 0 and the number of clients (" + clients + "), got " + kill);
        }
    }

    /** What ran: each round's results, and the clients that were killed. */
    public record Outcome(List<FederatedServer.RoundResult> rounds, List<String> killed, float[] finalWeights) {}

    private FederatedSimulation() {}

    /**
     * How updates are combined: the server's half, and a client's half for each client index (a
     * scheme with per-client state, such as secure aggregation's keys, gives each client its own).
     */
    public record Schemes(ServerAggregationScheme server, java.util.function.IntFunction<ClientAggregationScheme> client) {
        /** Deltas in the clear, averaged by examples. */
        public static Schemes plain() {
            PlainAggregation plain = new PlainAggregation();
            return new Schemes(plain, k -> plain);
        }
    }

    /** {@link #run(Sequential, TensorDataset, Aggregator, FederatedServer.Settings, Setup, Schemes, FederatedServer.RoundListener)} in the clear. */
    public static Outcome run(Sequential model, TensorDataset train, Aggregator aggregator, FederatedServer.Settings settings, Setup setup,
                              FederatedServer.RoundListener listener) throws Exception {
        return run(model, train, aggregator, settings, setup, Schemes.plain(), listener);
    }

    public static Outcome run(Sequential model, TensorDataset train, Aggregator aggregator, FederatedServer.Settings settings, Setup setup,
                              Schemes schemes, FederatedServer.RoundListener listener) throws Exception {
        int[] labels = labels(train);
        int[][] parts = Partitions.of(setup.partition(), labels, setup.clients(), setup.seed());
        ServerAggregationScheme scheme = schemes.server();
        AtomicInteger killBudget = new AtomicInteger(setup.kill());
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<FederatedClient> clients = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        try (var server = new FederatedServer(model, aggregator, scheme, settings)) {
            int port = server.start("127.0.0.1", 0);
            for (int k = 0; k < setup.clients(); k++) {
                TensorDataset mine = subset(train, parts[k]);
                LocalTraining t = setup.training().withSeed(setup.seed() * 131 + k);
                FederatedClient c = new FederatedClient("127.0.0.1:" + port, "client-" + k, mine, t, schemes.client().apply(k), settings.chunkBytes())
                        .crashWhen(r -> r == setup.killRound() && killBudget.getAndUpdate(b -> Math.max(0, b - 1)) > 0);
                clients.add(c);
                Thread th = Thread.ofPlatform().name("client-" + k).start(() -> {
                    try {
                        c.run();
                    } catch (Throwable e) {
                        // said at once: the server otherwise waits out the round's deadline before anyone hears of it
                        System.err.println(Thread.currentThread().getName() + " failed: " + e.getMessage());
                        failure.compareAndSet(null, e);
                    }
                });
                threads.add(th);
            }
            List<FederatedServer.RoundResult> rounds = server.run(listener);
            for (Thread th : threads) th.join(60_000);
            if (failure.get() != null) throw new IllegalStateException("a client failed: " + failure.get().getMessage(), failure.get());
            List<String> killed = new ArrayList<>();
            for (int k = 0; k < clients.size(); k++) if (clients.get(k).killed()) killed.add("client-" + k);
            return new Outcome(rounds, killed, server.weights());
        } finally {
            for (FederatedClient c : clients) c.close();
        }
    }

    /** Class indices of a dataset whose targets are one label per example. */
    public static int[] labels(TensorDataset data) {
        float[] y = data.y().toFloatArray();
        if (y.length != data.size()) throw new IllegalArgumentException("partitioning needs one integer label per example; targets have shape " + data.y().shape());
        int[] out = new int[y.length];
        for (int i = 0; i < y.length; i++) out[i] = (int) y[i];
        return out;
    }

    /** The examples at {@code indices}, copied. */
    public static TensorDataset subset(TensorDataset data, int[] indices) {
        return new TensorDataset(data.x().rows(indices), data.y().rows(indices));
    }
}
