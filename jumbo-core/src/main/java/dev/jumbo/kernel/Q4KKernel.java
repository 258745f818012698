package dev.jumbo.kernel;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * GGML Q4_K weights: 256 values in a 144-byte block,
 * <pre>
 * ggml_half d;            // scale of the sub-block scales
 * ggml_half dmin;         // scale of the sub-block minimums
 * uint8_t   scales[12];   // eight 6-bit scales and eight 6-bit minimums, packed
 * uint8_t   qs[128];      // 4-bit values
 * </pre>
 * Sub-block j (32 values) has scale {@code d * sc[j]} and minimum {@code dmin * m[j]}; for
 * j &lt; 4, {@code sc[j] = scales[j] & 63} and {@code m[j] = scales[j + 4] & 63}; for j &gt;= 4 the
 * low four bits come from {@code scales[j + 4]} (low nibble for sc, high for m) and the top two
 * from bits 6-7 of {@code scales[j - 4]} (sc) and {@code scales[j]} (m). Bytes
 * {@code qs[32c .. 32c + 32)} hold sub-block 2c in their low nibbles and 2c + 1 in their high ones;
 * a value is {@code scale * q - minimum}.
 *
 * <p>As for Q4_0, a 16-entry table per sub-block ({@code scale * q - minimum} for q = 0..15) turns
 * nibbles into finished F32 weights with one permute per 16 values.
 */
