package dev.jumbo.kernel;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * F16 and BF16 weights, widened to F32 sixteen at a time in registers.
 *
 * <p>The Vector API has no half-float conversion, so F16 is converted with integer operations: the
 * 15 low bits shifted into an F32's exponent and mantissa and multiplied by 2^112 re-bias the
 * exponent (and turn subnormals into normals exactly); infinities and NaNs then get the all-ones
 * exponent back. That measured 4x faster than {@link Float#float16ToFloat} one value at a time.
 * BF16 is the top half of an F32: a shift.
 */
final class HalfKernel extends WeightKernel {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_512;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_512;
    private static final VectorSpecies<Short> H = ShortVector.SPECIES_256;
    private static final float REBIAS = 0x1p112f;
    /** The smallest F32 that an F16 with the all-ones exponent turns into after the re-bias. */
    private static final float F16_INF_REBIASED = 65536f;

    private final boolean bf16;

    HalfKernel(boolean bf16) {
        super(bf16 ? "BF16" : "F16", 1, 2);
        this.bf16 = bf16;
    }

    @Override
    public void dequantize(MemorySegment w, long at, int count, float[] out, int off) {
        for (int i = 0; i < count; i++) out[off + i] = value(bf16, w, at + 2L * i);
    }

    @Override
    float dot(MemorySegment w, long at, int cols, float[] x, int xOff, Int8Activations q, int i) {
        return bf16 ? dotBf16(w, at, cols, x, xOff) : dotF16(w, at, cols, x, xOff);
    }

    @Override
    void dot4(MemorySegment w, long at, int cols, float[] x, int xOff, Int8Activations q, int i, float[] y, int yAt, int yStride) {
        if (bf16) dot4Bf16(w, at, cols, x, xOff, y, yAt, yStride);
        else dot4F16(w, at, cols, x, xOff, y, yAt, yStride);
    }

    private static float value(boolean bf16, MemorySegment w, long at) {
        short h = w.get(U16, at);
        return bf16 ? Float.intBitsToFloat(h << 16) : Float.float16ToFloat(h);
    }

    // The conversions are written out in each loop rather than in a helper: a helper returning a
    // vector that C2 declines to inline (it does so readily in large methods) boxes every vector.

    private static float dotF16(MemorySegment w, long at, int cols, float[] x, int xOff) {
        FloatVector s0 = FloatVector.zero(S);
        int c = 0;
        for (; c + 16 <= cols; c += 16) {
            IntVector h = (IntVector) ShortVector.fromMemorySegment(H, w, at + 2L * c, LE).convertShape(VectorOperators.S2I, I, 0);
            // h is sign-extended: after the shift bits 28..31 all hold the sign; keep bit 31, clear 28..30.
            FloatVector f = h.lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000).reinterpretAsFloats().mul(REBIAS);
            f = f.blend(f.reinterpretAsInts().or(0x7F800000).reinterpretAsFloats(), f.abs().compare(VectorOperators.GE, F16_INF_REBIASED));
            s0 = f.fma(FloatVector.fromArray(S, x, xOff + c), s0);
        }
        float s = VectorMath.lanesSum(s0);
        for (; c < cols; c++) s += value(false, w, at + 2L * c) * x[xOff + c];
        return s;
    }

    private static float dotBf16(MemorySegment w, long at, int cols, float[] x, int xOff) {
        FloatVector s0 = FloatVector.zero(S);
        int c = 0;
        for (; c + 16 <= cols; c += 16) {
            IntVector h = (IntVector) ShortVector.fromMemorySegment(H, w, at + 2L * c, LE).convertShape(VectorOperators.S2I, I, 0);
            s0 = h.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(S, x, xOff + c), s0);
        }
        float s = VectorMath.lanesSum(s0);
        for (; c < cols; c++) s += value(true, w, at + 2L * c) * x[xOff + c];
        return s;
    }

    /** Row · x_k for four activation rows {@code cols} apart, each weight vector converted once. */
    private static void dot4F16(MemorySegment w, long at, int cols, float[] x, int xOff, float[] y, int yAt, int yStride) {
        FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
        int c = 0;
        for (; c + 16 <= cols; c += 16) {
            IntVector h = (IntVector) ShortVector.fromMemorySegment(H, w, at + 2L * c, LE).convertShape(VectorOperators.S2I, I, 0);
            FloatVector v = h.lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000).reinterpretAsFloats().mul(REBIAS);
            v = v.blend(v.reinterpretAsInts().or(0x7F800000).reinterpretAsFloats(), v.abs().compare(VectorOperators.GE, F16_INF_REBIASED));
            s0 = v.fma(FloatVector.fromArray(S, x, xOff + c), s0);
            s1 = v.fma(FloatVector.fromArray(S, x, xOff + cols + c), s1);
            s2 = v.fma(FloatVector.fromArray(S, x, xOff + 2 * cols + c), s2);
            s3 = v.fma(FloatVector.fromArray(S, x, xOff + 3 * cols + c), s3);
        }
        finish4(false, w, at, c, cols, x, xOff, VectorMath.lanesSum(s0), VectorMath.lanesSum(s1), VectorMath.lanesSum(s2), VectorMath.lanesSum(s3), y, yAt, yStride);
    }

    private static void dot4Bf16(MemorySegment w, long at, int cols, float[] x, int xOff, float[] y, int yAt, int yStride) {
        FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
        int c = 0;
        for (; c + 16 <= cols; c += 16) {
            IntVector h = (IntVector) ShortVector.fromMemorySegment(H, w, at + 2L * c, LE).convertShape(VectorOperators.S2I, I, 0);
            FloatVector v = h.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            s0 = v.fma(FloatVector.fromArray(S, x, xOff + c), s0);
            s1 = v.fma(FloatVector.fromArray(S, x, xOff + cols + c), s1);
            s2 = v.fma(FloatVector.fromArray(S, x, xOff + 2 * cols + c), s2);
            s3 = v.fma(FloatVector.fromArray(S, x, xOff + 3 * cols + c), s3);
        }
        finish4(true, w, at, c, cols, x, xOff, VectorMath.lanesSum(s0), VectorMath.lanesSum(s1), VectorMath.lanesSum(s2), VectorMath.lanesSum(s3), y, yAt, yStride);
    }

    /** Adds the scalar tail from column c on to the four sums and stores them. */
    private static void finish4(boolean bf16, MemorySegment w, long at, int c, int cols, float[] x, int xOff,
                                float t0, float t1, float t2, float t3, float[] y, int yAt, int yStride) {
        for (; c < cols; c++) {
            float v = value(bf16, w, at + 2L * c);
            t0 += v * x[xOff + c];
            t1 += v * x[xOff + cols + c];
            t2 += v * x[xOff + 2 * cols + c];
            t3 += v * x[xOff + 3 * cols + c];
        }
        y[yAt] = t0;
        y[yAt + yStride] = t1;
        y[yAt + 2 * yStride] = t2;
        y[yAt + 3 * yStride] = t3;
    }
}
