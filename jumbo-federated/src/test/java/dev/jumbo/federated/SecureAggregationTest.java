package dev.jumbo.federated;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumbo.data.TensorDataset;
import dev.jumbo.nn.Activation;
import dev.jumbo.nn.Dense;
import dev.jumbo.nn.FlatParameters;
import dev.jumbo.privacy.SecureAggregationMessage;
import dev.jumbo.privacy.SecureAggregationMessage.MaskedInput;
import dev.jumbo.privacy.UpdateQuantizer;
import dev.jumbo.tensor.Shape;
import dev.jumbo.train.Sequential;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/**
 * Secure aggregation over a real {@link FederatedServer} and real {@link FederatedClient}s on
 * 127.0.0.1 (a free port): the server's mean is the clients' true mean, what it receives reveals no
 * client's update, dropped clients are recovered, and too few survivors leave the model as it was.
 */
class SecureAggregationTest {
    private static final double CLIP = 1.0;
    private static final Duration PHASE = Duration.ofSeconds(4);

    private static Sequential model() {
        return new Sequential(Shape.of(6), new Dense(24, Activation.RELU), new Dense(3, Activation.SOFTMAX)); // 243 values
    }

    /** A client dies (throws) right after the server answers this phase in this round. */
    private static final class Crash extends RuntimeException {
        Crash() {
            super("killed by the test");
        }
    }

    /** The client side as the test sees it: records each round's true delta, and can die mid-protocol. */
    private static final class TestClient implements ClientAggregationScheme {
        final ClientAggregationScheme inner;
        final String dieAfter;
        final Map<Integer, float[]> deltas = new ConcurrentHashMap<>();

        TestClient(ClientAggregationScheme inner, String dieAfter) {
            this.inner = inner;
            this.dieAfter = dieAfter;
        }

        @Override
        public String name() {
            return inner.name();
        }

        @Override
        public float[] encode(int round, float[] delta, long examples, PhaseChannel channel) {
            deltas.put(round, delta.clone());
            if (dieAfter == null || round != 1) return inner.encode(round, delta, examples, channel);
            return inner.encode(round, delta, examples, (r, phase, payload) -> {
                byte[] out = channel.exchange(r, phase, payload);
                if (phase.equals(dieAfter)) throw new Crash();
                return out;
            });
        }
    }

    /** The server side with every byte it receives recorded, and what it combined. */
    private static final class RecordingServer extends SecureAggregation {
        record Received(int round, String phase, String clientId, byte[] payload) {}

        final List<Received> received = Collections.synchronizedList(new ArrayList<>());
        final Map<Integer, List<Contribution>> contributions = new ConcurrentHashMap<>();

        RecordingServer() {
            super(CLIP, PHASE);
        }

        @Override
        public byte[] onPhase(int round, String phase, String clientId, byte[] payload) {
            received.add(new Received(round, phase, clientId, payload.clone()));
            return super.onPhase(round, phase, clientId, payload);
        }

        @Override
        public float[] combine(int round, List<String> sampled, List<Contribution> contributions, int length) {
            this.contributions.put(round, List.copyOf(contributions));
            return super.combine(round, sampled, contributions, length);
        }
    }

    private record Run(List<FederatedServer.RoundResult> rounds, float[] finalWeights, double seconds, Set<String> crashed) {}

