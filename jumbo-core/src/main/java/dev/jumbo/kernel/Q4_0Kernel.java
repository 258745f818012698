package dev.jumbo.kernel;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * GGML Q4_0 weights. A block is 18 bytes:
 * <pre>
 * ggml_half d;        // scale
 * uint8_t   qs[16];   // value j is ((qs[j] &amp; 0xF) - 8) * d, value j + 16 is ((qs[j] &gt;&gt; 4) - 8) * d
 * </pre>
 *
 * <p>The default product looks the nibbles up in a 16-entry table of {@code (q - 8) * d} (one
 * two-source permute per 16 values gives finished F32 weights, no conversion) and multiplies F32
 * activations. The alternative multiplies 8-bit activations stored in the nibbles' order
 * (0, 16, 1, 17, ...) with 16-bit products; it needs more operations per block and measured slower.
 */
final class Q4_0Kernel extends WeightKernel {
    static final int BLOCK_BYTES = 18;
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_512;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_512;
    private static final VectorSpecies<Short> H = ShortVector.SPECIES_512;
    private static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;
    /** q - 8 for q = 0..15: multiplied by d, the block's 16 possible values. */
    private static final FloatVector LEVELS = FloatVector.fromArray(S, new float[] {-8, -7, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7}, 0);

    private final boolean int8;

    Q4_0Kernel(boolean int8Activations) {
        super(int8Activations ? "Q4_0 (8-bit activations)" : "Q4_0", 32, BLOCK_BYTES);
        this.int8 = int8Activations;
    }

    @Override
    boolean int8Activations() {
        return int8;
    }

    @Override
    boolean interleavedActivations() {
        return true;
    }

    @Override
    public void dequantize(MemorySegment w, long at, int count, float[] out, int off) {
        for (int b = 0; b < count / 32; b++) {
            long o = at + (long) BLOCK_BYTES * b;
            float d = Float.float16ToFloat(w.get(U16, o));
            for (int j = 0; j < 16; j++) {
                int q = w.get(ValueLayout.JAVA_BYTE, o + 2 + j) & 0xFF;
                out[off + 32 * b + j] = ((q & 0xF) - 8) * d;
                out[off + 32 * b + j + 16] = ((q >> 4) - 8) * d;
            }
        }
    }

    @Override
    float dot(MemorySegment w, long at, int cols, float[] x, int xOff, Int8Activations q, int i) {
        return int8 ? dotInt8(w, at, cols / 32, q.q(), i * cols, q.d(), i * q.blocks()) : dotTable(w, at, cols / 32, x, xOff);
    }

    @Override
    void dot4(MemorySegment w, long at, int cols, float[] x, int xOff, Int8Activations q, int i, float[] y, int yAt, int yStride) {
        if (int8) {
            for (int k = 0; k < 4; k++) y[yAt + k * yStride] = dotInt8(w, at, cols / 32, q.q(), (i + k) * cols, q.d(), (i + k) * q.blocks());
        } else {
            dot4Table(w, at, cols / 32, x, xOff, cols, y, yAt, yStride);
        }
    }

    @Override
    void rows4(MemorySegment w, long at, long rowBytes, int cols, float[] x, int xOff, Int8Activations q, float[] y, int yAt) {
        if (int8) super.rows4(w, at, rowBytes, cols, x, xOff, q, y, yAt);
        else rows4Table(w, at, rowBytes, cols / 32, x, xOff, y, yAt);
    }

