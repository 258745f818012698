package dev.jumbo.models;

import dev.jumbo.kernel.Parallel;
import dev.jumbo.kernel.VectorMath;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * What a decoding session keeps between tokens: the keys and values of every position it has
 * read, per layer, and causal attention of new queries over them. Shared by the runtimes of
 * {@link Llama} (grouped-query: several query heads read one key/value head) and {@link Gpt2}
 * (one key/value head per query head).
 *
 * <pre>{@code
 * AttentionCache cache = new AttentionCache(layers, context, heads, kvHeads, headSize);
 * cache.reserve(start + n);
 * for (int i = 0; i < n; i++) cache.put(layer, start + i, k, i * kvDim, v, i * kvDim);
 * cache.attend(layer, q, n, start, out);   // q and out [n, heads * headSize]
 * }</pre>
 *
 * <p>A block's keys are stored transposed, one row per key coordinate, so the scores of its
 * positions are computed a vector of positions at a time (a head of 8 values would otherwise be half
 * a vector, summed across lanes per position); values are stored a position per row, for the
 * weighted sum. Storage grows in blocks of {@value #BLOCK} positions as the sequence does (up to the
 * context), never copied, so a session holds memory for the tokens it has read, not for the
 * model's whole context. Once reserved, {@link #put} and {@link #attend} allocate nothing, on the
 * calling thread or in the attention tasks. Not thread-safe: one session, one thread.
 */
final class AttentionCache {
    /** Positions per block. */
    static final int BLOCK = 64;
    /** Below this head size the weighted sum of values is a plain loop (a vector call would be mostly its tail), but for heads of 8. */
    private static final int SHORT_HEAD = 16;
    /** Heads of 8 values (stories260K's): one 256-bit vector. */
    private static final VectorSpecies<Float> EIGHT = FloatVector.SPECIES_256;
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int V = S.length();

    private final int context, heads, headSize, kvDim, group;
    /** {@code keys[layer][block]}: {@code BLOCK} positions of {@code kvDim} values, allocated as the sequence reaches them. */
    private final float[][][] keys, values;
    /** {@link #attendHeads} as a task body, made once. */
    final Parallel.RangeBody attendHeads = this::attendHeads;
    private int capacity;
    /** Attention weights, {@code [heads, capacity]}. */
    private float[] scores = new float[0];
    // the call being run, read by the attention tasks
    private float[][] layerKeys, layerValues;
    private float[] query, out;
    private int offset, batch, start;

    /**
     * @param kvHeads key/value heads; they divide {@code heads} (equal for multi-head attention)
     */
    AttentionCache(int layers, int context, int heads, int kvHeads, int headSize) {
        if (heads % kvHeads != 0) throw new IllegalArgumentException(heads + " query heads do not share " + kvHeads + " key/value heads evenly");
        this.context = context;
        this.heads = heads;
        this.headSize = headSize;
        this.kvDim = kvHeads * headSize;
        this.group = heads / kvHeads;
        int blocks = Math.ceilDiv(context, BLOCK);
        keys = new float[layers][blocks][];
        values = new float[layers][blocks][];
    }

    /** Positions allocated so far (a multiple of {@value #BLOCK}, or the context). */
    int capacity() {
        return capacity;
    }

    /** Bytes of keys and values allocated so far. */
    long bytes() {
        return 2L * keys.length * capacity * kvDim * Float.BYTES;
    }

    /** Allocates blocks (and attention rows) for positions {@code 0 .. positions - 1}. */
    void reserve(int positions) {
        if (positions <= capacity) return;
        if (positions > context) throw new IllegalArgumentException(positions + " positions do not fit the context of " + context);
        while (capacity < positions) {
            int b = capacity / BLOCK, size = Math.min(BLOCK, context - capacity);
            for (int l = 0; l < keys.length; l++) {
                keys[l][b] = new float[size * kvDim];
                values[l][b] = new float[size * kvDim];
            }
            capacity += size;
        }
        scores = new float[heads * capacity];
    }

    /** Stores the key {@code k[kOff ..]} and value {@code v[vOff ..]} ({@code kvHeads * headSize} each) of a reserved position. */
    void put(int layer, int position, float[] k, int kOff, float[] v, int vOff) {
        int block = position / BLOCK, t = position % BLOCK;
        float[] keyBlock = keys[layer][block];
        int stride = keyBlock.length / kvDim;
        for (int j = 0; j < kvDim; j++) keyBlock[j * stride + t] = k[kOff + j];
        System.arraycopy(v, vOff, values[layer][block], t * kvDim, kvDim);
    }