    /** One federation: client k trains on its own blobs with its own seed; equal sizes, so plain FedAvg is the unweighted mean too. */
    private static Run federate(float[] start, ServerAggregationScheme serverScheme, List<TestClient> schemes, FederatedServer.Settings settings) throws Exception {
        Sequential m = model();
        FlatParameters.loadState(m, start);
        List<FederatedClient> clients = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        Set<String> crashed = ConcurrentHashMap.newKeySet();
        List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
        try (var server = new FederatedServer(m, Aggregator.of("fedavg", 0), serverScheme, settings)) {
            int port = server.start("127.0.0.1", 0);
            for (int k = 0; k < schemes.size(); k++) {
                TensorDataset data = Blobs.make(60, 6, 3, 0.7, 11, 100 + k);
                String id = "c" + k;
                var c = new FederatedClient("127.0.0.1:" + port, id, data, new LocalTraining(1, 16, 0.1, 0, 500 + k), schemes.get(k));
                clients.add(c);
                threads.add(Thread.ofPlatform().name(id).start(() -> {
                    try {
                        c.run();
                    } catch (Crash e) {
                        crashed.add(id);
                        try {
                            c.close(); // the dead client's connection goes too
                        } catch (InterruptedException ignored) {
                            Thread.currentThread().interrupt();
                        }
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }));
            }
            long t0 = System.nanoTime();
            var rounds = server.run((r, w) -> {});
            double seconds = (System.nanoTime() - t0) / 1e9;
            for (Thread t : threads) t.join(60_000);
            assertThat(failures).isEmpty();
            return new Run(rounds, server.weights(), seconds, crashed);
        } finally {
            for (FederatedClient c : clients) c.close();
        }
    }

    private static List<TestClient> clients(int n, ClientAggregationSchemeFactory f, Set<Integer> dying, String dieAfter) {
        List<TestClient> out = new ArrayList<>();
        for (int k = 0; k < n; k++) out.add(new TestClient(f.make(), dying.contains(k) ? dieAfter : null));
        return out;
    }

    private interface ClientAggregationSchemeFactory {
        ClientAggregationScheme make();
    }

    private static float[] mean(List<float[]> vs) {
        float[] m = new float[vs.getFirst().length];
        for (int i = 0; i < m.length; i++) {
            double s = 0;
            for (float[] v : vs) s += v[i];
            m[i] = (float) (s / vs.size());
        }
        return m;
    }

    private static float maxAbs(float[] v) {
        float m = 0;
        for (float x : v) m = Math.max(m, Math.abs(x));
        return m;
    }

    @Test
    void aSecureRoundMovesTheModelAsAPlainRoundDoes() throws Exception {
        float[] start = FlatParameters.state(model());
        var settings = new FederatedServer.Settings(1, 3, 3, Duration.ofSeconds(60), 4096, 9, 0);

        var secureServer = new RecordingServer();
        var secureClients = clients(3, () -> new SecureAggregation(CLIP, PHASE), Set.of(), null);
        Run secure = federate(start, secureServer, secureClients, settings);
        var plainClients = clients(3, PlainAggregation::new, Set.of(), null);
        Run plain = federate(start, new PlainAggregation(), plainClients, settings);

        assertThat(secure.rounds().getFirst().applied()).isTrue();
        List<float[]> deltas = secureClients.stream().map(c -> c.deltas.get(1)).toList();
        for (float[] d : deltas) assertThat(maxAbs(d)).isGreaterThan(1e-3f).isLessThan((float) CLIP); // moved, and nothing clipped
        // the server's mean against the clients' true mean: at most half a grid step per client apart
        var outcome = secureServer.outcome(1);
        assertThat(outcome.failure()).isNull();
        assertThat(outcome.survivors()).containsExactly("c0", "c1", "c2");
        double step = new UpdateQuantizer(CLIP, 3).step();
        float[] truth = mean(deltas);
        for (int i = 0; i < truth.length; i++) assertThat((double) outcome.mean()[i]).isCloseTo(truth[i], org.assertj.core.data.Offset.offset(step / 2 + 1e-7));
        for (int i = 0; i < start.length; i++) assertThat(secure.finalWeights()[i]).isEqualTo(start[i] + outcome.mean()[i]);
        // the same clients, same seeds, plain: the same deltas, and the same model within quantisation error
        for (int k = 0; k < 3; k++) assertThat(plainClients.get(k).deltas.get(1)).containsExactly(deltas.get(k), org.assertj.core.data.Offset.offset(1e-6f));
        for (int i = 0; i < start.length; i++) assertThat(secure.finalWeights()[i]).isCloseTo(plain.finalWeights()[i], org.assertj.core.data.Offset.offset(1e-5f));
        System.out.printf("secure round: %.2f s, plain round: %.2f s (one round, 3 clients, 243 values; busy machine)%n", secure.seconds(), plain.seconds());
    }

    @Test
    void whatTheServerReceivesRevealsNoClientsUpdate() throws Exception {
        float[] start = FlatParameters.state(model());
        var settings = new FederatedServer.Settings(1, 3, 3, Duration.ofSeconds(60), 4096, 9, 0);
        var server = new RecordingServer();
        var clients = clients(3, () -> new SecureAggregation(CLIP, PHASE), Set.of(), null);
        Run run = federate(start, server, clients, settings);
        assertThat(run.rounds().getFirst().applied()).isTrue();

        // the submitted updates are zeros: they only say the client took part
        assertThat(server.contributions.get(1)).hasSize(3);
        for (Contribution c : server.contributions.get(1)) assertThat(maxAbs(c.vector())).isZero();

        int maxLevel = new UpdateQuantizer(CLIP, 3).maxLevel();
        for (int k = 0; k < 3; k++) {
            String id = "c" + k;
            float[] delta = clients.get(k).deltas.get(1);
            int[] q = SecureAggregation.quantize(delta, CLIP, 3);
            List<RecordingServer.Received> mine = server.received.stream().filter(r -> r.clientId().equals(id)).toList();
            assertThat(mine).extracting(RecordingServer.Received::phase)
                    .containsExactly("setup", "ADVERTISE_KEYS", "SHARE_KEYS", "MASKED_INPUT", "UNMASKING");
            byte[] maskedBytes = mine.get(3).payload();
            int[] masked = SecureAggregationMessage.decode(maskedBytes, 1, MaskedInput.class, "test").masked();
            assertThat(masked).hasSameSizeAs(q).isNotEqualTo(q);
            assertThat(Math.abs(correlation(masked, q))).as("correlation of %s's masked input with its update", id).isLessThan(0.3);
            // an unmasked update lies within +-maxLevel; masked values spread over all of int32 (2/3 lie outside)
            long outside = java.util.Arrays.stream(masked).filter(v -> v > maxLevel || v < -maxLevel).count();
            assertThat(outside).isGreaterThan(masked.length / 2);
            // and no message of any phase carries the update: neither its integers nor its floats, in either byte order
            for (RecordingServer.Received r : server.received)
                for (ByteOrder order : new ByteOrder[] {ByteOrder.BIG_ENDIAN, ByteOrder.LITTLE_ENDIAN}) {
                    assertThat(contains(r.payload(), intBytes(q, order))).as("%s's update in %s from %s", id, r.phase(), r.clientId()).isFalse();
                    assertThat(contains(r.payload(), floatBytes(delta, order))).isFalse();
                }
        }
    }

    @Test
    void aClientKilledAfterSharingKeysIsRecoveredAndTheSumIsTheSurvivorsExactly() throws Exception {
        float[] start = FlatParameters.state(model());
        var settings = new FederatedServer.Settings(1, 3, 2, Duration.ofSeconds(12), 4096, 9, 0);
        var server = new RecordingServer();
        var clients = clients(3, () -> new SecureAggregation(CLIP, PHASE), Set.of(1), "SHARE_KEYS");
        Run run = federate(start, server, clients, settings);

        assertThat(run.crashed()).containsExactly("c1");
        var round = run.rounds().getFirst();
        assertThat(round.applied()).isTrue();
        assertThat(round.answered()).containsExactlyInAnyOrder("c0", "c2");
        var outcome = server.outcome(1);
        assertThat(outcome.survivors()).containsExactly("c0", "c2");
        int[] expected = new int[start.length];
        for (int k : new int[] {0, 2}) UpdateQuantizer.addInto(expected, SecureAggregation.quantize(clients.get(k).deltas.get(1), CLIP, 3));
        assertThat(outcome.sum()).containsExactly(expected); // c1's masks all removed, its update not in the sum
        float[] mean = new UpdateQuantizer(CLIP, 3).decodeMean(expected, 2);
        for (int i = 0; i < start.length; i++) assertThat(run.finalWeights()[i]).isEqualTo(start[i] + mean[i]);
        // the dead client had shared its keys: the server holds them but never its masked input
        assertThat(server.received).filteredOn(r -> r.clientId().equals("c1")).extracting(RecordingServer.Received::phase)
                .containsExactly("setup", "ADVERTISE_KEYS", "SHARE_KEYS");
    }

    @Test
    void tooFewSurvivorsLeaveTheModelAsItWasAndTheNextRoundWorks() throws Exception {
        float[] start = FlatParameters.state(model());
        var settings = new FederatedServer.Settings(2, 4, 2, Duration.ofSeconds(12), 4096, 9, 0);
        var server = new RecordingServer();
        // 4 clients: threshold max(2, ceil(8/3)) = 3; two die after sharing keys, two remain
        var clients = clients(4, () -> new SecureAggregation(CLIP, PHASE), Set.of(2, 3), "SHARE_KEYS");
        Run run = federate(start, server, clients, settings);

        assertThat(run.crashed()).containsExactlyInAnyOrder("c2", "c3");
        var first = run.rounds().get(0);
        assertThat(first.answered()).containsExactlyInAnyOrder("c0", "c1"); // enough for the server's minimum ...
        assertThat(first.applied()).isFalse(); // ... but not for the protocol's threshold
        assertThat(first.modelVersion()).isZero();
        assertThat(server.outcome(1).failure()).contains("threshold 3").contains("MASKED_INPUT");
        assertThat(server.outcome(1).mean()).isNull();

        var second = run.rounds().get(1);
        assertThat(second.sampled()).containsExactlyInAnyOrder("c0", "c1");
        assertThat(second.applied()).isTrue();
        assertThat(second.modelVersion()).isEqualTo(1);
        // round 2 trained from the unchanged start: the model is start + the two clients' mean (threshold 2 of 2)
        int[] sum = new int[start.length];
        for (int k = 0; k < 2; k++) UpdateQuantizer.addInto(sum, SecureAggregation.quantize(clients.get(k).deltas.get(2), CLIP, 2));
        assertThat(server.outcome(2).sum()).containsExactly(sum);
        float[] mean = new UpdateQuantizer(CLIP, 2).decodeMean(sum, 2);
        for (int i = 0; i < start.length; i++) assertThat(run.finalWeights()[i]).isEqualTo(start[i] + mean[i]);
    }

    @Test
    void badPhaseMessagesAreRefusedByNameAndALoneClientAbortsTheRound() throws Exception {
        var scheme = new SecureAggregation(CLIP, Duration.ofMillis(300));
        scheme.roundStarted(1, List.of("a", "b"), 5);
        assertThatThrownBy(() -> scheme.onPhase(2, "setup", "a", new byte[0])).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no secure aggregation round 2");
        assertThatThrownBy(() -> scheme.onPhase(1, "HELLO", "a", new byte[0])).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown secure aggregation phase 'HELLO'");
        assertThatThrownBy(() -> scheme.onPhase(1, "MASKED_INPUT", "a", new byte[0])).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("sent phase 'MASKED_INPUT' but round 1 is in phase 'setup'");
        assertThatThrownBy(() -> scheme.onPhase(1, "setup", "z", new byte[0])).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("client 'z' is not in phase 'setup'");
        assertThatThrownBy(() -> scheme.onPhase(1, "setup", "a", new byte[3])).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must be empty, got 3 bytes");
        // b never comes: after the phase timeout a is alone, below the threshold of 2, and is told the round is aborted
        byte[] reply = scheme.onPhase(1, "setup", "a", new byte[0]);
        assertThat(reply[0]).isEqualTo((byte) 1);
        assertThat(new String(reply, 1, reply.length - 1, java.nio.charset.StandardCharsets.UTF_8)).contains("only 1 client(s) took part, fewer than the threshold 2");
        assertThat(scheme.combine(1, List.of("a", "b"), List.of(new Contribution("a", 10, new float[5])), 5)).isNull();
        assertThat(scheme.outcome(1).failure()).contains("phase setup");
        // and the client half, told so, submits zeros rather than its delta
        float[] sent = scheme.encode(1, new float[] {0.5f, -0.25f}, 10, (r, phase, payload) -> reply);
        assertThat(sent).containsExactly(0f, 0f);
        assertThatThrownBy(() -> new SecureAggregation(0, Duration.ofSeconds(1))).hasMessageContaining("clip must be finite and > 0, got 0.0");
        assertThatThrownBy(() -> new SecureAggregation(1, Duration.ZERO)).hasMessageContaining("phase timeout must be positive");
    }

    private static double correlation(int[] a, int[] b) {
        int n = a.length;
        double ma = 0, mb = 0;
        for (int i = 0; i < n; i++) {
            ma += a[i];
            mb += b[i];
        }
        ma /= n;
        mb /= n;
        double sab = 0, saa = 0, sbb = 0;
        for (int i = 0; i < n; i++) {
            sab += (a[i] - ma) * (b[i] - mb);
            saa += (a[i] - ma) * (a[i] - ma);
            sbb += (b[i] - mb) * (b[i] - mb);
        }
        return sab / Math.sqrt(saa * sbb);
    }

    /** The first 16 values of an update as bytes. */
    private static byte[] intBytes(int[] v, ByteOrder order) {
        ByteBuffer b = ByteBuffer.allocate(64).order(order);
        for (int i = 0; i < 16; i++) b.putInt(v[i]);
        return b.array();
    }

    private static byte[] floatBytes(float[] v, ByteOrder order) {
        ByteBuffer b = ByteBuffer.allocate(64).order(order);
        for (int i = 0; i < 16; i++) b.putFloat(v[i]);
        return b.array();
    }

    private static boolean contains(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) if (hay[i + j] != needle[j]) continue outer;
            return true;
        }
        return false;
    }
}
