package dev.jumbo.federated;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumbo.data.TensorDataset;
import dev.jumbo.nn.Activation;
import dev.jumbo.nn.Dense;
import dev.jumbo.nn.FlatParameters;
import dev.jumbo.privacy.PaillierCiphertext;
import dev.jumbo.privacy.PaillierKeyPair;
import dev.jumbo.privacy.PaillierPacking;
import dev.jumbo.privacy.PaillierPrivateKey;
import dev.jumbo.privacy.UpdateQuantizer;
import dev.jumbo.tensor.Shape;
import dev.jumbo.train.Sequential;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.lang.reflect.Field;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntPredicate;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A real FederatedServer and real FederatedClients over gRPC on 127.0.0.1 (a free port), with
 * Paillier aggregation between them; what the server's scheme receives is recorded by a wrapper
 * around it, what each client trained by a wrapper around its scheme.
 */
class PaillierAggregationTest {
    private static final int DIMS = 32, CLASSES = 8;
    // 32*64 + 64 + 64*8 + 8 = 2,632 values
    private static final UpdateQuantizer QUANTIZER = new UpdateQuantizer(1.0, 4, (1 << 15) - 1);
    private static PaillierKeyPair keys1024;

    @BeforeAll
    static void keys() {
        keys1024 = PaillierKeyPair.generate(1024, new SecureRandom());
    }

    private static Sequential model() {
        return new Sequential(Shape.of(DIMS), new Dense(64, Activation.RELU), new Dense(CLASSES, Activation.SOFTMAX));
    }

    /** The server scheme as the FederatedServer sees it, every input kept. */
    private static final class RecordingServer implements ServerAggregationScheme {
        record Message(int round, String phase, String clientId, byte[] payload) {}

        final PaillierAggregation.Server inner;
        final List<Message> messages = Collections.synchronizedList(new ArrayList<>());
        final List<Contribution> contributions = Collections.synchronizedList(new ArrayList<>());

        RecordingServer(PaillierAggregation.Server inner) {
            this.inner = inner;
        }

        @Override
        public String name() {
            return inner.name();
        }

        @Override
        public byte[] onPhase(int round, String phase, String clientId, byte[] payload) {
            messages.add(new Message(round, phase, clientId, payload.clone()));
            return inner.onPhase(round, phase, clientId, payload);
        }

        @Override
        public float[] combine(int round, List<String> sampled, List<Contribution> contributions, int length) {
            this.contributions.addAll(contributions);
            return inner.combine(round, sampled, contributions, length);
        }

        List<Message> of(String phase) {
            synchronized (messages) {
                return messages.stream().filter(m -> m.phase().equals(phase)).toList();
            }
        }
    }

    /** A client's scheme that keeps the delta it was asked to encode, per round. */
    private static final class RecordingClient implements ClientAggregationScheme {
        final PaillierAggregation.Client inner;
        final Map<Integer, float[]> deltas = Collections.synchronizedMap(new LinkedHashMap<>());

        RecordingClient(PaillierAggregation.Client inner) {
            this.inner = inner;
        }

        @Override
        public String name() {
            return inner.name();
        }

        @Override
        public float[] encode(int round, float[] delta, long examples, PhaseChannel channel) {
            deltas.put(round, delta.clone());
            return inner.encode(round, delta, examples, channel);
        }
    }

    private record Run(float[] initial, List<float[]> weightsAfter, List<FederatedServer.RoundResult> rounds, RecordingServer server, List<RecordingClient> clients,
                       long wallNanos) {}

