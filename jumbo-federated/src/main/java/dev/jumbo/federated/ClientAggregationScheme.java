package dev.jumbo.federated;

/**
 * The client's half of an aggregation scheme: turns its delta into what it submits, using
 * {@link PhaseChannel} for any phases the scheme needs (keys, masks, shares). The plain scheme
 * submits the delta as it is.
 */
public interface ClientAggregationScheme {
    String name();

    /** What to submit for {@code round} in place of {@code delta}, trained on {@code examples} examples. */
    float[] encode(int round, float[] delta, long examples, PhaseChannel channel);

    /** A scheme's messages to the server within a round, carried by the {@code Exchange} rpc. */
    interface PhaseChannel {
        byte[] exchange(int round, String phase, byte[] payload);
    }
}
