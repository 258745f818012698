package dev.jumbo.kernel;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * GGML Q6_K weights: 256 values in a 210-byte block,
 * <pre>
 * uint8_t   ql[128];      // low 4 bits
 * uint8_t   qh[64];       // high 2 bits
 * int8_t    scales[16];   // one per 16 values
 * ggml_half d;            // scale of the scales
 * </pre>
 * In each half h (128 values; ql from 64h, qh from 32h, scales from 8h), for l &lt; 32 and
 * {@code s = l / 16}: value l is {@code (ql[l] & 0xF) | (qh[l] & 3) << 4}, value l + 32 is
 * {@code (ql[l + 32] & 0xF) | (qh[l] >> 2 & 3) << 4}, value l + 64 is {@code ql[l] >> 4 | (qh[l] >> 4 & 3) << 4}
 * and value l + 96 is {@code ql[l + 32] >> 4 | (qh[l] >> 6 & 3) << 4}, each minus 32, times
 * {@code d * scales[s]}, {@code [s + 2]}, {@code [s + 4]} and {@code [s + 6]} respectively.
 */
final class Q6KKernel extends WeightKernel {
    static final int BLOCK_BYTES = 210;
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_512;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_512;
    private static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;

    Q6KKernel() {
        super("Q6_K", 256, BLOCK_BYTES);
    }

    @Override
    public void dequantize(MemorySegment w, long at, int count, float[] out, int off) {
        for (int b = 0; b < count / 256; b++) {
            long o = at + (long) BLOCK_BYTES * b;
            float d = f16(w, o + 208);
            for (int h = 0; h < 2; h++) {
                long ql = o + 64 * h, qh = o + 128 + 32 * h, sc = o + 192 + 8 * h;
                int y = off + 256 * b + 128 * h;
                for (int l = 0; l < 32; l++) {
                    int s = l / 16, lo = byteAt(w, ql + l), lo32 = byteAt(w, ql + l + 32), high = byteAt(w, qh + l);
                    out[y + l] = d * w.get(ValueLayout.JAVA_BYTE, sc + s) * (((lo & 0xF) | (high & 3) << 4) - 32);
                    out[y + l + 32] = d * w.get(ValueLayout.JAVA_BYTE, sc + s + 2) * (((lo32 & 0xF) | (high >> 2 & 3) << 4) - 32);
                    out[y + l + 64] = d * w.get(ValueLayout.JAVA_BYTE, sc + s + 4) * ((lo >> 4 | (high >> 4 & 3) << 4) - 32);
                    out[y + l + 96] = d * w.get(ValueLayout.JAVA_BYTE, sc + s + 6) * ((lo32 >> 4 | (high >> 6 & 3) << 4) - 32);
                }
            }
        }
    }

    private static int byteAt(MemorySegment w, long at) {
        return w.get(ValueLayout.JAVA_BYTE, at) & 0xFF;
    }

