package dev.jumbo.federated;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.google.protobuf.ByteString;
import dev.jumbo.federated.proto.FederationGrpc;
import dev.jumbo.federated.proto.JoinReply;
import dev.jumbo.federated.proto.JoinRequest;
import dev.jumbo.federated.proto.ModelChunk;
import dev.jumbo.federated.proto.ModelRequest;
import dev.jumbo.federated.proto.PhaseMessage;
import dev.jumbo.federated.proto.UpdateHeader;
import dev.jumbo.nn.Activation;
import dev.jumbo.nn.Dense;
import dev.jumbo.nn.FlatParameters;
import dev.jumbo.tensor.Shape;
import dev.jumbo.train.Sequential;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

/** A real server on 127.0.0.1 (a free port) and real client stubs: every malformed update refused with its status. */
class FederatedServerTest {
    private static Sequential tinyModel() {
        return new Sequential(Shape.of(4), new Dense(3, Activation.SOFTMAX)); // 15 values
    }

    private static float[] random(int n, long seed) {
        Random r = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (0.1 * r.nextGaussian());
        return v;
    }

    private static void refused(ThrowingCallable call, Status.Code code, String message) {
        assertThatThrownBy(call).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(code);
            assertThat(e.getStatus().getDescription()).contains(message);
        });
    }

    /** Receives a round's weights the way a client does. */
    private static float[] weights(Iterator<ModelChunk> chunks, int count) {
        var a = new FloatChunks.Assembly(count);
        while (chunks.hasNext()) assertThat(a.add(chunks.next().getData())).isNull();
        return a.finish();
    }

    @Test
    void refusesEveryMalformedUpdateAndTheRoundCompletesWithTheValidOnes() throws Exception {
        Sequential model = tinyModel();
        float[] initial = FlatParameters.state(model);
        int n = initial.length;
        var settings = new FederatedServer.Settings(1, 2, 2, Duration.ofSeconds(60), 1024, 5, 0);
        // own threads: the common pool may have a single thread on two cores, which the blocking calls would take
        try (var server = new FederatedServer(model, Aggregator.of("fedavg", 0), new PlainAggregation(), settings);
             var threads = Executors.newVirtualThreadPerTaskExecutor()) {
            int port = server.start("127.0.0.1", 0);
            ManagedChannel channel = NettyChannelBuilder.forTarget("127.0.0.1:" + port).usePlaintext().build();
            try {
                var blocking = FederationGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
                var async = FederationGrpc.newStub(channel);
                JoinReply join = blocking.join(JoinRequest.newBuilder().setClientId("a").setNumExamples(100).build());
                assertThat(join.getParameterCount()).isEqualTo(n);
                assertThat(Sequential.fromConfig(join.getModelConfig(), null).configJson()).isEqualTo(model.configJson());
                blocking.join(JoinRequest.newBuilder().setClientId("c").setNumExamples(300).build());
                blocking.join(JoinRequest.newBuilder().setClientId("b").setNumExamples(50).build()); // joins, never asks for work
                refused(() -> blocking.join(JoinRequest.newBuilder().setClientId("z").setNumExamples(0).build()), Status.Code.INVALID_ARGUMENT, "0 examples");

                var run = CompletableFuture.supplyAsync(() -> {
                    try {
                        return server.run((r, w) -> {});
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                }, threads);
                // a and c wait for work: round 1 samples both (2 per round), b is never sampled
                var modelA = CompletableFuture.supplyAsync(() -> blocking.getModel(ModelRequest.newBuilder().setClientId("a").build()), threads);
                var modelC = CompletableFuture.supplyAsync(() -> blocking.getModel(ModelRequest.newBuilder().setClientId("c").build()), threads);
                Iterator<ModelChunk> chunksA = modelA.get(60, TimeUnit.SECONDS);
                ModelChunk first = chunksA.next();
                assertThat(first.getHeader().getRound()).isEqualTo(1);
                assertThat(first.getHeader().getModelVersion()).isZero();
                var rest = new ArrayList<ModelChunk>();
                rest.add(first);
                chunksA.forEachRemaining(rest::add);
                assertThat(rest).hasSize(FloatChunks.chunkCount(n, 1024));
                assertThat(weights(rest.iterator(), n)).containsExactly(initial);
                assertThat(weights(modelC.get(60, TimeUnit.SECONDS), n)).containsExactly(initial);

                float[] good = random(n, 1);
                UpdateHeader a = UpdateHeader.newBuilder().setClientId("a").setRound(1).setModelVersion(0).setNumExamples(100).setParameterCount(n).build();
                List<ByteString> goodChunks = FloatChunks.split(good, 1024);

                refused(() -> FederatedClient.submitChunks(async, a.toBuilder().setClientId("nobody").build(), goodChunks), Status.Code.PERMISSION_DENIED, "has not joined");
                refused(() -> FederatedClient.submitChunks(async, a.toBuilder().setClientId("b").setNumExamples(50).build(), goodChunks), Status.Code.PERMISSION_DENIED, "not sampled for round 1");
                refused(() -> FederatedClient.submitChunks(async, a.toBuilder().setRound(2).build(), goodChunks), Status.Code.FAILED_PRECONDITION, "round 1 is open");
                refused(() -> FederatedClient.submitChunks(async, a.toBuilder().setModelVersion(3).build(), goodChunks), Status.Code.FAILED_PRECONDITION, "model version 3");
                refused(() -> FederatedClient.submitChunks(async, a.toBuilder().setParameterCount(n - 1).build(), FloatChunks.split(random(n - 1, 2), 1024)),
                        Status.Code.INVALID_ARGUMENT, "has " + (n - 1) + " parameters");
                refused(() -> FederatedClient.submitChunks(async, a.toBuilder().setNumExamples(1_000_000).build(), goodChunks), Status.Code.INVALID_ARGUMENT, "1000000 examples");
                refused(() -> FederatedClient.submitChunks(async, a, FloatChunks.split(random(n - 2, 3), 1024)), Status.Code.INVALID_ARGUMENT, "wrong size");
                refused(() -> FederatedClient.submitChunks(async, a, FloatChunks.split(random(n + 1, 4), 1024)), Status.Code.INVALID_ARGUMENT, "oversized");
                List<ByteString> extraChunk = new ArrayList<>(goodChunks);
                extraChunk.add(FloatChunks.split(new float[] {1}, 1024).getFirst());
                refused(() -> FederatedClient.submitChunks(async, a, extraChunk), Status.Code.INVALID_ARGUMENT, "oversized");
                refused(() -> FederatedClient.submitChunks(async, null, goodChunks), Status.Code.INVALID_ARGUMENT, "header");
                for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
                    float[] v = good.clone();
                    v[7] = bad;
                    refused(() -> FederatedClient.submitChunks(async, a, FloatChunks.split(v, 1024)), Status.Code.INVALID_ARGUMENT, bad + " at index 7");
                }
                // one message larger than the server's limit is refused by gRPC itself
                UpdateHeader huge = a.toBuilder().setParameterCount(1 << 20).build();
                refused(() -> FederatedClient.submitChunks(async, huge, List.of(ByteString.copyFrom(new byte[1 << 20]))), Status.Code.RESOURCE_EXHAUSTED, "");
                refused(() -> blocking.exchange(PhaseMessage.newBuilder().setRound(1).setPhase("keys").setClientId("a").build()), Status.Code.UNIMPLEMENTED, "no phases");

                assertThat(FederatedClient.submitChunks(async, a, goodChunks).getReceived()).isEqualTo(1);
                refused(() -> FederatedClient.submitChunks(async, a, goodChunks), Status.Code.ALREADY_EXISTS, "already sent");
                float[] fromC = random(n, 9);
                UpdateHeader c = a.toBuilder().setClientId("c").setNumExamples(300).build();
                assertThat(FederatedClient.submitChunks(async, c, FloatChunks.split(fromC, 1024)).getReceived()).isEqualTo(2);

                var results = run.get(60, TimeUnit.SECONDS);
                assertThat(results).hasSize(1);
                assertThat(results.getFirst().answered()).containsExactlyInAnyOrder("a", "c");
                assertThat(results.getFirst().applied()).isTrue();
                assertThat(results.getFirst().rejectedUpdates()).isGreaterThanOrEqualTo(10);
                // only the two valid updates entered: w = w0 + (100 a + 300 c) / 400
                float[] after = server.weights();
                for (int i = 0; i < n; i++) assertThat(after[i]).isCloseTo(initial[i] + (100 * good[i] + 300 * fromC[i]) / 400, within(1e-6f));
                assertThat(server.modelVersion()).isEqualTo(1);
                // a closed round refuses late updates; a waiting client learns training is over
                refused(() -> FederatedClient.submitChunks(async, c, FloatChunks.split(fromC, 1024)), Status.Code.FAILED_PRECONDITION, "no round is open");
                ModelChunk done = blocking.getModel(ModelRequest.newBuilder().setClientId("b").setAfterRound(1).build()).next();
                assertThat(done.getHeader().getFinished()).isTrue();
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void weightsLargerThanOneMessageTravelInChunks() throws Exception {
        // 1.6 M floats = 6.4 MB: over gRPC's 4 MB default message limit, so only chunks get it through
        Sequential big = new Sequential(Shape.of(1600), new Dense(1000));
        var settings = new FederatedServer.Settings(1, 1, 1, Duration.ofSeconds(120), FloatChunks.DEFAULT_CHUNK_BYTES, 1, 0);
        try (var server = new FederatedServer(big, Aggregator.of("fedavg", 0), new PlainAggregation(), settings);
             var threads = Executors.newVirtualThreadPerTaskExecutor()) {
            int port = server.start("127.0.0.1", 0);
            ManagedChannel channel = NettyChannelBuilder.forTarget("127.0.0.1:" + port).usePlaintext().build();
            try {
                var blocking = FederationGrpc.newBlockingStub(channel);
                int n = blocking.join(JoinRequest.newBuilder().setClientId("only").setNumExamples(10).build()).getParameterCount();
                assertThat((long) n * 4).isGreaterThan(4L << 20);
                var run = CompletableFuture.runAsync(() -> {
                    try {
                        server.run((r, w) -> {});
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                }, threads);
                float[] w = weights(blocking.getModel(ModelRequest.newBuilder().setClientId("only").build()), n);
                assertThat(java.util.Arrays.equals(w, FlatParameters.state(big))).isTrue(); // containsExactly is quadratic on 1.6 M values
                float[] delta = random(n, 5);
                UpdateHeader h = UpdateHeader.newBuilder().setClientId("only").setRound(1).setModelVersion(0).setNumExamples(10).setParameterCount(n).build();
                FederatedClient.submitChunks(FederationGrpc.newStub(channel), h, FloatChunks.split(delta, FloatChunks.DEFAULT_CHUNK_BYTES));
                run.get(120, TimeUnit.SECONDS);
                float[] after = server.weights();
                for (int i = 0; i < n; i += 997) assertThat(after[i]).isEqualTo(w[i] + delta[i]);
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }
}