    /** Trains {@code rounds} rounds with {@code clients} clients, all sampled; client k crashes in the rounds {@code crash.test(k * 1000 + round)} holds for. */
    private static Run federate(PaillierKeyPair keys, int clients, int rounds, int minClients, Duration timeout, IntPredicate crash) throws Exception {
        Sequential model = model();
        float[] initial = FlatParameters.state(model);
        var serverScheme = new RecordingServer(new PaillierAggregation.Server(keys.publicKey(), QUANTIZER, initial.length, Duration.ofSeconds(60)));
        var settings = new FederatedServer.Settings(rounds, clients, minClients, timeout, 1 << 20, 3, 0);
        List<RecordingClient> schemes = new ArrayList<>();
        List<FederatedClient> running = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<float[]> after = new ArrayList<>();
        try (var server = new FederatedServer(model, Aggregator.of("fedavg", 0), serverScheme, settings)) {
            int port = server.start("127.0.0.1", 0);
            for (int k = 0; k < clients; k++) {
                TensorDataset data = Blobs.make(48, DIMS, CLASSES, 0.5, 11, 100 + k);
                var scheme = new RecordingClient(new PaillierAggregation.Client(keys, "the test's key pair", new SecureRandom()));
                schemes.add(scheme);
                int id = k;
                FederatedClient c = new FederatedClient("127.0.0.1:" + port, "client-" + k, data, new LocalTraining(1, 16, 0.05, 0.0, 7 + k), scheme)
                        .crashWhen(r -> crash.test(id * 1000 + r));
                running.add(c);
                threads.add(Thread.ofPlatform().name("client-" + k).start(() -> {
                    try {
                        c.run();
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                }));
            }
            long start = System.nanoTime();
            List<FederatedServer.RoundResult> results = server.run((r, w) -> after.add(w.clone()));
            long wall = System.nanoTime() - start;
            for (Thread t : threads) t.join(60_000);
            for (RecordingClient s : schemes) s.inner.awaitDecryptions(Duration.ofSeconds(60));
            if (failure.get() != null) throw new AssertionError("a client failed", failure.get());
            return new Run(initial, after, results, serverScheme, schemes, wall);
        } finally {
            for (FederatedClient c : running) c.close();
        }
    }

    private static int[] readInts(byte[] payload) {
        ByteBuffer in = ByteBuffer.wrap(payload);
        int[] out = new int[in.getInt()];
        for (int i = 0; i < out.length; i++) out[i] = in.getInt();
        return out;
    }

    /** Sum of the quantised deltas the given clients encoded in {@code round}, added in plain ints. */
    private static int[] plainSum(List<RecordingClient> clients, int round) {
        int[] sum = null;
        for (RecordingClient c : clients) {
            float[] d = c.deltas.get(round);
            if (d == null) continue;
            int[] q = QUANTIZER.quantize(d);
            if (sum == null) sum = new int[q.length];
            UpdateQuantizer.addInto(sum, q);
        }
        return sum;
    }

    @Test
    void theEncryptedSumDecryptsToThePlainSumOfTheQuantisedUpdatesAndTheMeanIsApplied() throws Exception {
        Run run = federate(keys1024, 3, 1, 3, Duration.ofSeconds(60), x -> false);
        FederatedServer.RoundResult r = run.rounds().getFirst();
        assertThat(r.applied()).isTrue();
        assertThat(r.answered()).hasSize(3);

        int[] expected = plainSum(run.clients(), 1);
        List<RecordingServer.Message> decrypted = run.server().of(PaillierAggregation.DECRYPTED);
        assertThat(decrypted).isNotEmpty();
        // the first answer is the one used; every client that answered agreed with it exactly
        for (RecordingServer.Message m : decrypted) assertThat(readInts(m.payload())).containsExactly(expected);
        assertThat(run.server().inner.disagreements()).isZero();
        long decryptions = run.clients().stream().mapToLong(c -> c.inner.decryptions()).sum();
        assertThat(decryptions).isEqualTo(3);
        // each client asked the setup once and quantised on the server's grid
        assertThat(run.server().of(PaillierAggregation.SETUP)).hasSize(3);
        for (RecordingClient c : run.clients()) assertThat(c.inner.quantizer()).isEqualTo(QUANTIZER);

        // applied mean = new weights - old, against the plain mean of the deltas
        float[] w = run.weightsAfter().getFirst();
        float[] exactMean = QUANTIZER.decodeMean(expected, 3);
        double step = QUANTIZER.step(), worst = 0, moved = 0;
        for (int i = 0; i < w.length; i++) {
            double applied = (double) w[i] - run.initial()[i];
            assertThat(applied).as("value %d", i).isCloseTo(exactMean[i], org.assertj.core.data.Offset.offset(1e-6));
            double plainMean = 0;
            for (RecordingClient c : run.clients()) {
                float d = c.deltas.get(1)[i];
                assertThat((double) Math.abs(d)).as("delta below the clip at %d", i).isLessThan(QUANTIZER.clip());
                plainMean += d / 3.0;
            }
            worst = Math.max(worst, Math.abs(applied - plainMean));
            moved = Math.max(moved, Math.abs(plainMean));
        }
        // each of the 3 roundings is within step/2, so their mean is too; plus float rounding of w
        assertThat(worst).isLessThanOrEqualTo(step / 2 + 1e-6);
        assertThat(moved).as("the clients actually trained").isGreaterThan(100 * step);
    }

    @Test
    void theServerReceivesOnlyCiphertextsAndHoldsNoPrivateKey() throws Exception {
        for (Field f : PaillierAggregation.Server.class.getDeclaredFields()) {
            assertThat(f.getType()).as("field %s", f.getName()).isNotIn(PaillierPrivateKey.class, PaillierKeyPair.class, BigInteger.class);
        }
        Run run = federate(keys1024, 3, 1, 3, Duration.ofSeconds(60), x -> false);
        // what SubmitUpdate carried: zeros only
        assertThat(run.server().contributions).hasSize(3);
        for (Contribution c : run.server().contributions) {
            assertThat(c.vector()).hasSize(run.initial().length);
            for (float v : c.vector()) assertThat(v).isZero();
        }
        List<RecordingServer.Message> sent = run.server().of(PaillierAggregation.CIPHERTEXTS);
        assertThat(sent).hasSize(3);
        var packing = PaillierPacking.of(keys1024.publicKey(), QUANTIZER);
        PaillierKeyPair other = PaillierKeyPair.generate(1024, new SecureRandom());
        int count = run.server().inner.ciphertextsPerUpdate();
        assertThat(count).isEqualTo(packing.ciphertextsFor(run.initial().length));
        for (RecordingServer.Message m : sent) {
            int k = Integer.parseInt(m.clientId().substring("client-".length()));
            int[] levels = QUANTIZER.quantize(run.clients().get(k).deltas.get(1));
            BigInteger[] plain = packing.pack(levels);
            PaillierCiphertext[] cs = PaillierPacking.decode(keys1024.publicKey(), m.payload(), count);
            // the plaintexts written the way ciphertexts are: not what went over the wire
            PaillierCiphertext[] asIfPlain = Arrays.stream(plain).map(PaillierCiphertext::new).toArray(PaillierCiphertext[]::new);
            assertThat(m.payload()).isNotEqualTo(PaillierPacking.encode(keys1024.publicKey(), asIfPlain));
            var plainSet = new HashSet<>(Arrays.asList(plain));
            for (PaillierCiphertext c : cs) assertThat(plainSet).doesNotContain(c.value());
            // with the clients' key they are this client's update, with another key they are not
            assertThat(packing.decryptSum(keys1024.privateKey(), cs, 1, levels.length)).containsExactly(levels);
            int[] wrong;
            try {
                wrong = packing.decryptSum(other.privateKey(), cs, 1, levels.length);
            } catch (IllegalArgumentException refused) {
                wrong = null; // not a unit under the other key, or slots out of range
            }
            if (wrong != null) assertThat(wrong).isNotEqualTo(levels);
        }
        // besides: the setup and sum requests (empty) and the decrypted sum, which the server is meant to learn
        for (RecordingServer.Message m : run.server().messages) {
            assertThat(m.phase()).isIn(PaillierAggregation.SETUP, PaillierAggregation.CIPHERTEXTS, PaillierAggregation.SUM, PaillierAggregation.DECRYPTED);
            if (m.phase().equals(PaillierAggregation.SUM) || m.phase().equals(PaillierAggregation.SETUP)) assertThat(m.payload()).isEmpty();
        }
    }

    @Test
    void aStragglerWhoseRoundClosedSubmitsZerosAndWaitsForNoSum() throws Exception {
        var server = new PaillierAggregation.Server(keys1024.publicKey(), QUANTIZER, 200, Duration.ofSeconds(5));
        var client = new PaillierAggregation.Client(keys1024, "k.json", new SecureRandom());
        List<String> phases = new ArrayList<>();
        float[] delta = new float[200];
        Arrays.fill(delta, 0.25f);
        // the round closed before even the setup was answered: zeros, and the setup is asked again next time
        float[] early = client.encode(2, delta, 10, (round, phase, payload) -> {
            phases.add(phase);
            throw Status.FAILED_PRECONDITION.withDescription("phase '" + phase + "' for round 2 but round 3 is open").asRuntimeException();
        });
        assertThat(early).hasSize(200).containsOnly(0f);
        assertThat(client.quantizer()).isNull();
        float[] out = client.encode(3, delta, 10, (round, phase, payload) -> {
            phases.add(phase);
            if (phase.equals(PaillierAggregation.SETUP)) return server.onPhase(round, phase, "x", payload);
            throw Status.FAILED_PRECONDITION.withDescription("ciphertexts of client 'x' came after round 3 closed").asRuntimeException();
        });
        assertThat(out).hasSize(200).containsOnly(0f);
        // no sum poll started
        assertThat(phases).containsExactly(PaillierAggregation.SETUP, PaillierAggregation.SETUP, PaillierAggregation.CIPHERTEXTS);
        assertThat(client.quantizer()).isEqualTo(QUANTIZER);
        assertThat(client.bytesSent()).isZero();
        client.awaitDecryptions(Duration.ofSeconds(5));
        // any other refusal is a fault and reaches the caller
        assertThatThrownBy(() -> client.encode(3, delta, 10, (round, phase, payload) -> {
            throw Status.INVALID_ARGUMENT.withDescription("bad ciphertexts").asRuntimeException();
        })).isInstanceOf(StatusRuntimeException.class).hasMessageContaining("bad ciphertexts");
        assertThatThrownBy(() -> new PaillierAggregation.Client(keys1024, "k.json", new SecureRandom()).encode(1, delta, 10, (round, phase, payload) -> {
            throw Status.INVALID_ARGUMENT.withDescription("no such phase").asRuntimeException();
        })).isInstanceOf(StatusRuntimeException.class).hasMessageContaining("no such phase");
    }

    @Test
    void aClientLearnsTheServersQuantiserAndRefusesAnotherKey() {
        PaillierKeyPair other = PaillierKeyPair.generate(512, new SecureRandom());
        Random r = new Random();
        // a fresh quantiser each run: the client must take every field from the reply, not a default
        var quantizer = new UpdateQuantizer(0.01 + r.nextDouble(), 1 + r.nextInt(50), 1 + r.nextInt(1 << 12));
        var server = new PaillierAggregation.Server(keys1024.publicKey(), quantizer, 10, Duration.ofSeconds(5));
        byte[] reply = server.onPhase(1, PaillierAggregation.SETUP, "client-0", new byte[0]);
        assertThat(new PaillierAggregation.Client(keys1024, "k.json", new SecureRandom()).learn(reply)).isEqualTo(quantizer);
        // any round, any client: the same answer
        assertThat(server.onPhase(7, PaillierAggregation.SETUP, "client-9", new byte[0])).isEqualTo(reply);
        assertThatThrownBy(() -> new PaillierAggregation.Client(other, "other.json", new SecureRandom()).learn(reply))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not the one in other.json").hasMessageContaining("512 bits");
        var client = new PaillierAggregation.Client(keys1024, "k.json", new SecureRandom());
        assertThatThrownBy(() -> client.learn(Arrays.copyOf(reply, reply.length - 1))).hasMessageContaining("modulus has");
        assertThatThrownBy(() -> client.learn(Arrays.copyOf(reply, reply.length + 1))).hasMessageContaining("modulus has");
        assertThatThrownBy(() -> client.learn(new byte[6])).hasMessageContaining("ends early");
        assertThatThrownBy(() -> client.learn(new byte[0])).hasMessageContaining("ends early");
        byte[] noClip = reply.clone();
        ByteBuffer.wrap(noClip).putDouble(0, Double.NaN);
        assertThatThrownBy(() -> client.learn(noClip)).hasMessageContaining("no valid quantiser").hasMessageContaining("clip");
        assertThatThrownBy(() -> server.onPhase(1, PaillierAggregation.SETUP, "client-0", new byte[1]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must be empty");
    }

    @Test
    void aClientWhoseKeyPairIsNotTheServersIsRefusedOverGrpc() throws Exception {
        PaillierKeyPair other = PaillierKeyPair.generate(1024, new SecureRandom());
        Sequential model = model();
        float[] initial = FlatParameters.state(model);
        var serverScheme = new RecordingServer(new PaillierAggregation.Server(keys1024.publicKey(), QUANTIZER, initial.length, Duration.ofSeconds(30)));
        // two sampled, one enough: the round goes on with the client that holds the right pair
        var settings = new FederatedServer.Settings(1, 2, 1, Duration.ofSeconds(6), 1 << 20, 3, 0);
        var right = new RecordingClient(new PaillierAggregation.Client(keys1024, "right.json", new SecureRandom()));
        var wrong = new RecordingClient(new PaillierAggregation.Client(other, "wrong.json", new SecureRandom()));
        List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
        AtomicReference<Throwable> wrongFailure = new AtomicReference<>();
        List<FederatedClient> running = new ArrayList<>();
        try (var server = new FederatedServer(model, Aggregator.of("fedavg", 0), serverScheme, settings)) {
            int port = server.start("127.0.0.1", 0);
            List<Thread> threads = new ArrayList<>();
            for (RecordingClient scheme : List.of(right, wrong)) {
                String id = scheme == right ? "right" : "wrong";
                var c = new FederatedClient("127.0.0.1:" + port, id, Blobs.make(48, DIMS, CLASSES, 0.5, 11, scheme == right ? 100 : 101), new LocalTraining(1, 16, 0.05, 0.0, 7), scheme);
                running.add(c);
                threads.add(Thread.ofPlatform().name(id).start(() -> {
                    try {
                        c.run();
                    } catch (Throwable e) {
                        if (scheme == wrong) wrongFailure.set(e);
                        else failures.add(e);
                    }
                }));
            }
            List<FederatedServer.RoundResult> results = server.run((r, w) -> {});
            for (Thread t : threads) t.join(60_000);
            right.inner.awaitDecryptions(Duration.ofSeconds(30));
            assertThat(failures).isEmpty();
            assertThat(wrongFailure.get()).as("the client with another key pair stops").isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("the server's Paillier public key (1024 bits) is not the one in wrong.json")
                    .hasMessageContaining("public half of this client's key pair");
            // it asked the setup and sent nothing else; the round went on with the right client alone
            assertThat(serverScheme.messages.stream().filter(m -> m.clientId().equals("wrong")).map(RecordingServer.Message::phase).toList())
                    .containsExactly(PaillierAggregation.SETUP);
            assertThat(wrong.inner.quantizer()).isNull();
            assertThat(wrong.inner.bytesSent()).isZero();
            FederatedServer.RoundResult r = results.getFirst();
            assertThat(r.sampled()).containsExactlyInAnyOrder("right", "wrong");
            assertThat(r.answered()).containsExactly("right");
            assertThat(r.applied()).isTrue();
            int[] expected = QUANTIZER.quantize(right.deltas.get(1));
            assertThat(readInts(serverScheme.of(PaillierAggregation.DECRYPTED).getFirst().payload())).containsExactly(expected);
        } finally {
            for (FederatedClient c : running) c.close();
        }
    }

    @Test
    void takesTheFirstDecryptedSumAndRefusesOneThatDisagrees() throws Exception {
        var server = new PaillierAggregation.Server(keys1024.publicKey(), QUANTIZER, 300, Duration.ofSeconds(30));
        var packing = PaillierPacking.of(keys1024.publicKey(), QUANTIZER);
        Random r = new Random(2);
        int[][] updates = new int[3][300];
        int[] sum = new int[300];
        for (int k = 0; k < 3; k++) {
            for (int i = 0; i < 300; i++) updates[k][i] = r.nextInt(2 * QUANTIZER.maxLevel() + 1) - QUANTIZER.maxLevel();
            UpdateQuantizer.addInto(sum, updates[k]);
            server.onPhase(4, PaillierAggregation.CIPHERTEXTS, "c" + k, PaillierPacking.encode(keys1024.publicKey(), packing.encrypt(keys1024.publicKey(), updates[k], new SecureRandom())));
        }
        // own threads: the common pool may have a single thread on two cores, and both calls block
        var threads = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor();
        var poll = java.util.concurrent.CompletableFuture.supplyAsync(() -> server.onPhase(4, PaillierAggregation.SUM, "c0", new byte[0]), threads);
        var combined = java.util.concurrent.CompletableFuture.supplyAsync(() -> server.combine(4, List.of("c0", "c1", "c2"),
                List.of(new Contribution("c0", 1, new float[300]), new Contribution("c2", 1, new float[300])), 300), threads); // c1 did not submit
        byte[] reply = poll.get(30, java.util.concurrent.TimeUnit.SECONDS);
        ByteBuffer in = ByteBuffer.wrap(reply);
        int summands = in.getInt();
        assertThat(summands).isEqualTo(2);
        PaillierCiphertext[] cs = PaillierPacking.decode(keys1024.publicKey(), Arrays.copyOfRange(reply, 4, reply.length), packing.ciphertextsFor(300));
        int[] decrypted = packing.decryptSum(keys1024.privateKey(), cs, summands, 300);
        int[] expected = updates[0].clone();
        UpdateQuantizer.addInto(expected, updates[2]);
        assertThat(decrypted).containsExactly(expected);
        server.onPhase(4, PaillierAggregation.DECRYPTED, "c0", PaillierAggregation.Wire.ints(decrypted));
        assertThat(combined.get(30, java.util.concurrent.TimeUnit.SECONDS)).containsExactly(QUANTIZER.decodeMean(expected, 2));
        server.onPhase(4, PaillierAggregation.DECRYPTED, "c2", PaillierAggregation.Wire.ints(decrypted)); // agrees
        int[] lie = decrypted.clone();
        lie[17]++;
        assertThatThrownBy(() -> server.onPhase(4, PaillierAggregation.DECRYPTED, "c2", PaillierAggregation.Wire.ints(lie))).hasMessageContaining("disagrees");
        assertThat(server.disagreements()).isEqualTo(1);
        threads.close();
    }

    @Test
    void aClientThatDropsBeforeSubmittingLeavesTheRoundToTheOthers() throws Exception {
        // client 2 dies after receiving round 1's weights, before encrypting anything
        Run run = federate(keys1024, 3, 2, 2, Duration.ofSeconds(8), x -> x == 2 * 1000 + 1);
        FederatedServer.RoundResult r1 = run.rounds().get(0), r2 = run.rounds().get(1);
        assertThat(r1.sampled()).hasSize(3);
        assertThat(r1.answered()).containsExactlyInAnyOrder("client-0", "client-1");
        assertThat(r1.applied()).isTrue();
        assertThat(r2.answered()).containsExactlyInAnyOrder("client-0", "client-1");
        assertThat(r2.applied()).isTrue();
        assertThat(run.clients().get(2).deltas).isEmpty();
        for (int round = 1; round <= 2; round++) {
            int rr = round;
            int[] expected = plainSum(run.clients().subList(0, 2), round);
            RecordingServer.Message first = run.server().of(PaillierAggregation.DECRYPTED).stream().filter(m -> m.round() == rr).findFirst().orElseThrow();
            assertThat(readInts(first.payload())).containsExactly(expected);
            float[] before = round == 1 ? run.initial() : run.weightsAfter().get(0), w = run.weightsAfter().get(round - 1);
            float[] mean = QUANTIZER.decodeMean(expected, 2);
            for (int i = 0; i < w.length; i++) assertThat((double) w[i] - before[i]).isCloseTo(mean[i], org.assertj.core.data.Offset.offset(1e-6));
        }
    }

    @Test
    void twoThousandFortyEightBitKeysSumExactly() throws Exception {
        PaillierKeyPair keys = PaillierKeyPair.generate(2048, new SecureRandom());
        Run run = federate(keys, 2, 1, 2, Duration.ofSeconds(120), x -> false);
        assertThat(run.rounds().getFirst().applied()).isTrue();
        int[] expected = plainSum(run.clients(), 1);
        for (RecordingServer.Message m : run.server().of(PaillierAggregation.DECRYPTED)) assertThat(readInts(m.payload())).containsExactly(expected);
        var packing = PaillierPacking.of(keys.publicKey(), QUANTIZER);
        int n = run.initial().length, cts = packing.ciphertextsFor(n);
        for (RecordingClient c : run.clients()) assertThat(c.inner.bytesSent()).isEqualTo(4L + (long) cts * keys.publicKey().ciphertextBytes());
        // costs, for the report (a busy shared machine: indicative only)
        System.out.printf("paillier 2048: %d values, %d slots of %d bits, %d ciphertexts; per client: encrypt %.1f ms, decrypt %.1f ms, sent %d B (+%d B of zeros in SubmitUpdate), sum received %d B;"
                        + " server aggregate %.2f ms; round wall %.0f ms%n",
                n, packing.slots(), packing.slotBits(), cts,
                run.clients().stream().mapToLong(c -> c.inner.encryptNanos()).average().orElse(0) / 1e6,
                run.clients().stream().filter(c -> c.inner.decryptions() > 0).mapToLong(c -> c.inner.decryptNanos()).average().orElse(0) / 1e6,
                run.clients().getFirst().inner.bytesSent(), 4L * n, run.clients().getFirst().inner.bytesReceived(),
                run.server().inner.aggregateNanos() / 1e6, run.wallNanos() / 1e6);
    }

    @Test
    void refusesMalformedAndLateMessages() {
        var server = new PaillierAggregation.Server(keys1024.publicKey(), QUANTIZER, 100, Duration.ofSeconds(1));
        var packing = PaillierPacking.of(keys1024.publicKey(), QUANTIZER);
        Random r = new Random(1);
        int[] levels = new int[100];
        for (int i = 0; i < levels.length; i++) levels[i] = r.nextInt(2001) - 1000;
        byte[] good = PaillierPacking.encode(keys1024.publicKey(), packing.encrypt(keys1024.publicKey(), levels, new SecureRandom()));
        assertThatThrownBy(() -> server.onPhase(1, "keys", "a", new byte[0])).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no phase 'keys'");
        assertThatThrownBy(() -> server.onPhase(1, PaillierAggregation.CIPHERTEXTS, "a", Arrays.copyOf(good, good.length - 1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("client 'a'");
        server.onPhase(1, PaillierAggregation.CIPHERTEXTS, "a", good);
        assertThatThrownBy(() -> server.onPhase(1, PaillierAggregation.CIPHERTEXTS, "a", good)).hasMessageContaining("already sent");
        assertThatThrownBy(() -> server.onPhase(1, PaillierAggregation.DECRYPTED, "a", PaillierAggregation.Wire.ints(levels)))
                .hasMessageContaining("not being combined");
        // nobody decrypts: the combine gives up after its patience and the round is not applied (null), the server lives on
        assertThat(server.combine(1, List.of("a"), List.of(new Contribution("a", 10, new float[100])), 100)).isNull();
        assertThatThrownBy(() -> server.onPhase(1, PaillierAggregation.CIPHERTEXTS, "b", good)).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
            assertThat(e.getStatus().getDescription()).contains("after round 1 closed");
        });
        assertThatThrownBy(() -> server.onPhase(1, PaillierAggregation.DECRYPTED, "a", PaillierAggregation.Wire.ints(new int[99])))
                .hasMessageContaining("holds 99 values");
        // a client that submitted without its ciphertexts: no sum can be trusted, the round is not applied
        assertThat(server.combine(2, List.of("b"), List.of(new Contribution("b", 10, new float[100])), 100)).isNull();
    }
}
