package dev.jumbo.serve;

import java.util.Arrays;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;

/**
 * A Prometheus histogram of durations in seconds: a count per bucket and the sum of what was
 * observed. Observing is lock-free and allocates nothing (a scan of the bounds and two adders),
 * so the decode loop and every request may record into one without waiting for a scrape.
 *
 * <pre>{@code
 * Histogram h = new Histogram(0.01, 0.1, 1);
 * h.observe(0.05);          // lands in the bucket le="0.1"
 * h.cumulativeCounts();     // [0, 1, 1, 1]: le 0.01, 0.1, 1, +Inf
 * }</pre>
 */
final class Histogram {
    /** Request latency: 5 ms to 2 minutes (a long stream's request lasts as long as its generation). */
    static final double[] LATENCY_SECONDS = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};
    /** Time to first token: from 1 ms (the bundled model's p50 is a few ms) to 10 s (a long prefill, or a queue). */
    static final double[] FIRST_TOKEN_SECONDS = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

    private final double[] bounds;
    private final LongAdder[] counts; // one per bound, then +Inf; not cumulative: a value is added to one bucket only
    private final DoubleAdder sum = new DoubleAdder();

    /** @param bounds the buckets' upper bounds ({@code le}), increasing; +Inf is implied */
    Histogram(double... bounds) {
        for (int i = 0; i < bounds.length; i++)
            if (!(bounds[i] > (i == 0 ? Double.NEGATIVE_INFINITY : bounds[i - 1])) || Double.isInfinite(bounds[i]))
                throw new IllegalArgumentException("bucket bounds must be finite and increasing, got " + Arrays.toString(bounds));
        this.bounds = bounds.clone();
        this.counts = new LongAdder[bounds.length + 1];
        for (int i = 0; i < counts.length; i++) counts[i] = new LongAdder();
    }

    /** Records {@code seconds} in the first bucket whose bound is at least it. */
    void observe(double seconds) {
        int i = 0;
        while (i < bounds.length && seconds > bounds[i]) i++;
        counts[i].increment();
        sum.add(seconds);
    }

    /** Records a duration given in nanoseconds. */
    void observeNanos(long nanos) {
        observe(nanos / 1e9);
    }

    /** The buckets' upper bounds, +Inf not included. */
    double[] bounds() {
        return bounds.clone();
    }

    /**
     * The count of each bucket as Prometheus writes it, observations at most its bound (so never
     * decreasing), +Inf last: that one is the histogram's {@code _count}.
     */
    long[] cumulativeCounts() {
        long[] cumulative = new long[counts.length];
        long total = 0;
        for (int i = 0; i < counts.length; i++) cumulative[i] = total += counts[i].sum();
        return cumulative;
    }

    /** The sum of the observed values. */
    double sum() {
        return sum.sum();
    }
}
