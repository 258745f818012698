package dev.jumbo.federated;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;

/**
 * Non-IID splits of a labelled dataset among clients, the two of the FedAvg and FedProx papers:
 * label shards (sort by label, cut into {@code clients * shardsPerClient} shards, deal each
 * client {@code shardsPerClient} at random: with 2, most clients see two classes) and
 * Dirichlet (each class's examples divided among clients in proportions drawn from
 * Dir(alpha): small alpha, few classes per client). Each client computes its own part from the
 * labels and the seed, so no data travels.
 *
 * <pre>{@code
 * int[][] parts = Partitions.of("shards:2", labels, 10, 42);   // parts[k]: client k's example indices
 * }</pre>
 */
public final class Partitions {
    private Partitions() {}

    /**
     * By specification: {@code shards:K}, {@code dirichlet:ALPHA} or {@code iid}.
     *
     * @throws IllegalArgumentException naming the specification if it is not one of these
     */
    public static int[][] of(String spec, int[] labels, int clients, long seed) {
        String[] p = spec.split(":", 2);
        try {
            return switch (p[0]) {
                case "shards" -> labelShards(labels, clients, Integer.parseInt(p.length > 1 ? p[1] : "2"), seed);
                case "dirichlet" -> dirichlet(labels, clients, Double.parseDouble(p.length > 1 ? p[1] : "0.5"), seed);
                case "iid" -> iid(labels.length, clients, seed);
                default -> throw new IllegalArgumentException("unknown partition '" + spec + "': use shards:K, dirichlet:ALPHA or iid");
            };
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("partition '" + spec + "' needs a number after ':'", e);
        }
    }

    /** A shuffled split into {@code clients} parts whose sizes differ by at most one. */
    public static int[][] iid(int n, int clients, long seed) {
        checkClients(clients, n);
        int[] order = shuffled(IntStream.range(0, n).toArray(), new Random(seed));
        int[][] out = new int[clients][];
        for (int k = 0; k < clients; k++) out[k] = Arrays.copyOfRange(order, (int) ((long) n * k / clients), (int) ((long) n * (k + 1) / clients));
        return out;
    }

    /**
     * McMahan et al.'s pathological non-IID split: examples ordered by label (ties in index order),
     * cut into {@code clients * shardsPerClient} shards of (nearly) equal size, each client dealt
     * {@code shardsPerClient} shards by a seeded shuffle.
     */
    public static int[][] labelShards(int[] labels, int clients, int shardsPerClient, long seed) {
        if (shardsPerClient < 1) throw new IllegalArgumentException("shards per client must be at least 1, got " + shardsPerClient);
        int n = labels.length, shards = clients * shardsPerClient;
        checkClients(shards, n);
        int[] byLabel = IntStream.range(0, n).boxed().sorted((a, b) -> labels[a] != labels[b] ? Integer.compare(labels[a], labels[b]) : Integer.compare(a, b))
                .mapToInt(Integer::intValue).toArray();
        int[] shardOrder = shuffled(IntStream.range(0, shards).toArray(), new Random(seed));
        int[][] out = new int[clients][];
        for (int k = 0; k < clients; k++) {
            List<Integer> mine = new ArrayList<>();
            for (int j = 0; j < shardsPerClient; j++) {
                int s = shardOrder[k * shardsPerClient + j];
                for (int i = (int) ((long) n * s / shards); i < (int) ((long) n * (s + 1) / shards); i++) mine.add(byLabel[i]);
            }
            out[k] = mine.stream().mapToInt(Integer::intValue).sorted().toArray();
        }
        return out;
    }

    /**
     * Hsu et al.'s split: for each class, proportions over the clients drawn from a symmetric
     * Dirichlet({@code alpha}) and that class's (shuffled) examples cut accordingly.
     */
    public static int[][] dirichlet(int[] labels, int clients, double alpha, long seed) {
        if (!(alpha > 0 && Double.isFinite(alpha))) throw new IllegalArgumentException("Dirichlet alpha must be positive, got " + alpha);
        checkClients(clients, labels.length);
        Random random = new Random(seed);
        int classes = Arrays.stream(labels).max().orElse(-1) + 1;
        List<List<Integer>> parts = new ArrayList<>();
        for (int k = 0; k < clients; k++) parts.add(new ArrayList<>());
        for (int c = 0; c < classes; c++) {
            final int cls = c;
            int[] members = shuffled(IntStream.range(0, labels.length).filter(i -> labels[i] == cls).toArray(), random);
            double[] p = new double[clients];
            double sum = 0;
            for (int k = 0; k < clients; k++) sum += p[k] = gamma(alpha, random);
            if (sum == 0) p[random.nextInt(clients)] = sum = 1; // every draw underflowed: one client takes the class
            double cumulative = 0;
            int from = 0;
            for (int k = 0; k < clients; k++) {
                cumulative += p[k] / sum;
                int to = k == clients - 1 ? members.length : (int) Math.round(cumulative * members.length);
                for (int i = from; i < Math.max(from, to); i++) parts.get(k).add(members[i]);
                from = Math.max(from, to);
            }
        }
        int[][] out = new int[clients][];
        for (int k = 0; k < clients; k++) out[k] = parts.get(k).stream().mapToInt(Integer::intValue).sorted().toArray();
        return out;
    }

    /** Marsaglia and Tsang's Gamma(shape, 1) sampler; shapes below 1 through the boost U^(1/shape). */
    static double gamma(double shape, Random random) {
        if (shape < 1) return gamma(shape + 1, random) * Math.pow(random.nextDouble(), 1 / shape);
        double d = shape - 1.0 / 3, c = 1 / Math.sqrt(9 * d);
        while (true) {
            double x, v;
            do {
                x = random.nextGaussian();
                v = 1 + c * x;
            } while (v <= 0);
            v = v * v * v;
            double u = random.nextDouble();
            if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
        }
    }

    private static int[] shuffled(int[] a, Random random) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1), t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
        return a;
    }

    private static void checkClients(int parts, int n) {
        if (parts < 1) throw new IllegalArgumentException("need at least one client (or shard), got " + parts);
        if (parts > n) throw new IllegalArgumentException("cannot split " + n + " examples into " + parts + " non-empty parts");
    }
}
