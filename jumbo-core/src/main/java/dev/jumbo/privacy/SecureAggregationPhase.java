package dev.jumbo.privacy;

/**
 * The four phases of a secure aggregation round (Bonawitz et al. 2017, section 4), in order. A
 * transport carries each as one exchange per client: the client sends its message for the phase
 * and receives, once the server closes the phase, what it needs for the next.
 */
public enum SecureAggregationPhase {
    /** Each client sends two X25519 public keys: one to encrypt shares to it, one for masking agreement. */
    ADVERTISE_KEYS,
    /** Each client sends Shamir shares of its masking key and self-mask seed, encrypted to each peer. */
    SHARE_KEYS,
    /** Each client sends its quantised update plus its self-mask and pairwise masks, mod 2^32. */
    MASKED_INPUT,
    /** Each survivor reveals self-mask-seed shares of survivors and masking-key shares of dropped clients. */
    UNMASKING
}
