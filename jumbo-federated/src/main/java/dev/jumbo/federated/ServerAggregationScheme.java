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

    /** The round's sampled clients, before any of them is told to train; a scheme with phases prepares for them here. */
    default void roundStarted(int round, List<String> sampled, int length) {}

    /** Answers a client's phase message; the plain scheme has no phases and throws. */
    byte[] onPhase(int round, String phase, String clientId, byte[] payload);

    /**
     * The examples-weighted mean delta of {@code contributions} (at least one), each decoded as
     * the client side of the scheme encoded it; {@code sampled} are the clients that were asked,
     * so a scheme can recover from the ones that did not answer. Null: the scheme could not produce
     * a trustworthy mean (e.g. secure aggregation lost too many clients), so the round is not applied.
     */
    float[] combine(int round, List<String> sampled, List<Contribution> contributions, int length);
}
