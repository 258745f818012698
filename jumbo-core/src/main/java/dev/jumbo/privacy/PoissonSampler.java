package dev.jumbo.privacy;

import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * Poisson sampling of batches, as DP-SGD's accountant assumes: every example joins each batch
 * independently with probability {@code q = expectedBatchSize / n}, so batch sizes vary (and a
 * batch may be empty). An epoch is {@code ceil(n / expectedBatchSize)} such batches.
 *
 * <pre>{@code
 * var sampler = new PoissonSampler(60_000, 256, new SplittableRandom(1));
 * int[] batch = sampler.next();   // about 256 indices in increasing order
 * }</pre>
 */
public final class PoissonSampler {
    private final int n;
    private final int expectedBatchSize;
    private final double q;
    private final RandomGenerator random;

    /** Samples from {@code n} examples with rate {@code expectedBatchSize / n}. */
    public PoissonSampler(int n, int expectedBatchSize, RandomGenerator random) {
        if (n <= 0 || expectedBatchSize <= 0 || expectedBatchSize > n)
            throw new IllegalArgumentException("Poisson sampling needs 0 < expected batch size <= n, got " + expectedBatchSize + " of " + n);
        this.n = n;
        this.expectedBatchSize = expectedBatchSize;
        this.q = (double) expectedBatchSize / n;
        this.random = random;
    }

    /** The sampling rate {@code q}. */
    public double rate() {
        return q;
    }

    /** The expected batch size, what DP-SGD divides the noisy sum by. */
    public int expectedBatchSize() {
        return expectedBatchSize;
    }

    /** Batches per epoch: {@code ceil(n / expectedBatchSize)}. */
    public int batchesPerEpoch() {
        return Math.ceilDiv(n, expectedBatchSize);
    }

    /** The indices of the next batch, increasing. */
    public int[] next() {
        int[] picked = new int[Math.min(n, expectedBatchSize * 2 + 16)];
        int size = 0;
        for (int i = 0; i < n; i++) {
            if (random.nextDouble() < q) {
                if (size == picked.length) picked = Arrays.copyOf(picked, Math.min(n, picked.length * 2));
                picked[size++] = i;
            }
        }
        return Arrays.copyOf(picked, size);
    }
}