final class Q4KKernel extends WeightKernel {
    static final int BLOCK_BYTES = 144;
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_512;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_512;
    private static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;
    private static final FloatVector LEVELS = FloatVector.fromArray(S, new float[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, 0);

    Q4KKernel() {
        super("Q4_K", 256, BLOCK_BYTES);
    }

    /** Sub-block j's 6-bit scale ({@code minimum = false}) or minimum, from the 12 packed bytes at {@code at}. */
    static int scaleOrMin(MemorySegment w, long at, int j, boolean minimum) {
        if (j < 4) return byteAt(w, at + j + (minimum ? 4 : 0)) & 63;
        int low = byteAt(w, at + j + 4);
        return (minimum ? low >> 4 : low & 0xF) | ((byteAt(w, at + j - (minimum ? 0 : 4)) >> 6) << 4);
    }

    /**
     * The block at {@code o}'s eight sub-block scales {@code d * sc[j]} into {@code out[j]} and minimums
     * {@code dmin * m[j]} into {@code out[8 + j]}, computed as the dequantization computes them.
     */
    private static void scalesAndMins(MemorySegment w, long o, float[] out) {
        float d = Float.float16ToFloat(w.get(U16, o)), dmin = Float.float16ToFloat(w.get(U16, o + 2));
        for (int j = 0; j < 8; j++) {
            out[j] = d * scaleOrMin(w, o + 4, j, false);
            out[8 + j] = dmin * scaleOrMin(w, o + 4, j, true);
        }
    }

    private static int byteAt(MemorySegment w, long at) {
        return w.get(ValueLayout.JAVA_BYTE, at) & 0xFF;
    }

    @Override
    public void dequantize(MemorySegment w, long at, int count, float[] out, int off) {
        for (int b = 0; b < count / 256; b++) {
            long o = at + (long) BLOCK_BYTES * b;
            float d = Float.float16ToFloat(w.get(U16, o)), dmin = Float.float16ToFloat(w.get(U16, o + 2));
            for (int c = 0; c < 4; c++) {
                float d1 = d * scaleOrMin(w, o + 4, 2 * c, false), m1 = dmin * scaleOrMin(w, o + 4, 2 * c, true);
                float d2 = d * scaleOrMin(w, o + 4, 2 * c + 1, false), m2 = dmin * scaleOrMin(w, o + 4, 2 * c + 1, true);
                for (int l = 0; l < 32; l++) {
                    int q = byteAt(w, o + 16 + 32 * c + l);
                    out[off + 256 * b + 64 * c + l] = d1 * (q & 0xF) - m1;
                    out[off + 256 * b + 64 * c + 32 + l] = d2 * (q >> 4) - m2;
                }
            }
        }
    }

    // The loops run over 64-value chunks (a quarter block: two sub-blocks sharing 32 bytes of nibbles)
    // with the products written out: C2 gives up inlining the Vector API's methods in a method whose
    // graph grows too large (nested block loops it unrolls), and a vector that is not inlined is boxed.

    @Override
    float dot(MemorySegment w, long at, int cols, float[] x, int xOff, Int8Activations q, int i) {
        FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
        float[] sm = new float[16];
        for (int k = 0; k < cols / 64; k++) {
            long o = at + (long) BLOCK_BYTES * (k >> 2);
            int c = k & 3;
            if (c == 0) scalesAndMins(w, o, sm);
            IntVector lo = LEVELS.mul(sm[2 * c]).sub(sm[8 + 2 * c]).reinterpretAsInts();
            IntVector hi = LEVELS.mul(sm[2 * c + 1]).sub(sm[9 + 2 * c]).reinterpretAsInts();
            IntVector ta = (IntVector) ByteVector.fromMemorySegment(B16, w, o + 16 + 32 * c, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector tb = (IntVector) ByteVector.fromMemorySegment(B16, w, o + 32 + 32 * c, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            int xb = xOff + 64 * k;
            // selectFrom(table, table) indexes 32 entries with the index's low 5 bits: the table twice, so q & 15.
            s0 = ta.selectFrom(lo, lo).reinterpretAsFloats().fma(FloatVector.fromArray(S, x, xb), s0);
            s1 = tb.selectFrom(lo, lo).reinterpretAsFloats().fma(FloatVector.fromArray(S, x, xb + 16), s1);
            s2 = ta.lanewise(VectorOperators.LSHR, 4).selectFrom(hi, hi).reinterpretAsFloats().fma(FloatVector.fromArray(S, x, xb + 32), s2);
            s3 = tb.lanewise(VectorOperators.LSHR, 4).selectFrom(hi, hi).reinterpretAsFloats().fma(FloatVector.fromArray(S, x, xb + 48), s3);
        }
        return VectorMath.lanesSum(s0.add(s1).add(s2.add(s3)));
    }

    @Override
    void dot4(MemorySegment w, long at, int cols, float[] x, int xOff, Int8Activations q, int i, float[] y, int yAt, int yStride) {
        FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
        float[] sm = new float[16];
        for (int k = 0; k < cols / 64; k++) {
            long o = at + (long) BLOCK_BYTES * (k >> 2);
            int c = k & 3;
            if (c == 0) scalesAndMins(w, o, sm);
            IntVector lo = LEVELS.mul(sm[2 * c]).sub(sm[8 + 2 * c]).reinterpretAsInts();
            IntVector hi = LEVELS.mul(sm[2 * c + 1]).sub(sm[9 + 2 * c]).reinterpretAsInts();
            IntVector ta = (IntVector) ByteVector.fromMemorySegment(B16, w, o + 16 + 32 * c, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector tb = (IntVector) ByteVector.fromMemorySegment(B16, w, o + 32 + 32 * c, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            FloatVector v0 = ta.selectFrom(lo, lo).reinterpretAsFloats(), v1 = tb.selectFrom(lo, lo).reinterpretAsFloats();
            FloatVector v2 = ta.lanewise(VectorOperators.LSHR, 4).selectFrom(hi, hi).reinterpretAsFloats();
            FloatVector v3 = tb.lanewise(VectorOperators.LSHR, 4).selectFrom(hi, hi).reinterpretAsFloats();
            int x0 = xOff + 64 * k, x1 = x0 + cols, x2 = x1 + cols, x3 = x2 + cols;
            s0 = v3.fma(FloatVector.fromArray(S, x, x0 + 48), v2.fma(FloatVector.fromArray(S, x, x0 + 32),
                    v1.fma(FloatVector.fromArray(S, x, x0 + 16), v0.fma(FloatVector.fromArray(S, x, x0), s0))));
            s1 = v3.fma(FloatVector.fromArray(S, x, x1 + 48), v2.fma(FloatVector.fromArray(S, x, x1 + 32),
                    v1.fma(FloatVector.fromArray(S, x, x1 + 16), v0.fma(FloatVector.fromArray(S, x, x1), s1))));
            s2 = v3.fma(FloatVector.fromArray(S, x, x2 + 48), v2.fma(FloatVector.fromArray(S, x, x2 + 32),
                    v1.fma(FloatVector.fromArray(S, x, x2 + 16), v0.fma(FloatVector.fromArray(S, x, x2), s2))));
            s3 = v3.fma(FloatVector.fromArray(S, x, x3 + 48), v2.fma(FloatVector.fromArray(S, x, x3 + 32),
                    v1.fma(FloatVector.fromArray(S, x, x3 + 16), v0.fma(FloatVector.fromArray(S, x, x3), s3))));
        }
        y[yAt] = VectorMath.lanesSum(s0);
        y[yAt + yStride] = VectorMath.lanesSum(s1);
        y[yAt + 2 * yStride] = VectorMath.lanesSum(s2);
        y[yAt + 3 * yStride] = VectorMath.lanesSum(s3);
    }
}