    /**
     * Causal attention in {@code layer} of {@code batch} queries {@code q [batch, heads * headSize]}
     * at positions {@code start ..}: query i attends to positions {@code 0 .. start + i}, which must
     * be stored already; the weighted values go to {@code out [batch, heads * headSize]}. Heads run
     * on the compute threads.
     */
    void attend(int layer, float[] q, int batch, int start, float[] out) {
        attend(layer, q, 0, batch, start, out);
    }

    /** {@link #attend(int, float[], int, int, float[])} for queries from row offset {@code off} of q, their results at the same offset of out. */
    void attend(int layer, float[] q, int off, int batch, int start, float[] out) {
        prepare(layer, q, off, batch, start, out);
        Parallel.forRange(heads, cost(), attendHeads);
    }

    /**
     * Sets up {@link #attend(int, float[], int, int, float[], int)}'s call without running it, for a
     * caller that runs several caches' calls in one parallel region through {@link #attendHeads}.
     */
    void prepare(int layer, float[] q, int off, int batch, int start, float[] out) {
        layerKeys = keys[layer];
        layerValues = values[layer];
        query = q;
        this.out = out;
        this.offset = off;
        this.batch = batch;
        this.start = start;
    }

    /**
     * Work per head of the prepared call, in {@link Parallel}'s multiply-add units: two products of
     * the head's length per position, plus the softmax's exponential and the loop around each
     * position (which short heads, stories260K's 8 values, are mostly made of).
     */
    long cost() {
        return (long) batch * (start + batch) * (2L * headSize + 16);
    }

    /** Query heads. */
    int heads() {
        return heads;
    }

    /** Query heads {@code [from, to)} of the prepared call. */
    void attendHeads(int from, int to) {
        float scaleValue = (float) (1 / Math.sqrt(headSize));
        FloatVector scale = FloatVector.broadcast(S, scaleValue);
        float[][] ks = layerKeys, vs = layerValues;
        float[] q = query, att = out;
        int dim = heads * headSize;
        for (int h = from; h < to; h++) {
            int kvOff = (h / group) * headSize, so = h * capacity;
            for (int i = 0; i < batch; i++) {
                int positions = start + i + 1, qo = offset + i * dim + h * headSize;
                // scores of a block's positions a vector at a time: its keys are stored one coordinate per row
                for (int t0 = 0, b = 0; t0 < positions; t0 += BLOCK, b++) {
                    float[] block = ks[b];
                    int stride = block.length / kvDim, m = Math.min(positions - t0, BLOCK);
                    int t = 0;
                    for (; t + V <= m; t += V) {
                        FloatVector sum = FloatVector.zero(S);
                        for (int d = 0, row = kvOff * stride + t; d < headSize; d++, row += stride)
                            sum = FloatVector.fromArray(S, block, row).fma(FloatVector.broadcast(S, q[qo + d]), sum);
                        sum.mul(scale).intoArray(scores, so + t0 + t);
                    }
                    // the newest positions, fewer than a vector: unmasked plain loops (a masked vector
                    // reaching past a short last block would leave the intrinsic and allocate)
                    for (; t < m; t++) {
                        float sum = 0;
                        for (int d = 0, row = kvOff * stride + t; d < headSize; d++, row += stride) sum += block[row] * q[qo + d];
                        scores[so + t0 + t] = sum * scaleValue;
                    }
                }
                VectorMath.softmax(scores, so, positions);
                if (headSize == EIGHT.length()) {
                    // a head of 8 in one 256-bit register across all the positions
                    FloatVector sum = FloatVector.zero(EIGHT);
                    for (int t0 = 0, b = 0; t0 < positions; t0 += BLOCK, b++) {
                        float[] block = vs[b];
                        for (int t = t0, end = Math.min(positions, t0 + BLOCK); t < end; t++)
                            sum = FloatVector.fromArray(EIGHT, block, (t - t0) * kvDim + kvOff).fma(FloatVector.broadcast(EIGHT, scores[so + t]), sum);
                    }
                    sum.intoArray(att, qo);
                    continue;
                }
                Arrays.fill(att, qo, qo + headSize, 0f);
                for (int t0 = 0, b = 0; t0 < positions; t0 += BLOCK, b++) {
                    float[] block = vs[b];
                    for (int t = t0, end = Math.min(positions, t0 + BLOCK); t < end; t++)
                        axpy(scores[so + t], block, (t - t0) * kvDim + kvOff, att, qo, headSize);
                }
            }
        }
    }

    private static void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        if (n >= SHORT_HEAD) VectorMath.axpy(alpha, x, xOff, y, yOff, n);
        else for (int i = 0; i < n; i++) y[yOff + i] += alpha * x[xOff + i];
    }
}