    @Override
    float dot(MemorySegment w, long at, int cols, float[] x, int xOff, Int8Activations q, int i) {
        FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
        for (int b = 0; b < cols / 256; b++) {
            long o = at + (long) BLOCK_BYTES * b;
            float d = f16(w, o + 208);
            for (int h = 0; h < 2; h++) {
                for (int g = 0; g < 2; g++) {
                    long ql = o + 64 * h + 16 * g, sc = o + 192 + 8 * h + g;
                    IntVector a = (IntVector) ByteVector.fromMemorySegment(B16, w, ql, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                    IntVector c = (IntVector) ByteVector.fromMemorySegment(B16, w, ql + 32, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                    IntVector hb = (IntVector) ByteVector.fromMemorySegment(B16, w, o + 128 + 32 * h + 16 * g, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                    int xb = xOff + 256 * b + 128 * h + 16 * g;
                    s0 = value(a.and(0xF).or(hb.lanewise(VectorOperators.LSHL, 4).and(0x30)), d * w.get(ValueLayout.JAVA_BYTE, sc))
                            .fma(FloatVector.fromArray(S, x, xb), s0);
                    s1 = value(c.and(0xF).or(hb.lanewise(VectorOperators.LSHL, 2).and(0x30)), d * w.get(ValueLayout.JAVA_BYTE, sc + 2))
                            .fma(FloatVector.fromArray(S, x, xb + 32), s1);
                    s2 = value(a.lanewise(VectorOperators.LSHR, 4).or(hb.and(0x30)), d * w.get(ValueLayout.JAVA_BYTE, sc + 4))
                            .fma(FloatVector.fromArray(S, x, xb + 64), s2);
                    s3 = value(c.lanewise(VectorOperators.LSHR, 4).or(hb.lanewise(VectorOperators.LSHR, 2).and(0x30)), d * w.get(ValueLayout.JAVA_BYTE, sc + 6))
                            .fma(FloatVector.fromArray(S, x, xb + 96), s3);
                }
            }
        }
        return VectorMath.lanesSum(s0.add(s1).add(s2.add(s3)));
    }

    /** (q - 32) * scale as F32: the same product the scalar dequantization computes. */
    private static FloatVector value(IntVector q, float scale) {
        return ((FloatVector) q.sub(32).convert(VectorOperators.I2F, 0)).mul(scale);
    }

    @Override
    void dot4(MemorySegment w, long at, int cols, float[] x, int xOff, Int8Activations q, int i, float[] y, int yAt, int yStride) {
        FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
        for (int b = 0; b < cols / 256; b++) {
            long o = at + (long) BLOCK_BYTES * b;
            float d = f16(w, o + 208);
            for (int h = 0; h < 2; h++) {
                for (int g = 0; g < 2; g++) {
                    long ql = o + 64 * h + 16 * g, sc = o + 192 + 8 * h + g;
                    IntVector a = (IntVector) ByteVector.fromMemorySegment(B16, w, ql, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                    IntVector c = (IntVector) ByteVector.fromMemorySegment(B16, w, ql + 32, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                    IntVector hb = (IntVector) ByteVector.fromMemorySegment(B16, w, o + 128 + 32 * h + 16 * g, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                    FloatVector v0 = value(a.and(0xF).or(hb.lanewise(VectorOperators.LSHL, 4).and(0x30)), d * w.get(ValueLayout.JAVA_BYTE, sc));
                    FloatVector v1 = value(c.and(0xF).or(hb.lanewise(VectorOperators.LSHL, 2).and(0x30)), d * w.get(ValueLayout.JAVA_BYTE, sc + 2));
                    FloatVector v2 = value(a.lanewise(VectorOperators.LSHR, 4).or(hb.and(0x30)), d * w.get(ValueLayout.JAVA_BYTE, sc + 4));
                    FloatVector v3 = value(c.lanewise(VectorOperators.LSHR, 4).or(hb.lanewise(VectorOperators.LSHR, 2).and(0x30)), d * w.get(ValueLayout.JAVA_BYTE, sc + 6));
                    int xb = xOff + 256 * b + 128 * h + 16 * g;
                    s0 = fma4(v0, v1, v2, v3, x, xb, s0);
                    s1 = fma4(v0, v1, v2, v3, x, xb + cols, s1);
                    s2 = fma4(v0, v1, v2, v3, x, xb + 2 * cols, s2);
                    s3 = fma4(v0, v1, v2, v3, x, xb + 3 * cols, s3);
                }
            }
        }
        y[yAt] = VectorMath.lanesSum(s0);
        y[yAt + yStride] = VectorMath.lanesSum(s1);
        y[yAt + 2 * yStride] = VectorMath.lanesSum(s2);
        y[yAt + 3 * yStride] = VectorMath.lanesSum(s3);
    }

    /** s + v0 x[at..] + v1 x[at+32..] + v2 x[at+64..] + v3 x[at+96..]: the four quarters a 16-value group feeds. */
    private static FloatVector fma4(FloatVector v0, FloatVector v1, FloatVector v2, FloatVector v3, float[] x, int at, FloatVector s) {
        s = v0.fma(FloatVector.fromArray(S, x, at), s);
        s = v1.fma(FloatVector.fromArray(S, x, at + 32), s);
        s = v2.fma(FloatVector.fromArray(S, x, at + 64), s);
        return v3.fma(FloatVector.fromArray(S, x, at + 96), s);
    }
}
