package dev.jumbo.federated;

import com.google.protobuf.ByteString;
import dev.jumbo.data.TensorDataset;
import dev.jumbo.federated.proto.FederationGrpc;
import dev.jumbo.federated.proto.JoinReply;
import dev.jumbo.federated.proto.JoinRequest;
import dev.jumbo.federated.proto.ModelChunk;
import dev.jumbo.federated.proto.ModelRequest;
import dev.jumbo.federated.proto.PhaseMessage;
import dev.jumbo.federated.proto.RoundHeader;
import dev.jumbo.federated.proto.UpdateAck;
import dev.jumbo.federated.proto.UpdateChunk;
import dev.jumbo.federated.proto.UpdateHeader;
import dev.jumbo.io.FormatException;
import dev.jumbo.nn.FlatParameters;
import dev.jumbo.train.Sequential;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.IntPredicate;

/**
 * A federated client: joins the server with its example count, then for each round it is
 * sampled in receives the global weights, trains on its own data ({@link LocalTraining}) and
 * submits its delta (local minus global weights), encoded by its {@link ClientAggregationScheme},
 * in chunks. Its data never leaves it.
 *
 * <pre>{@code
 * try (var client = new FederatedClient("127.0.0.1:7070", "client-3", myData, new LocalTraining(1, 32, 0.05, 0.9, 3), new PlainAggregation())) {
 *     int rounds = client.run();   // returns when the server says training is over
 * }
 * }</pre>
 */
public final class FederatedClient implements AutoCloseable {
    private final ManagedChannel channel;
    private final FederationGrpc.FederationBlockingStub blocking;
    private final FederationGrpc.FederationStub async;
    private final String id;
    private final TensorDataset data;
    private final LocalTraining training;
    private final ClientAggregationScheme scheme;
    private final int chunkBytes;
    private IntPredicate crashInRound = r -> false;
    private volatile boolean killed;
    private volatile int late;

    public FederatedClient(String target, String id, TensorDataset data, LocalTraining training, ClientAggregationScheme scheme) {
        this(target, id, data, training, scheme, FloatChunks.DEFAULT_CHUNK_BYTES);
    }

    public FederatedClient(String target, String id, TensorDataset data, LocalTraining training, ClientAggregationScheme scheme, int chunkBytes) {
        this.channel = NettyChannelBuilder.forTarget(target).usePlaintext().maxInboundMessageSize(chunkBytes + 64 * 1024).build();
        this.blocking = FederationGrpc.newBlockingStub(channel);
        this.async = FederationGrpc.newStub(channel);
        this.id = id;
        this.data = data;
        this.training = training;
        this.scheme = scheme;
        this.chunkBytes = chunkBytes;
    }

    /**
     * For simulations: the client dies (drops its connection without answering) after receiving
     * the weights of a round for which {@code crash} holds, as a crashed device would mid-round.
     */
    public FederatedClient crashWhen(IntPredicate crash) {
        this.crashInRound = crash;
        return this;
    }

    /** Whether the client died through {@link #crashWhen}. */
    public boolean killed() {
        return killed;
    }

    /** Rounds whose update arrived after the round had closed (and so was refused). */
    public int lateUpdates() {
        return late;
    }

