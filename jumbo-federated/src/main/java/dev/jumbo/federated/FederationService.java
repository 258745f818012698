package dev.jumbo.federated;

import com.google.protobuf.ByteString;
import dev.jumbo.federated.proto.FederationGrpc;
import dev.jumbo.federated.proto.JoinReply;
import dev.jumbo.federated.proto.JoinRequest;
import dev.jumbo.federated.proto.ModelChunk;
import dev.jumbo.federated.proto.ModelRequest;
import dev.jumbo.federated.proto.PhaseMessage;
import dev.jumbo.federated.proto.PhaseReply;
import dev.jumbo.federated.proto.RoundHeader;
import dev.jumbo.federated.proto.UpdateAck;
import dev.jumbo.federated.proto.UpdateChunk;
import dev.jumbo.federated.proto.UpdateHeader;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.List;

/**
 * The {@code Federation} rpcs on top of {@link FederatedServer}'s state: chunking the weights out,
 * and reading an update's chunks in with every check (header, size, finite values) before it
 * may enter the round. A refused update ends its call with a status naming the problem; the
 * server and the round carry on.
 */
final class FederationService extends FederationGrpc.FederationImplBase {
    private final FederatedServer server;

    FederationService(FederatedServer server) {
        this.server = server;
    }

    @Override
    public void join(JoinRequest request, StreamObserver<JoinReply> reply) {
        try {
            reply.onNext(server.join(request.getClientId(), request.getNumExamples()));
            reply.onCompleted();
        } catch (StatusRuntimeException e) {
            reply.onError(e);
        }
    }

    @Override
    public void getModel(ModelRequest request, StreamObserver<ModelChunk> reply) {
        var call = (ServerCallStreamObserver<ModelChunk>) reply;
        FederatedServer.Assignment a;
        try {
            a = server.awaitAssignment(request.getClientId(), request.getAfterRound(), call::isCancelled);
        } catch (StatusRuntimeException e) {
            reply.onError(e);
            return;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            reply.onError(Status.UNAVAILABLE.withDescription("server is shutting down").asRuntimeException());
            return;
        }
        if (a == null) return; // the client went away while waiting
        RoundHeader header = RoundHeader.newBuilder().setRound(a.round()).setModelVersion(a.version())
                .setParameterCount(server.parameterCount()).setFinished(a.finished()).build();
        if (a.finished()) {
            reply.onNext(ModelChunk.newBuilder().setHeader(header).build());
        } else {
            List<ByteString> chunks = FloatChunks.split(a.weights(), server.chunkBytes());
            for (int i = 0; i < chunks.size() && !call.isCancelled(); i++) {
                ModelChunk.Builder b = ModelChunk.newBuilder().setData(chunks.get(i));
                if (i == 0) b.setHeader(header);
                reply.onNext(b.build());
            }
        }
        reply.onCompleted();
    }

    @Override
    public StreamObserver<UpdateChunk> submitUpdate(StreamObserver<UpdateAck> reply) {
        return new StreamObserver<>() {
            private UpdateHeader header;
            private FloatChunks.Assembly assembly;
            private boolean failed;

            @Override
            public void onNext(UpdateChunk chunk) {
                if (failed) return;
                try {
                    if (header == null) {
                        if (!chunk.hasHeader()) throw refuse(Status.INVALID_ARGUMENT, "the first chunk of an update must carry its header");
                        UpdateHeader h = chunk.getHeader();
                        server.checkUpdate(h.getClientId(), h.getRound(), h.getModelVersion(), h.getNumExamples(), h.getParameterCount());
                        header = h;
                        assembly = new FloatChunks.Assembly(h.getParameterCount());
                    } else {
                        if (chunk.hasHeader()) throw refuse(Status.INVALID_ARGUMENT, "only the first chunk of an update may carry a header");
                        if (chunk.getData().isEmpty()) throw refuse(Status.INVALID_ARGUMENT, "empty chunk in the update of client '" + header.getClientId() + "'");
                    }
                    String problem = assembly.add(chunk.getData());
                    if (problem != null) throw refuse(Status.INVALID_ARGUMENT, "update of client '" + header.getClientId() + "' is " + problem);
                } catch (StatusRuntimeException e) {
                    failed = true;
                    reply.onError(e);
                }
            }

            @Override
            public void onError(Throwable t) {
                failed = true; // the client cancelled or died: nothing entered the round
            }

            @Override
            public void onCompleted() {
                if (failed) return;
                try {
                    if (header == null) throw refuse(Status.INVALID_ARGUMENT, "empty update: no header, no data");
                    float[] v;
                    try {
                        v = assembly.finish();
                    } catch (IllegalStateException e) {
                        throw refuse(Status.INVALID_ARGUMENT, "update of client '" + header.getClientId() + "' has the " + e.getMessage());
                    }
                    for (int i = 0; i < v.length; i++)
                        if (!Float.isFinite(v[i]))
                            throw refuse(Status.INVALID_ARGUMENT, "update of client '" + header.getClientId() + "' holds " + v[i] + " at index " + i);
                    int held = server.accept(header.getClientId(), header.getRound(), header.getModelVersion(), header.getNumExamples(), v);
                    reply.onNext(UpdateAck.newBuilder().setRound(header.getRound()).setReceived(held).build());
                    reply.onCompleted();
                } catch (StatusRuntimeException e) {
                    reply.onError(e);
                }
            }

            private StatusRuntimeException refuse(Status status, String message) {
                if (header != null) server.countRejected();
                return status.withDescription(message).asRuntimeException();
            }
        };
    }

    @Override
    public void exchange(PhaseMessage request, StreamObserver<PhaseReply> reply) {
        try {
            byte[] out = server.phase(request.getRound(), request.getPhase(), request.getClientId(), request.getPayload().toByteArray());
            reply.onNext(PhaseReply.newBuilder().setPayload(ByteString.copyFrom(out)).build());
            reply.onCompleted();
        } catch (StatusRuntimeException e) {
            reply.onError(e);
        }
    }
}
