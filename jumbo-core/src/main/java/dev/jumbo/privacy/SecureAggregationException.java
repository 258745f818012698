package dev.jumbo.privacy;

/**
 * A secure aggregation round cannot go on: too few clients left to reach the threshold, a
 * malformed or out-of-place message, or a request a client refuses to answer. The message names
 * the phase, the client and the problem; the round's sum is never produced from partial data.
 */
public class SecureAggregationException extends RuntimeException {
    /** A failure described by {@code message}. */
    public SecureAggregationException(String message) {
        super(message);
    }
}
