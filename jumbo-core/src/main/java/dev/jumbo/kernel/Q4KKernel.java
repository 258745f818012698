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

    private static int byteAt(MemorySegment w, long at) {
        return w.get(ValueLayout.JAVA_BYTE, at) & 0xFF;
    }

    @Override
    public void dequantize(MemorySegment w, long at, int count, float[] out, int off) {
        for (int b = 0; b < count / 256; b++) {
            long o = at + (long) BLOCK_BYTES * b;
            float d = f16(w, o), dmin = f16(w, o + 2);
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

    @Override
    float dot(MemorySegment w, long at, int cols, float[] x, int xOff, Int8Activations q, int i) {
        FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
        for (int b = 0; b < cols / 256; b++) {
            long o = at + (long) BLOCK_BYTES * b;
            float d = f16(w, o), dmin = f16(w, o + 2);
            for (int c = 0; c < 4; c++) {
                int xb = xOff + 256 * b + 64 * c;
                IntVector lo = LEVELS.mul(d * scaleOrMin(w, o + 4, 2 * c, false)).sub(dmin * scaleOrMin(w, o + 4, 2 * c, true)).reinterpretAsInts();
                IntVector hi = LEVELS.mul(d * scaleOrMin(w, o + 4, 2 * c + 1, false)).sub(dmin * scaleOrMin(w, o + 4, 2 * c + 1, true)).reinterpretAsInts();
                IntVector ta = (IntVector) ByteVector.fromMemorySegment(B16, w, o + 16 + 32 * c, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                IntVector tb = (IntVector) ByteVector.fromMemorySegment(B16, w, o + 32 + 32 * c, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                s0 = ta.selectFrom(lo, lo).reinterpretAsFloats().fma(FloatVector.fromArray(S, x, xb), s0);
                s1 = tb.selectFrom(lo, lo).reinterpretAsFloats().fma(FloatVector.fromArray(S, x, xb + 16), s1);
                s2 = ta.lanewise(VectorOperators.LSHR, 4).selectFrom(hi, hi).reinterpretAsFloats().fma(FloatVector.fromArray(S, x, xb + 32), s2);
                s3 = tb.lanewise(VectorOperators.LSHR, 4).selectFrom(hi, hi).reinterpretAsFloats().fma(FloatVector.fromArray(S, x, xb + 48), s3);
            }
        }
        return VectorMath.lanesSum(s0.add(s1).add(s2.add(s3)));
    }

    @Override
    void dot4(MemorySegment w, long at, int cols, float[] x, int xOff, Int8Activations q, int i, float[] y, int yAt, int yStride) {
        FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
        for (int b = 0; b < cols / 256; b++) {
            long o = at + (long) BLOCK_BYTES * b;
            float d = f16(w, o), dmin = f16(w, o + 2);
            for (int c = 0; c < 4; c++) {
                IntVector lo = LEVELS.mul(d * scaleOrMin(w, o + 4, 2 * c, false)).sub(dmin * scaleOrMin(w, o + 4, 2 * c, true)).reinterpretAsInts();
                IntVector hi = LEVELS.mul(d * scaleOrMin(w, o + 4, 2 * c + 1, false)).sub(dmin * scaleOrMin(w, o + 4, 2 * c + 1, true)).reinterpretAsInts();
                IntVector ta = (IntVector) ByteVector.fromMemorySegment(B16, w, o + 16 + 32 * c, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                IntVector tb = (IntVector) ByteVector.fromMemorySegment(B16, w, o + 32 + 32 * c, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                FloatVector v0 = ta.selectFrom(lo, lo).reinterpretAsFloats(), v1 = tb.selectFrom(lo, lo).reinterpretAsFloats();
                FloatVector v2 = ta.lanewise(VectorOperators.LSHR, 4).selectFrom(hi, hi).reinterpretAsFloats();
                FloatVector v3 = tb.lanewise(VectorOperators.LSHR, 4).selectFrom(hi, hi).reinterpretAsFloats();
                int xb = xOff + 256 * b + 64 * c;
                s0 = fma4(v0, v1, v2, v3, x, xb, s0);
                s1 = fma4(v0, v1, v2, v3, x, xb + cols, s1);
                s2 = fma4(v0, v1, v2, v3, x, xb + 2 * cols, s2);
                s3 = fma4(v0, v1, v2, v3, x, xb + 3 * cols, s3);
            }
        }
        y[yAt] = VectorMath.lanesSum(s0);
        y[yAt + yStride] = VectorMath.lanesSum(s1);
        y[yAt + 2 * yStride] = VectorMath.lanesSum(s2);
        y[yAt + 3 * yStride] = VectorMath.lanesSum(s3);
    }

    /** s + v0 x[at..] + v1 x[at+16..] + v2 x[at+32..] + v3 x[at+48..]. */
    private static FloatVector fma4(FloatVector v0, FloatVector v1, FloatVector v2, FloatVector v3, float[] x, int at, FloatVector s) {
        s = v0.fma(FloatVector.fromArray(S, x, at), s);
        s = v1.fma(FloatVector.fromArray(S, x, at + 16), s);
        s = v2.fma(FloatVector.fromArray(S, x, at + 32), s);
        return v3.fma(FloatVector.fromArray(S, x, at + 48), s);
    }
}