    /** Four weight rows against one F32 activation row: each 32 values of x are loaded once for the four. */
    private static void rows4Table(MemorySegment w, long at, long rowBytes, int blocks, float[] x, int xOff, float[] y, int yAt) {
        FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
        long a1 = at + rowBytes, a2 = a1 + rowBytes, a3 = a2 + rowBytes;
        for (int b = 0; b < blocks; b++) {
            long o = (long) BLOCK_BYTES * b;
            FloatVector x0 = FloatVector.fromArray(S, x, xOff + 32 * b), x1 = FloatVector.fromArray(S, x, xOff + 32 * b + 16);
            IntVector t0 = (IntVector) ByteVector.fromMemorySegment(B16, w, at + o + 2, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector t1 = (IntVector) ByteVector.fromMemorySegment(B16, w, a1 + o + 2, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector t2 = (IntVector) ByteVector.fromMemorySegment(B16, w, a2 + o + 2, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector t3 = (IntVector) ByteVector.fromMemorySegment(B16, w, a3 + o + 2, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector tab0 = LEVELS.mul(Float.float16ToFloat(w.get(U16, at + o))).reinterpretAsInts(), tab1 = LEVELS.mul(Float.float16ToFloat(w.get(U16, a1 + o))).reinterpretAsInts();
            IntVector tab2 = LEVELS.mul(Float.float16ToFloat(w.get(U16, a2 + o))).reinterpretAsInts(), tab3 = LEVELS.mul(Float.float16ToFloat(w.get(U16, a3 + o))).reinterpretAsInts();
            s0 = t0.lanewise(VectorOperators.LSHR, 4).selectFrom(tab0, tab0).reinterpretAsFloats().fma(x1, t0.selectFrom(tab0, tab0).reinterpretAsFloats().fma(x0, s0));
            s1 = t1.lanewise(VectorOperators.LSHR, 4).selectFrom(tab1, tab1).reinterpretAsFloats().fma(x1, t1.selectFrom(tab1, tab1).reinterpretAsFloats().fma(x0, s1));
            s2 = t2.lanewise(VectorOperators.LSHR, 4).selectFrom(tab2, tab2).reinterpretAsFloats().fma(x1, t2.selectFrom(tab2, tab2).reinterpretAsFloats().fma(x0, s2));
            s3 = t3.lanewise(VectorOperators.LSHR, 4).selectFrom(tab3, tab3).reinterpretAsFloats().fma(x1, t3.selectFrom(tab3, tab3).reinterpretAsFloats().fma(x0, s3));
        }
        y[yAt] = VectorMath.lanesSum(s0);
        y[yAt + 1] = VectorMath.lanesSum(s1);
        y[yAt + 2] = VectorMath.lanesSum(s2);
        y[yAt + 3] = VectorMath.lanesSum(s3);
    }

    private static float dotTable(MemorySegment w, long at, int blocks, float[] x, int xOff) {
        FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
        int b = 0;
        for (; b + 2 <= blocks; b += 2) {
            long o = at + (long) BLOCK_BYTES * b;
            int xb = xOff + 32 * b;
            IntVector t0 = (IntVector) ByteVector.fromMemorySegment(B16, w, o + 2, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector t1 = (IntVector) ByteVector.fromMemorySegment(B16, w, o + BLOCK_BYTES + 2, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            // selectFrom(table, table) indexes 32 entries with the index's low 5 bits: the table twice, so q & 15.
            IntVector table0 = LEVELS.mul(Float.float16ToFloat(w.get(U16, o))).reinterpretAsInts();
            IntVector table1 = LEVELS.mul(Float.float16ToFloat(w.get(U16, o + BLOCK_BYTES))).reinterpretAsInts();
            s0 = t0.selectFrom(table0, table0).reinterpretAsFloats().fma(FloatVector.fromArray(S, x, xb), s0);
            s1 = t0.lanewise(VectorOperators.LSHR, 4).selectFrom(table0, table0).reinterpretAsFloats().fma(FloatVector.fromArray(S, x, xb + 16), s1);
            s2 = t1.selectFrom(table1, table1).reinterpretAsFloats().fma(FloatVector.fromArray(S, x, xb + 32), s2);
            s3 = t1.lanewise(VectorOperators.LSHR, 4).selectFrom(table1, table1).reinterpretAsFloats().fma(FloatVector.fromArray(S, x, xb + 48), s3);
        }
        if (b < blocks) {
            long o = at + (long) BLOCK_BYTES * b;
            int xb = xOff + 32 * b;
            IntVector t0 = (IntVector) ByteVector.fromMemorySegment(B16, w, o + 2, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector table0 = LEVELS.mul(Float.float16ToFloat(w.get(U16, o))).reinterpretAsInts();
            s0 = t0.selectFrom(table0, table0).reinterpretAsFloats().fma(FloatVector.fromArray(S, x, xb), s0);
            s1 = t0.lanewise(VectorOperators.LSHR, 4).selectFrom(table0, table0).reinterpretAsFloats().fma(FloatVector.fromArray(S, x, xb + 16), s1);
        }
        return VectorMath.lanesSum(s0.add(s1).add(s2.add(s3)));
    }

    private static void dot4Table(MemorySegment w, long at, int blocks, float[] x, int xOff, int cols, float[] y, int yAt, int yStride) {
        FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
        for (int b = 0; b < blocks; b++) {
            long o = at + (long) BLOCK_BYTES * b;
            int xb = xOff + 32 * b;
            IntVector t = (IntVector) ByteVector.fromMemorySegment(B16, w, o + 2, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector table = LEVELS.mul(Float.float16ToFloat(w.get(U16, o))).reinterpretAsInts();
            FloatVector lo = t.selectFrom(table, table).reinterpretAsFloats();
            FloatVector hi = t.lanewise(VectorOperators.LSHR, 4).selectFrom(table, table).reinterpretAsFloats();
            s0 = hi.fma(FloatVector.fromArray(S, x, xb + 16), lo.fma(FloatVector.fromArray(S, x, xb), s0));
            s1 = hi.fma(FloatVector.fromArray(S, x, xb + cols + 16), lo.fma(FloatVector.fromArray(S, x, xb + cols), s1));
            s2 = hi.fma(FloatVector.fromArray(S, x, xb + 2 * cols + 16), lo.fma(FloatVector.fromArray(S, x, xb + 2 * cols), s2));
            s3 = hi.fma(FloatVector.fromArray(S, x, xb + 3 * cols + 16), lo.fma(FloatVector.fromArray(S, x, xb + 3 * cols), s3));
        }
        y[yAt] = VectorMath.lanesSum(s0);
        y[yAt + yStride] = VectorMath.lanesSum(s1);
        y[yAt + 2 * yStride] = VectorMath.lanesSum(s2);
        y[yAt + 3 * yStride] = VectorMath.lanesSum(s3);
    }

    /** Against interleaved 8-bit activations: short lane 2k holds nibble value k - 8, lane 2k + 1 value k + 16 - 8. */
    private static float dotInt8(MemorySegment w, long at, int blocks, short[] xq, int xqOff, float[] xd, int xdOff) {
        FloatVector s0 = FloatVector.zero(S), s1 = s0;
        int b = 0;
        for (; b + 2 <= blocks; b += 2) {
            long o = at + (long) BLOCK_BYTES * b;
            IntVector t0 = (IntVector) ByteVector.fromMemorySegment(B16, w, o + 2, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector t1 = (IntVector) ByteVector.fromMemorySegment(B16, w, o + BLOCK_BYTES + 2, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            ShortVector q0 = t0.and(0xF).or(t0.lanewise(VectorOperators.LSHL, 12).and(0xF0000)).reinterpretAsShorts().sub((short) 8);
            ShortVector q1 = t1.and(0xF).or(t1.lanewise(VectorOperators.LSHL, 12).and(0xF0000)).reinterpretAsShorts().sub((short) 8);
            IntVector p0 = q0.mul(ShortVector.fromArray(H, xq, xqOff + 32 * b)).reinterpretAsInts();
            IntVector p1 = q1.mul(ShortVector.fromArray(H, xq, xqOff + 32 * b + 32)).reinterpretAsInts();
            // pairs of 16-bit products summed into int lanes, as in Q8_0Kernel
            p0 = p0.add(p0.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
            p1 = p1.add(p1.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
            s0 = ((FloatVector) p0.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(S, Float.float16ToFloat(w.get(U16, o)) * xd[xdOff + b]), s0);
            s1 = ((FloatVector) p1.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(S, Float.float16ToFloat(w.get(U16, o + BLOCK_BYTES)) * xd[xdOff + b + 1]), s1);
        }
        if (b < blocks) {
            long o = at + (long) BLOCK_BYTES * b;
            IntVector t0 = (IntVector) ByteVector.fromMemorySegment(B16, w, o + 2, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            ShortVector q0 = t0.and(0xF).or(t0.lanewise(VectorOperators.LSHL, 12).and(0xF0000)).reinterpretAsShorts().sub((short) 8);
            IntVector p0 = q0.mul(ShortVector.fromArray(H, xq, xqOff + 32 * b)).reinterpretAsInts();
            p0 = p0.add(p0.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
            s0 = ((FloatVector) p0.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(S, Float.float16ToFloat(w.get(U16, o)) * xd[xdOff + b]), s0);
        }
        return VectorMath.lanesSum(s0.add(s1));
    }
}