    /** Joins and trains until the server finishes; returns how many rounds this client trained. */
    public int run() throws FormatException {
        // waits for a server that is still starting (a minute at most) rather than failing at once
        JoinReply join = blocking.withWaitForReady().withDeadlineAfter(60, TimeUnit.SECONDS).join(JoinRequest.newBuilder().setClientId(id).setNumExamples(data.size()).build());
        if (!join.getScheme().equals(scheme.name()))
            throw new IllegalStateException("server aggregates with scheme '" + join.getScheme() + "' but this client speaks '" + scheme.name() + "'");
        Sequential model = Sequential.fromConfig(join.getModelConfig(), Path.of("join reply model_config"));
        if (FlatParameters.stateSize(model) != join.getParameterCount())
            throw new IllegalStateException("server's model has " + join.getParameterCount() + " values but its config builds " + FlatParameters.stateSize(model));
        TensorDataset mine = shaped(data, model);
        DriftCorrection drift = training.driftCorrection() ? new DriftCorrection() : null;
        int after = 0, trained = 0;
        while (true) {
            // after the last round there is nothing to ask for: a server that ended its run may already have stopped
            // taking calls, and asking would end a finished client with UNAVAILABLE
            if (after >= join.getRounds()) return trained;
            Iterator<ModelChunk> chunks = blocking.getModel(ModelRequest.newBuilder().setClientId(id).setAfterRound(after).build());
            ModelChunk first = chunks.next(); // carries the header, and the first data unless training is over
            RoundHeader header = first.getHeader();
            if (header.getFinished()) return trained;
            float[] global = receive(header, first, chunks);
            if (crashInRound.test(header.getRound())) {
                killed = true;
                channel.shutdownNow();
                return trained;
            }
            FlatParameters.loadState(model, global);
            training.run(model, mine, join.getProxMu(), header.getRound(), drift);
            float[] local = FlatParameters.state(model), delta = new float[local.length];
            for (int i = 0; i < local.length; i++) delta[i] = local[i] - global[i];
            float[] encoded = scheme.encode(header.getRound(), delta, data.size(), this::exchange);
            after = header.getRound();
            try {
                submit(header.getRound(), header.getModelVersion(), encoded);
                trained++;
            } catch (StatusRuntimeException e) {
                // too late: the round closed at its deadline without us; a straggler waits for the next
                if (e.getStatus().getCode() != Status.Code.FAILED_PRECONDITION) throw e;
                late++;
            }
        }
    }

    /** The examples in the shape the server's model takes (28x28x1 images as 784 inputs for an MLP); refused if the sizes differ. */
    static TensorDataset shaped(TensorDataset data, Sequential model) {
        int[] want = model.inputShape().toArray(), dims = new int[want.length + 1];
        int perExample = data.x().size() / Math.max(1, data.size());
        if (perExample != model.inputShape().size())
            throw new IllegalArgumentException("the server's model takes examples of shape " + model.inputShape() + " but this client's data has " + data.x().shape());
        dims[0] = data.size();
        System.arraycopy(want, 0, dims, 1, want.length);
        return new TensorDataset(data.x().reshape(dims), data.y());
    }

    /** Reassembles the weights from the first chunk and the rest, refusing a size other than announced. */
    private static float[] receive(RoundHeader header, ModelChunk first, Iterator<ModelChunk> rest) {
        var assembly = new FloatChunks.Assembly(header.getParameterCount());
        String problem = assembly.add(first.getData());
        while (problem == null && rest.hasNext()) problem = assembly.add(rest.next().getData());
        if (problem != null) throw new IllegalStateException("server's weights for round " + header.getRound() + " are " + problem);
        return assembly.finish();
    }

    private byte[] exchange(int round, String phase, byte[] payload) {
        return blocking.exchange(PhaseMessage.newBuilder().setRound(round).setPhase(phase).setClientId(id).setPayload(ByteString.copyFrom(payload)).build())
                .getPayload().toByteArray();
    }

    /** Streams an update in chunks, the header in the first; returns the server's acknowledgement. */
    public UpdateAck submit(int round, long modelVersion, float[] vector) {
        UpdateHeader header = UpdateHeader.newBuilder().setClientId(id).setRound(round).setModelVersion(modelVersion)
                .setNumExamples(data.size()).setParameterCount(vector.length).build();
        return submitChunks(async, header, FloatChunks.split(vector, chunkBytes));
    }

    /** Sends {@code header} and {@code chunks} as one SubmitUpdate call and waits for its answer (tests send malformed ones). */
    static UpdateAck submitChunks(FederationGrpc.FederationStub stub, UpdateHeader header, List<ByteString> chunks) {
        CompletableFuture<UpdateAck> answer = new CompletableFuture<>();
        StreamObserver<UpdateChunk> out = stub.submitUpdate(new StreamObserver<>() {
            private UpdateAck ack;

            @Override
            public void onNext(UpdateAck value) {
                ack = value;
            }

            @Override
            public void onError(Throwable t) {
                answer.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
                answer.complete(ack);
            }
        });
        for (int i = 0; i < chunks.size(); i++) {
            UpdateChunk.Builder b = UpdateChunk.newBuilder().setData(chunks.get(i));
            if (i == 0 && header != null) b.setHeader(header);
            out.onNext(b.build());
            if (answer.isDone()) break; // refused early (e.g. oversized): stop sending
        }
        if (!answer.isDone()) out.onCompleted();
        try {
            return answer.get(5, TimeUnit.MINUTES);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while submitting an update", e);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("server did not answer an update within 5 minutes", e);
        }
    }

    @Override
    public void close() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
}
