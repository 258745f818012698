package dev.jumbo.privacy;

/**
 * What the server and every client of one secure aggregation round agree on before it starts.
 *
 * @param round identifies the round; every message and every derived key is bound to it, so
 *     nothing from one round can be replayed in another
 * @param threshold t: the fewest clients that must remain at each phase, and the number of
 *     Shamir shares that recover a secret. Bonawitz et al. take t above half the clients, so
 *     the server cannot split the survivors into two groups and unmask each; at least 2 here
 * @param vectorLength the length of every (quantised) update
 */
public record SecureAggregationConfig(long round, int threshold, int vectorLength) {
    /** Validates the threshold and the length. */
    public SecureAggregationConfig {
        if (threshold < 2) {
            throw new IllegalArgumentException("SecureAggregationConfig: threshold must be >= 2, got " + threshold);
        }
        if (vectorLength < 1 || vectorLength > (1 << 28)) {
            throw new IllegalArgumentException(
                    "SecureAggregationConfig: vectorLength must be in [1, 2^28], got " + vectorLength);
        }
    }
}
