package dev.jumbo.kernel;

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
 * @param q      {@code n * cols} quantized values, block by block
 * @param d      one scale per block
 * @param sums   each block's sum of quantized values (for formats with a per-block minimum, Q4_K)
 * @param q4     the values rearranged for Q4_0's signed-nibble product ({@link Q4_0Kernel}): each
 *               block's values 0-15, then values 16-31 minus 16 times values 0-15
 * @param blocks blocks per activation row
 */
record Int8Activations(short[] q, float[] d, int[] sums, short[] q4, int blocks) {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_512;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_512;
    private static final VectorSpecies<Short> H = ShortVector.SPECIES_256;
    /** 1.5 * 2^23: adding and subtracting it rounds a float of magnitude below 2^22 to the nearest integer (ties to even). */
    private static final float ROUNDER = 12582912f;

    /** Quantizes {@code n} rows of {@code cols} values (a multiple of 32) from {@code x[xOff ..]}. */
    static Int8Activations of(float[] x, int xOff, int cols, int n) {
        int blocks = cols / 32;
        short[] q = new short[n * cols];
        float[] d = new float[n * blocks];
        int[] sums = new int[n * blocks];
        short[] q4 = new short[n * cols];
        for (int b = 0; b < n * blocks; b++) {
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
        return new Int8Activations(q, d, sums, q4, blocks);
    }
}
