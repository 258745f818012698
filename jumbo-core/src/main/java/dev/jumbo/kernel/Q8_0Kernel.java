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
 * GGML Q8_0 weights. A block is 34 bytes:
 * <pre>
 * ggml_half d;        // scale
 * int8_t    qs[32];   // value i is qs[i] * d
 * </pre>
 *
 * <p>Two products: against 8-bit activations ({@link Int8Activations}), a block's dot product is 32
 * 16-bit multiplies summed into 8 int lanes, converted once and scaled by {@code d * dx}; against
 * F32 activations, the 32 bytes are converted to floats. On Zen 4 (WeightBandwidth, one thread) the
 * F32 path streams 18-19 GB/s, a core's share of DRAM, while x stays in L1 (up to 3072 columns: 12 KB),
 * and drops to 9-13 GB/s beyond (a float x is 4 bytes per weight byte); the integer path streams
 * 14 GB/s at every width. {@link WeightKernel#Q8_0} therefore takes F32 activations up to 3072
 * columns and 8-bit ones above.
 */
final class Q8_0Kernel extends WeightKernel {
    static final int BLOCK_BYTES = 34;
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_512;
    private static final VectorSpecies<Short> H = ShortVector.SPECIES_512;
    private static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;
    private static final VectorSpecies<Byte> B32 = ByteVector.SPECIES_256;
    private static final VectorSpecies<Short> H16 = ShortVector.SPECIES_256;
    private static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;

    /** Widest rows multiplied against F32 activations by default: x (12 KB) still fits in L1 beside the weight stream. */
    static final int F32_ACTIVATIONS_MAX_COLS = 3072;

    private final int f32MaxCols;

    /** Multiplies 8-bit activations for rows wider than {@code f32MaxCols}, F32 ones up to it. */
    Q8_0Kernel(int f32MaxCols) {
        super(f32MaxCols == Integer.MAX_VALUE ? "Q8_0 (F32 activations)" : f32MaxCols == 0 ? "Q8_0 (8-bit activations)" : "Q8_0", 32, BLOCK_BYTES);
        this.f32MaxCols = f32MaxCols;
    }

    @Override
    boolean int8Activations(int cols) {
        return cols > f32MaxCols;
    }

    @Override
    public void dequantize(MemorySegment w, long at, int count, float[] out, int off) {
        if (WIDE) {
            for (int b = 0; b < count / 32; b++) {
                long o = at + (long) BLOCK_BYTES * b;
                FloatVector d = FloatVector.broadcast(S, Float.float16ToFloat(w.get(U16, o)));
                ((FloatVector) ByteVector.fromMemorySegment(B16, w, o + 2, LE).convertShape(VectorOperators.B2F, S, 0)).mul(d).intoArray(out, off + 32 * b);
                ((FloatVector) ByteVector.fromMemorySegment(B16, w, o + 18, LE).convertShape(VectorOperators.B2F, S, 0)).mul(d).intoArray(out, off + 32 * b + 16);
            }
            return;
        }
        for (int b = 0; b < count / 32; b++) {
            long o = at + (long) BLOCK_BYTES * b;
            float d = Float.float16ToFloat(w.get(U16, o));
            for (int j = 0; j < 32; j++) out[off + 32 * b + j] = w.get(ValueLayout.JAVA_BYTE, o + 2 + j) * d;
        }
    }

    @Override
    float dot(MemorySegment w, long at, int cols, float[] x, int xOff, Int8Activations q, int i) {
        return q != null ? dotInt8(w, at, cols / 32, q.q(), i * cols, q.d(), i * q.blocks()) : dotF32(w, at, cols / 32, x, xOff);
    }

    @Override
    void dot4(MemorySegment w, long at, int cols, float[] x, int xOff, Int8Activations q, int i, float[] y, int yAt, int yStride) {
        if (q != null) dot4Int8(w, at, cols / 32, q.q(), i * cols, q.d(), i * q.blocks(), y, yAt, yStride);
        else dot4F32(w, at, cols / 32, x, xOff, cols, y, yAt, yStride);
    }

    /**
     * In 256-bit vectors: each half block (16 bytes) widens to 16 shorts and multiplies 16 shorts of
     * x; the two halves' products (|p| &lt;= 128 * 127) are added in 16 bits, then each int lane takes
     * the sum of its two 16-bit halves, and the 8 int sums are scaled once per block. Zen 4 runs two
     * 256-bit operations for each 512-bit one, so this is fewer cycles than one 512-bit multiply and
     * widening per block.
     */
    private static float dotInt8(MemorySegment w, long at, int blocks, short[] xq, int xqOff, float[] xd, int xdOff) {
        FloatVector s0 = FloatVector.zero(F8), s1 = s0;
        int b = 0;
        for (; b + 2 <= blocks; b += 2) {
            long o = at + (long) BLOCK_BYTES * b;
            int xb = xqOff + 32 * b;
            IntVector p0 = ((ShortVector) ByteVector.fromMemorySegment(B16, w, o + 2, LE).convertShape(VectorOperators.B2S, H16, 0))
                    .mul(ShortVector.fromArray(H16, xq, xb))
                    .add(((ShortVector) ByteVector.fromMemorySegment(B16, w, o + 18, LE).convertShape(VectorOperators.B2S, H16, 0))
                            .mul(ShortVector.fromArray(H16, xq, xb + 16))).reinterpretAsInts();
            IntVector p1 = ((ShortVector) ByteVector.fromMemorySegment(B16, w, o + BLOCK_BYTES + 2, LE).convertShape(VectorOperators.B2S, H16, 0))
                    .mul(ShortVector.fromArray(H16, xq, xb + 32))
                    .add(((ShortVector) ByteVector.fromMemorySegment(B16, w, o + BLOCK_BYTES + 18, LE).convertShape(VectorOperators.B2S, H16, 0))
                            .mul(ShortVector.fromArray(H16, xq, xb + 48))).reinterpretAsInts();
            // an int lane holds two 16-bit sums: low (sign-extended by shifting up and back) plus high
            p0 = p0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(p0.lanewise(VectorOperators.ASHR, 16));
            p1 = p1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(p1.lanewise(VectorOperators.ASHR, 16));
            s0 = ((FloatVector) p0.convert(VectorOperators.I2F, 0))
                    .fma(FloatVector.broadcast(F8, Float.float16ToFloat(w.get(U16, o)) * xd[xdOff + b]), s0);
            s1 = ((FloatVector) p1.convert(VectorOperators.I2F, 0))
                    .fma(FloatVector.broadcast(F8, Float.float16ToFloat(w.get(U16, o + BLOCK_BYTES)) * xd[xdOff + b + 1]), s1);
        }
        if (b < blocks) {
            long o = at + (long) BLOCK_BYTES * b;
            int xb = xqOff + 32 * b;
            IntVector p0 = ((ShortVector) ByteVector.fromMemorySegment(B16, w, o + 2, LE).convertShape(VectorOperators.B2S, H16, 0))
                    .mul(ShortVector.fromArray(H16, xq, xb))
                    .add(((ShortVector) ByteVector.fromMemorySegment(B16, w, o + 18, LE).convertShape(VectorOperators.B2S, H16, 0))
                            .mul(ShortVector.fromArray(H16, xq, xb + 16))).reinterpretAsInts();
            p0 = p0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(p0.lanewise(VectorOperators.ASHR, 16));
            s0 = ((FloatVector) p0.convert(VectorOperators.I2F, 0))
                    .fma(FloatVector.broadcast(F8, Float.float16ToFloat(w.get(U16, o)) * xd[xdOff + b]), s0);
        }
        return Q4_0Kernel.lanesSum8(s0.add(s1));
    }

    private static void dot4Int8(MemorySegment w, long at, int blocks, short[] xq, int xqOff, float[] xd, int xdOff,
                                 float[] y, int yAt, int yStride) {
        int cols = 32 * blocks;
        FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
        for (int b = 0; b < blocks; b++) {
            long o = at + (long) BLOCK_BYTES * b;
            float d = Float.float16ToFloat(w.get(U16, o));
            ShortVector wq = (ShortVector) ByteVector.fromMemorySegment(B32, w, o + 2, LE).convertShape(VectorOperators.B2S, H, 0);
            int xb = xqOff + 32 * b, db = xdOff + b;
            IntVector p0 = wq.mul(ShortVector.fromArray(H, xq, xb)).reinterpretAsInts();
            IntVector p1 = wq.mul(ShortVector.fromArray(H, xq, xb + cols)).reinterpretAsInts();
            IntVector p2 = wq.mul(ShortVector.fromArray(H, xq, xb + 2 * cols)).reinterpretAsInts();
            IntVector p3 = wq.mul(ShortVector.fromArray(H, xq, xb + 3 * cols)).reinterpretAsInts();
            p0 = p0.add(p0.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
            p1 = p1.add(p1.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
            p2 = p2.add(p2.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
            p3 = p3.add(p3.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
            s0 = ((FloatVector) p0.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(S, d * xd[db]), s0);
            s1 = ((FloatVector) p1.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(S, d * xd[db + blocks]), s1);
            s2 = ((FloatVector) p2.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(S, d * xd[db + 2 * blocks]), s2);
            s3 = ((FloatVector) p3.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(S, d * xd[db + 3 * blocks]), s3);
        }
        y[yAt] = VectorMath.lanesSum(s0);
        y[yAt + yStride] = VectorMath.lanesSum(s1);
        y[yAt + 2 * yStride] = VectorMath.lanesSum(s2);
        y[yAt + 3 * yStride] = VectorMath.lanesSum(s3);
    }

    private static float dotF32(MemorySegment w, long at, int blocks, float[] x, int xOff) {
        FloatVector s0 = FloatVector.zero(S), s1 = s0;
        int b = 0;
        for (; b + 2 <= blocks; b += 2) {
            long o = at + (long) BLOCK_BYTES * b;
            int xb = xOff + 32 * b;
            FloatVector q0 = (FloatVector) ByteVector.fromMemorySegment(B16, w, o + 2, LE).convertShape(VectorOperators.B2F, S, 0);
            FloatVector q1 = (FloatVector) ByteVector.fromMemorySegment(B16, w, o + 18, LE).convertShape(VectorOperators.B2F, S, 0);
            FloatVector q2 = (FloatVector) ByteVector.fromMemorySegment(B16, w, o + BLOCK_BYTES + 2, LE).convertShape(VectorOperators.B2F, S, 0);
            FloatVector q3 = (FloatVector) ByteVector.fromMemorySegment(B16, w, o + BLOCK_BYTES + 18, LE).convertShape(VectorOperators.B2F, S, 0);
            FloatVector t0 = q1.fma(FloatVector.fromArray(S, x, xb + 16), q0.mul(FloatVector.fromArray(S, x, xb)));
            FloatVector t1 = q3.fma(FloatVector.fromArray(S, x, xb + 48), q2.mul(FloatVector.fromArray(S, x, xb + 32)));
            s0 = t0.fma(FloatVector.broadcast(S, Float.float16ToFloat(w.get(U16, o))), s0);
            s1 = t1.fma(FloatVector.broadcast(S, Float.float16ToFloat(w.get(U16, o + BLOCK_BYTES))), s1);
        }
        if (b < blocks) {
            long o = at + (long) BLOCK_BYTES * b;
            int xb = xOff + 32 * b;
            FloatVector q0 = (FloatVector) ByteVector.fromMemorySegment(B16, w, o + 2, LE).convertShape(VectorOperators.B2F, S, 0);
            FloatVector q1 = (FloatVector) ByteVector.fromMemorySegment(B16, w, o + 18, LE).convertShape(VectorOperators.B2F, S, 0);
            FloatVector t0 = q1.fma(FloatVector.fromArray(S, x, xb + 16), q0.mul(FloatVector.fromArray(S, x, xb)));
            s0 = t0.fma(FloatVector.broadcast(S, Float.float16ToFloat(w.get(U16, o))), s0);
        }
        return VectorMath.lanesSum(s0.add(s1));
    }

    private static void dot4F32(MemorySegment w, long at, int blocks, float[] x, int xOff, int cols, float[] y, int yAt, int yStride) {
        FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
        for (int b = 0; b < blocks; b++) {
            long o = at + (long) BLOCK_BYTES * b;
            FloatVector d = FloatVector.broadcast(S, Float.float16ToFloat(w.get(U16, o)));
            FloatVector q0 = ((FloatVector) ByteVector.fromMemorySegment(B16, w, o + 2, LE).convertShape(VectorOperators.B2F, S, 0)).mul(d);
            FloatVector q1 = ((FloatVector) ByteVector.fromMemorySegment(B16, w, o + 18, LE).convertShape(VectorOperators.B2F, S, 0)).mul(d);
            int xb = xOff + 32 * b;
            s0 = q1.fma(FloatVector.fromArray(S, x, xb + 16), q0.fma(FloatVector.fromArray(S, x, xb), s0));
            s1 = q1.fma(FloatVector.fromArray(S, x, xb + cols + 16), q0.fma(FloatVector.fromArray(S, x, xb + cols), s1));
            s2 = q1.fma(FloatVector.fromArray(S, x, xb + 2 * cols + 16), q0.fma(FloatVector.fromArray(S, x, xb + 2 * cols), s2));
            s3 = q1.fma(FloatVector.fromArray(S, x, xb + 3 * cols + 16), q0.fma(FloatVector.fromArray(S, x, xb + 3 * cols), s3));
        }
        y[yAt] = VectorMath.lanesSum(s0);
        y[yAt + yStride] = VectorMath.lanesSum(s1);
        y[yAt + 2 * yStride] = VectorMath.lanesSum(s2);
        y[yAt + 3 * yStride] = VectorMath.lanesSum(s3);
    }
}
