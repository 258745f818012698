package dev.jumbo.models;

import dev.jumbo.kernel.Parallel;
import dev.jumbo.kernel.VectorMath;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
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
 * <p>Storage grows in blocks of {@value #BLOCK} positions as the sequence does (up to the
 * context), never copied, so a session holds memory for the tokens it has read, not for the
 * model's whole context. Once reserved, {@link #put} and {@link #attend} allocate nothing, on the
 * calling thread or in the attention tasks. Not thread-safe: one session, one thread.
 */
final class AttentionCache {
    /** Positions per block. */
    static final int BLOCK = 64;
    /**
     * Below this head size a head is less than a 512-bit vector: heads of 8 (stories260K's) take one
     * 256-bit vector, other short ones plain loops (a general vector call would be mostly its tail).
     */
    private static final int SHORT_HEAD = 16;
    private static final VectorSpecies<Float> EIGHT = FloatVector.SPECIES_256;

    private final int context, heads, headSize, kvDim, group;
    /** {@code keys[layer][block]}: {@code BLOCK} positions of {@code kvDim} values, allocated as the sequence reaches them. */
    private final float[][][] keys, values;
    private final Parallel.RangeBody attendHeads = this::attend;
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
        int block = position / BLOCK, at = (position % BLOCK) * kvDim;
        System.arraycopy(k, kOff, keys[layer][block], at, kvDim);
        System.arraycopy(v, vOff, values[layer][block], at, kvDim);
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
        layerKeys = keys[layer];
        layerValues = values[layer];
        query = q;
        this.out = out;
        this.offset = off;
        this.batch = batch;
        this.start = start;
        Parallel.forRange(heads, 2L * batch * (start + batch) * headSize, attendHeads);
    }

    /** Query heads {@code [from, to)} of the call being run. */
    private void attend(int from, int to) {
        float scale = (float) (1 / Math.sqrt(headSize));
        float[][] ks = layerKeys, vs = layerValues;
        float[] q = query, att = out;
        int dim = heads * headSize;
        for (int h = from; h < to; h++) {
            int kvOff = (h / group) * headSize, so = h * capacity;
            for (int i = 0; i < batch; i++) {
                int positions = start + i + 1, qo = offset + i * dim + h * headSize;
                for (int t0 = 0, b = 0; t0 < positions; t0 += BLOCK, b++) {
                    float[] block = ks[b];
                    for (int t = t0, end = Math.min(positions, t0 + BLOCK); t < end; t++)
                        scores[so + t] = dot(q, qo, block, (t - t0) * kvDim + kvOff, headSize) * scale;
                }
                VectorMath.softmax(scores, so, positions);
                Arrays.fill(att, qo, qo + headSize, 0f);
                for (int t0 = 0, b = 0; t0 < positions; t0 += BLOCK, b++) {
                    float[] block = vs[b];
                    for (int t = t0, end = Math.min(positions, t0 + BLOCK); t < end; t++)
                        axpy(scores[so + t], block, (t - t0) * kvDim + kvOff, att, qo, headSize);
                }
            }
        }
    }

    private static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        if (n >= SHORT_HEAD) return VectorMath.dot(a, aOff, b, bOff, n);
        if (n == EIGHT.length())
            return FloatVector.fromArray(EIGHT, a, aOff).mul(FloatVector.fromArray(EIGHT, b, bOff)).reduceLanes(VectorOperators.ADD);
        float s = 0;
        for (int i = 0; i < n; i++) s += a[aOff + i] * b[bOff + i];
        return s;
    }

    private static void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        if (n >= SHORT_HEAD) VectorMath.axpy(alpha, x, xOff, y, yOff, n);
        else if (n == EIGHT.length())
            FloatVector.fromArray(EIGHT, x, xOff).fma(FloatVector.broadcast(EIGHT, alpha), FloatVector.fromArray(EIGHT, y, yOff)).intoArray(y, yOff);
        else for (int i = 0; i < n; i++) y[yOff + i] += alpha * x[xOff + i];
    }
}
