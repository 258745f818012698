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
 * <p>The default product multiplies activations quantized to 8 bits ({@link Int8Activations}) with
 * 16-bit products in 256-bit vectors ({@link #dotInt8}). The alternative looks the nibbles up in a
 * 16-entry table of {@code (q - 8) * d} (one two-source permute per 16 values gives finished F32
 * weights) and multiplies F32 activations; on Zen 4 it measured 1.15-1.45x slower (its 512-bit
 * permutes and widenings are the bottleneck, and a float x is twice the bytes of an 8-bit one).
 */
final class Q4_0Kernel extends WeightKernel {
    static final int BLOCK_BYTES = 18;
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_512;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_512;
    private static final VectorSpecies<Short> H16 = ShortVector.SPECIES_256;
    private static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;
    private static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;
    /** q - 8 for q = 0..15: multiplied by d, the block's 16 possible values. */
    private static final FloatVector LEVELS = FloatVector.fromArray(S, new float[] {-8, -7, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7}, 0);

    private final boolean int8;

    Q4_0Kernel(boolean int8Activations) {
        super(int8Activations ? "Q4_0" : "Q4_0 (F32 activations)", 32, BLOCK_BYTES);
        this.int8 = int8Activations;
    }

    @Override
    boolean int8Activations(int cols) {
        return int8;
    }

    @Override
    public void dequantize(MemorySegment w, long at, int count, float[] out, int off) {
        if (WIDE) {
            // the same products as below: q - 8 is exact in F32, times d rounded once
            for (int b = 0; b < count / 32; b++) {
                long o = at + (long) BLOCK_BYTES * b;
                FloatVector d = FloatVector.broadcast(S, Float.float16ToFloat(w.get(U16, o)));
                IntVector t = (IntVector) ByteVector.fromMemorySegment(B16, w, o + 2, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                ((FloatVector) t.and(0xF).sub(8).convert(VectorOperators.I2F, 0)).mul(d).intoArray(out, off + 32 * b);
                ((FloatVector) t.lanewise(VectorOperators.LSHR, 4).sub(8).convert(VectorOperators.I2F, 0)).mul(d).intoArray(out, off + 32 * b + 16);
            }
            return;
        }
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
        return int8 ? dotInt8(w, at, cols / 32, q.q4(), i * cols, q.d(), i * q.blocks()) : dotTable(w, at, cols / 32, x, xOff);
    }

    @Override
    void dot4(MemorySegment w, long at, int cols, float[] x, int xOff, Int8Activations q, int i, float[] y, int yAt, int yStride) {
        if (int8) dot4Int8(w, at, cols / 32, q.q(), i * cols, q.d(), i * q.blocks(), y, yAt, yStride);
        else dot4Table(w, at, cols / 32, x, xOff, cols, y, yAt, yStride);
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

    /** {@link #dotInt8} for four activation rows, each block's nibbles widened once for the four. */
    private static void dot4Int8(MemorySegment w, long at, int blocks, short[] xq, int xqOff, float[] xd, int xdOff,
                                 float[] y, int yAt, int yStride) {
        int cols = 32 * blocks;
        FloatVector s0 = FloatVector.zero(F8), s1 = s0, s2 = s0, s3 = s0;
        for (int b = 0; b < blocks; b++) {
            long o = at + (long) BLOCK_BYTES * b;
            float d = Float.float16ToFloat(w.get(U16, o));
            ShortVector t = (ShortVector) ByteVector.fromMemorySegment(B16, w, o + 2, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, H16, 0);
            ShortVector lo = t.and((short) 0xF).sub((short) 8), hi = t.lanewise(VectorOperators.LSHR, 4).sub((short) 8);
            int x0 = xqOff + 32 * b, x1 = x0 + cols, x2 = x1 + cols, x3 = x2 + cols, db = xdOff + b;
            IntVector p0 = lo.mul(ShortVector.fromArray(H16, xq, x0)).add(hi.mul(ShortVector.fromArray(H16, xq, x0 + 16))).reinterpretAsInts();
            IntVector p1 = lo.mul(ShortVector.fromArray(H16, xq, x1)).add(hi.mul(ShortVector.fromArray(H16, xq, x1 + 16))).reinterpretAsInts();
            IntVector p2 = lo.mul(ShortVector.fromArray(H16, xq, x2)).add(hi.mul(ShortVector.fromArray(H16, xq, x2 + 16))).reinterpretAsInts();
            IntVector p3 = lo.mul(ShortVector.fromArray(H16, xq, x3)).add(hi.mul(ShortVector.fromArray(H16, xq, x3 + 16))).reinterpretAsInts();
            p0 = p0.add(p0.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
            p1 = p1.add(p1.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
            p2 = p2.add(p2.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
            p3 = p3.add(p3.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
            s0 = ((FloatVector) p0.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F8, d * xd[db]), s0);
            s1 = ((FloatVector) p1.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F8, d * xd[db + blocks]), s1);
            s2 = ((FloatVector) p2.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F8, d * xd[db + 2 * blocks]), s2);
            s3 = ((FloatVector) p3.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F8, d * xd[db + 3 * blocks]), s3);
        }
        y[yAt] = lanesSum8(s0);
        y[yAt + yStride] = lanesSum8(s1);
        y[yAt + 2 * yStride] = lanesSum8(s2);
        y[yAt + 3 * yStride] = lanesSum8(s3);
    }

    /** The 8 lanes of a 256-bit vector added by halving, in a fixed order (called after the loops). */
    static float lanesSum8(FloatVector s) {
        FloatVector q = ((FloatVector) s.reinterpretShape(FloatVector.SPECIES_128, 0)).add((FloatVector) s.reinterpretShape(FloatVector.SPECIES_128, 1));
        FloatVector r = ((FloatVector) q.reinterpretShape(FloatVector.SPECIES_64, 0)).add((FloatVector) q.reinterpretShape(FloatVector.SPECIES_64, 1));
        return r.lane(0) + r.lane(1);
    }

    /**
     * Against 8-bit activations, in 256-bit vectors. A block's 16 bytes, their top bits flipped and
     * sign-extended to 16 shorts, are {@code s = 16 h + l} with {@code h = s >> 4} the high
     * nibble less 8 and {@code l} the low nibble; so {@code (l - 8) x0 + h x1 = (s - 8) x0 + h (x1 - 16 x0)},
     * where {@code x1 - 16 x0} comes ready in {@link Int8Activations#q4}. The 16-bit products may wrap,
     * their sums (|.| &lt;= 2 * 1016 per lane) do not; they are summed in pairs into 8 int lanes and
     * scaled once per block. Zen 4 runs two 256-bit operations for each 512-bit one, and this needs no
     * lane shuffling.
     */
    private static float dotInt8(MemorySegment w, long at, int blocks, short[] xq, int xqOff, float[] xd, int xdOff) {
        FloatVector s0 = FloatVector.zero(F8), s1 = s0;
        int b = 0;
        for (; b + 2 <= blocks; b += 2) {
            long o = at + (long) BLOCK_BYTES * b;
            int xb = xqOff + 32 * b;
            ShortVector t0 = (ShortVector) ByteVector.fromMemorySegment(B16, w, o + 2, LE).lanewise(VectorOperators.XOR, (byte) 0x80)
                    .convertShape(VectorOperators.B2S, H16, 0);
            ShortVector t1 = (ShortVector) ByteVector.fromMemorySegment(B16, w, o + BLOCK_BYTES + 2, LE).lanewise(VectorOperators.XOR, (byte) 0x80)
                    .convertShape(VectorOperators.B2S, H16, 0);
            IntVector p0 = t0.sub((short) 8).mul(ShortVector.fromArray(H16, xq, xb))
                    .add(t0.lanewise(VectorOperators.ASHR, 4).mul(ShortVector.fromArray(H16, xq, xb + 16))).reinterpretAsInts();
            IntVector p1 = t1.sub((short) 8).mul(ShortVector.fromArray(H16, xq, xb + 32))
                    .add(t1.lanewise(VectorOperators.ASHR, 4).mul(ShortVector.fromArray(H16, xq, xb + 48))).reinterpretAsInts();
            // pairs of 16-bit sums into int lanes, as in Q8_0Kernel (|sum| <= 4 * 1016 fits in 16 bits)
            p0 = p0.add(p0.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
            p1 = p1.add(p1.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
            s0 = ((FloatVector) p0.convert(VectorOperators.I2F, 0))
                    .fma(FloatVector.broadcast(F8, Float.float16ToFloat(w.get(U16, o)) * xd[xdOff + b]), s0);
            s1 = ((FloatVector) p1.convert(VectorOperators.I2F, 0))
                    .fma(FloatVector.broadcast(F8, Float.float16ToFloat(w.get(U16, o + BLOCK_BYTES)) * xd[xdOff + b + 1]), s1);
        }
        if (b < blocks) {
            long o = at + (long) BLOCK_BYTES * b;
            int xb = xqOff + 32 * b;
            ShortVector t0 = (ShortVector) ByteVector.fromMemorySegment(B16, w, o + 2, LE).lanewise(VectorOperators.XOR, (byte) 0x80)
                    .convertShape(VectorOperators.B2S, H16, 0);
            IntVector p0 = t0.sub((short) 8).mul(ShortVector.fromArray(H16, xq, xb))
                    .add(t0.lanewise(VectorOperators.ASHR, 4).mul(ShortVector.fromArray(H16, xq, xb + 16))).reinterpretAsInts();
            p0 = p0.add(p0.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
            s0 = ((FloatVector) p0.convert(VectorOperators.I2F, 0))
                    .fma(FloatVector.broadcast(F8, Float.float16ToFloat(w.get(U16, o)) * xd[xdOff + b]), s0);
        }
        return lanesSum8(s0.add(s1));
    }
}
