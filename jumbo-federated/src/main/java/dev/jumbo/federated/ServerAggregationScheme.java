package dev.jumbo.federated;

import java.util.List;

/**
 * The server's half of how clients' deltas are combined: the plain scheme averages what arrives;
 * a secure aggregation scheme would receive masked vectors, run its own phases through the
 * {@code Exchange} rpc ({@link #onPhase}) and reveal only their sum. The weighted mean is what
 * both hand the {@link Aggregator}.
 */
public interface ServerAggregationScheme {
    /** The name clients are told in the join reply, and must speak. */
    String name();

    /** Answers a client's phase message; the plain scheme has no phases and throws. */
    byte[] onPhase(int round, String phase, String clientId, byte[] payload);

    /**
     * The examples-weighted mean delta of {@code contributions} (at least one), each decoded as
     * the client side of the scheme encoded it; {@code sampled} are the clients that were asked,
     * so a scheme can recover from the ones that did not answer.
     */
    float[] combine(int round, List<String> sampled, List<Contribution> contributions, int length);
}
