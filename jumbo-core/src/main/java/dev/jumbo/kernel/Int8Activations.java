package dev.jumbo.kernel;

import java.util.concurrent.ConcurrentLinkedQueue;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Activation rows quantized to 8 bits per 32-value block, as GGML quantizes them for its integer
 * dot products: {@code d = amax / 127}, {@code q = round(x / d)}. The values are kept widened to
 * 16 bits (the products are 16-bit multiplies) and the scales in F32 (not rounded to F16).
 *
 * <p>The arrays are scratch reused across calls ({@link #acquire} / {@link #release}, a free list
 * like {@link Workspace}'s), so decoding a token through quantized weights allocates nothing here;
 * they may be longer than the rows they hold.
 *
 * <pre>{@code
 * Int8Activations a = Int8Activations.acquire(x, 0, cols, n);
 * try { ... a.q() ... } finally { Int8Activations.release(a); }
 * }</pre>
 */
final class Int8Activations {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_512;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_512;
    private static final VectorSpecies<Short> H = ShortVector.SPECIES_256;
    /** 1.5 * 2^23: adding and subtracting it rounds a float of magnitude below 2^22 to the nearest integer (ties to even). */
    private static final float ROUNDER = 12582912f;
    private static final ConcurrentLinkedQueue<Int8Activations> FREE = new ConcurrentLinkedQueue<>();

    private short[] q = new short[0], q4 = new short[0];
    private float[] d = new float[0];
    private int[] sums = new int[0];
    private int blocks;

    private Int8Activations() {}

    /** The quantized values, {@code n * cols} of them block by block. */
    short[] q() {
        return q;
    }

    /** One scale per block. */
    float[] d() {
        return d;
    }

    /** Each block's sum of quantized values (for formats with a per-block minimum, Q4_K). */
    int[] sums() {
        return sums;
    }

    /**
     * The values rearranged for Q4_0's signed-nibble product ({@link Q4_0Kernel}): each block's
     * values 0-15, then values 16-31 minus 16 times values 0-15.
     */
    short[] q4() {
        return q4;
    }

    /** Blocks per activation row. */
    int blocks() {
        return blocks;
    }

    /** Quantizes {@code n} rows of {@code cols} values (a multiple of 32) from {@code x[xOff ..]} into scratch from the free list. */
    static Int8Activations acquire(float[] x, int xOff, int cols, int n) {
        Int8Activations a = FREE.poll();
        if (a == null) a = new Int8Activations();
        a.quantize(x, xOff, cols, n);
        return a;
    }

    /** Returns scratch taken by {@link #acquire}; it must not be read afterwards. */
    static void release(Int8Activations a) {
        FREE.offer(a);
    }

    private void quantize(float[] x, int xOff, int cols, int n) {
        blocks = cols / 32;
        int values = Math.multiplyExact(n, cols), total = n * blocks;
        if (q.length < values) {
            q = new short[values];
            q4 = new short[values];
        }
        if (d.length < total) {
            d = new float[total];
            sums = new int[total];
        }
        for (int b = 0; b < total; b++) {
            int at = xOff + (b / blocks) * cols + (b % blocks) * 32;
            FloatVector v0 = FloatVector.fromArray(S, x, at), v1 = FloatVector.fromArray(S, x, at + 16);
            float amax = v0.abs().max(v1.abs()).reduceLanes(VectorOperators.MAX);
            float scale = amax / 127, inverse = scale != 0 ? 1 / scale : 0;
            d[b] = scale;
            IntVector q0 = (IntVector) v0.mul(inverse).add(ROUNDER).sub(ROUNDER).convert(VectorOperators.F2I, 0);
            IntVector q1 = (IntVector) v1.mul(inverse).add(ROUNDER).sub(ROUNDER).convert(VectorOperators.F2I, 0);
            q0.convertShape(VectorOperators.I2S, H, 0).reinterpretAsShorts().intoArray(q, 32 * b);
            q1.convertShape(VectorOperators.I2S, H, 0).reinterpretAsShorts().intoArray(q, 32 * b + 16);
            q0.convertShape(VectorOperators.I2S, H, 0).reinterpretAsShorts().intoArray(q4, 32 * b);
            q1.sub(q0.lanewise(VectorOperators.LSHL, 4)).convertShape(VectorOperators.I2S, H, 0).reinterpretAsShorts().intoArray(q4, 32 * b + 16);
            sums[b] = q0.add(q1).reduceLanes(VectorOperators.ADD); // integer: exact in any order
        }
    }
}
