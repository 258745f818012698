package dev.jumbo.tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * Records the attention probabilities of every {@link Tensor#attention} call made on this thread
 * while it is open: what attention maps and attention rollout read. A model's forward pass needs no
 * change; the probabilities the fused operation computes anyway are copied as they are made.
 *
 * <pre>{@code
 * try (AttentionProbe probe = AttentionProbe.record()) {
 *     model.forward(ids);
 *     List<AttentionProbe.Map> maps = probe.maps();   // one per attention call: layer order for GPT-2 and BERT
 *     float p = maps.get(0).get(0, 3, 5, 2);           // layer 0, head 3: query 5's weight on key 2
 * }
 * }</pre>
 *
 * <p>When no probe is open, an attention call costs one {@link ThreadLocal} read and copies
 * nothing. A probe opened inside another takes over until it is closed, then the outer one records
 * again; probes must be closed on the thread that opened them, innermost first.
 */
public final class AttentionProbe implements AutoCloseable {
    private static final ThreadLocal<AttentionProbe> ACTIVE = new ThreadLocal<>();

    /**
     * The probabilities of one attention call, {@code [batch, heads, queries, keys]} row-major:
     * each row (a query of a head) sums to 1 over the keys it may see; a masked key has 0.
     */
    public record Map(int batch, int heads, int queries, int keys, float[] probabilities) {
        public Map {
            if ((long) batch * heads * queries * keys != probabilities.length)
                throw new IllegalArgumentException(probabilities.length + " probabilities are not [" + batch + ", " + heads + ", " + queries + ", " + keys + "]");
        }

        /** The weight query {@code i} of head {@code h} of sequence {@code b} gives key {@code j}. */
        public float get(int b, int h, int i, int j) {
            if (b < 0 || b >= batch || h < 0 || h >= heads || i < 0 || i >= queries || j < 0 || j >= keys)
                throw new IndexOutOfBoundsException("[" + b + ", " + h + ", " + i + ", " + j + "] is outside [" + batch + ", " + heads + ", " + queries + ", " + keys + "]");
            return probabilities[((b * heads + h) * queries + i) * keys + j];
        }

        @Override
        public String toString() {
            return "AttentionProbe.Map[" + batch + ", " + heads + ", " + queries + ", " + keys + "]";
        }
    }

    private final AttentionProbe outer;
    private final Thread owner;
    private final List<Map> maps = new ArrayList<>();
    private boolean closed;

    private AttentionProbe(AttentionProbe outer) {
        this.outer = outer;
        this.owner = Thread.currentThread();
    }

    /** Starts recording on this thread; close it (try-with-resources) to stop. */
    public static AttentionProbe record() {
        AttentionProbe probe = new AttentionProbe(ACTIVE.get());
        ACTIVE.set(probe);
        return probe;
    }

    /** The maps recorded so far, in call order. */
    public List<Map> maps() {
        return List.copyOf(maps);
    }

    /**
     * Called by the attention operation with the probabilities it computed: copied when a probe
     * is recording (the array is the operation's own, which its backward reads), ignored otherwise.
     */
    static void offer(int batch, int heads, int queries, int keys, float[] probabilities) {
        AttentionProbe probe = ACTIVE.get();
        if (probe != null) probe.maps.add(new Map(batch, heads, queries, keys, probabilities.clone()));
    }

    /**
     * Stops recording; the maps stay readable. Closing twice does nothing.
     *
     * @throws IllegalStateException if called from another thread, or while a probe opened inside this one is still open
     */
    @Override
    public void close() {
        if (closed) return;
        if (Thread.currentThread() != owner)
            throw new IllegalStateException("an attention probe must be closed on the thread that opened it (" + owner.getName() + ")");
        if (ACTIVE.get() != this)
            throw new IllegalStateException("an attention probe opened inside this one is still open: close it first");
        closed = true;
        if (outer == null) ACTIVE.remove();
        else ACTIVE.set(outer);
    }
}
