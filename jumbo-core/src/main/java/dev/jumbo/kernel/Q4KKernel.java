package dev.jumbo.kernel;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.ShortVector;
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
 * <p>As for Q4_0, the default product multiplies activations quantized to 8 bits with 16-bit
 * products; the alternative (F32 activations) looks nibbles up in a 16-entry table per sub-block
 * ({@code scale * q - minimum} for q = 0..15), one permute per 16 values.
 */
final class Q4KKernel extends WeightKernel {
    static final int BLOCK_BYTES = 144;
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_512;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_512;
    private static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);
    private static final VectorSpecies<Short> H16 = ShortVector.SPECIES_256;
    private static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;
    private static final VectorSpecies<Long> L2 = LongVector.SPECIES_128;
    private static final VectorMask<Float> UPPER_HALF = VectorMask.fromLong(FloatVector.SPECIES_512, 0xFF00L);
    private static final FloatVector LEVELS = FloatVector.fromArray(S, new float[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, 0);

    private final boolean int8;

    Q4KKernel(boolean int8Activations) {
        super(int8Activations ? "Q4_K" : "Q4_K (F32 activations)", 256, BLOCK_BYTES);
        this.int8 = int8Activations;
    }

    @Override
    boolean int8Activations(int cols) {
        return int8;
    }

    /** Sub-block j's 6-bit scale ({@code minimum = false}) or minimum, from the 12 packed bytes at {@code at}. */
    static int scaleOrMin(MemorySegment w, long at, int j, boolean minimum) {
        if (j < 4) return byteAt(w, at + j + (minimum ? 4 : 0)) & 63;
        int low = byteAt(w, at + j + 4);
        return (minimum ? low >> 4 : low & 0xF) | ((byteAt(w, at + j - (minimum ? 0 : 4)) >> 6) << 4);
    }

    /**
     * The block at {@code o}'s eight sub-block scales {@code d * sc[j]} into {@code out[j]} and minimums
     * {@code dmin * m[j]} into {@code out[8 + j]}, the products the dequantization computes. This runs
     * once per 256 values inside the product loops, so the 6-bit fields are unpacked eight at a time
     * in a long (as GGML's x86 code does) and converted and scaled as one vector.
     */
    private static void scalesAndMins(MemorySegment w, long o, float[] out) {
        long s = w.get(U64, o + 4);                  // scales[0..7]
        long t = w.get(U32, o + 12) & 0xFFFFFFFFL;   // scales[8..11]
        long low6 = 0x3F3F3F3FL, low4 = 0x0F0F0F0FL, top2 = 0x03030303L;
        // sub-blocks 0-3: low 6 bits of bytes 0-3 (scales) and 4-7 (minimums);
        // 4-7: low 4 bits from the nibbles of bytes 8-11, top 2 from bits 6-7 of bytes 0-3 (scales) and 4-7 (minimums)
        long scales = (s & low6) | ((t & low4) | ((s >>> 6) & top2) << 4) << 32;
        long mins = ((s >>> 32) & low6) | (((t >>> 4) & low4) | ((s >>> 38) & top2) << 4) << 32;
        FloatVector v = (FloatVector) LongVector.zero(L2).withLane(0, scales).withLane(1, mins).reinterpretAsBytes()
                .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0).convert(VectorOperators.I2F, 0);
        float d = Float.float16ToFloat(w.get(U16, o)), dmin = Float.float16ToFloat(w.get(U16, o + 2));
        v.mul(FloatVector.broadcast(S, d).blend(dmin, UPPER_HALF)).intoArray(out, 0);
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
        return int8 ? dotInt8(w, at, cols, q.q(), i * cols, q.d(), q.sums(), i * q.blocks()) : dotTable(w, at, cols, x, xOff);
    }

    @Override
    void dot4(MemorySegment w, long at, int cols, float[] x, int xOff, Int8Activations q, int i, float[] y, int yAt, int yStride) {
        if (!int8) {
            dot4Table(w, at, cols, x, xOff, y, yAt, yStride);
            return;
        }
        for (int k = 0; k < 4; k++) y[yAt + k * yStride] = dotInt8(w, at, cols, q.q(), (i + k) * cols, q.d(), q.sums(), (i + k) * q.blocks());
    }

    /**
     * Against 8-bit activations (the default): per sub-block, {@code scale * sum(q * xq) * dx - minimum
     * * sum(xq) * dx}, the first in 256-bit 16-bit products as for Q4_0 ({@code q <= 15}, so a lane's
     * two products stay below 2^12), the second from the activation block sums.
     */
    private static float dotInt8(MemorySegment w, long at, int cols, short[] xq, int xqOff, float[] xd, int[] xsum, int xdOff) {
        FloatVector s0 = FloatVector.zero(F8), s1 = s0;
        float mins = 0;
        float[] sm = new float[16];
        for (int b = 0; b < cols / 256; b++) {
            long o = at + (long) BLOCK_BYTES * b;
            scalesAndMins(w, o, sm);
            for (int c = 0; c < 4; c++) {
                int xb = xqOff + 256 * b + 64 * c, db = xdOff + 8 * b + 2 * c;
                ShortVector ta = (ShortVector) ByteVector.fromMemorySegment(B16, w, o + 16 + 32 * c, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, H16, 0);
                ShortVector tb = (ShortVector) ByteVector.fromMemorySegment(B16, w, o + 32 + 32 * c, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, H16, 0);
                IntVector p0 = ta.and((short) 0xF).mul(ShortVector.fromArray(H16, xq, xb))
                        .add(tb.and((short) 0xF).mul(ShortVector.fromArray(H16, xq, xb + 16))).reinterpretAsInts();
                IntVector p1 = ta.lanewise(VectorOperators.LSHR, 4).mul(ShortVector.fromArray(H16, xq, xb + 32))
                        .add(tb.lanewise(VectorOperators.LSHR, 4).mul(ShortVector.fromArray(H16, xq, xb + 48))).reinterpretAsInts();
                // pairs of 16-bit sums into int lanes, as in Q8_0Kernel
                p0 = p0.add(p0.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                p1 = p1.add(p1.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                float dx0 = xd[db], dx1 = xd[db + 1];
                s0 = ((FloatVector) p0.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F8, sm[2 * c] * dx0), s0);
                s1 = ((FloatVector) p1.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F8, sm[2 * c + 1] * dx1), s1);
                mins += sm[8 + 2 * c] * dx0 * xsum[db] + sm[9 + 2 * c] * dx1 * xsum[db + 1];
            }
        }
        return Q4_0Kernel.lanesSum8(s0.add(s1)) - mins;
    }

    private static float dotTable(MemorySegment w, long at, int cols, float[] x, int xOff) {
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

    private static void dot4Table(MemorySegment w, long at, int cols, float[] x, int xOff, float[] y, int yAt, int yStride) {
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
