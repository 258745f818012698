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
            float d = Float.float16ToFloat(w.get(U16, o + 208));
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

    // The loops run over 16-value groups (h, g): three 16-byte loads feed four groups of 16 values,
    // the quarters l, l + 32, l + 64, l + 96 of a half block; the products are written out in the
    // loop (see Q4KKernel for why there are no vector helpers).

    @Override
    float dot(MemorySegment w, long at, int cols, float[] x, int xOff, Int8Activations q, int i) {
        FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
        for (int k = 0; k < cols / 64; k++) {
            long o = at + (long) BLOCK_BYTES * (k >> 2);
            int h = (k >> 1) & 1, g = k & 1;
            long ql = o + 64 * h + 16 * g, sc = o + 192 + 8 * h + g;
            float d = Float.float16ToFloat(w.get(U16, o + 208));
            IntVector a = (IntVector) ByteVector.fromMemorySegment(B16, w, ql, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector c = (IntVector) ByteVector.fromMemorySegment(B16, w, ql + 32, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector hb = (IntVector) ByteVector.fromMemorySegment(B16, w, o + 128 + 32 * h + 16 * g, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector q0 = a.and(0xF).or(hb.lanewise(VectorOperators.LSHL, 4).and(0x30)).sub(32);
            IntVector q1 = c.and(0xF).or(hb.lanewise(VectorOperators.LSHL, 2).and(0x30)).sub(32);
            IntVector q2 = a.lanewise(VectorOperators.LSHR, 4).or(hb.and(0x30)).sub(32);
            IntVector q3 = c.lanewise(VectorOperators.LSHR, 4).or(hb.lanewise(VectorOperators.LSHR, 2).and(0x30)).sub(32);
            int xb = xOff + 256 * (k >> 2) + 128 * h + 16 * g;
            // (q - 32) * (d * scale), the product the scalar dequantization computes
            s0 = ((FloatVector) q0.convert(VectorOperators.I2F, 0)).mul(d * w.get(ValueLayout.JAVA_BYTE, sc)).fma(FloatVector.fromArray(S, x, xb), s0);
            s1 = ((FloatVector) q1.convert(VectorOperators.I2F, 0)).mul(d * w.get(ValueLayout.JAVA_BYTE, sc + 2)).fma(FloatVector.fromArray(S, x, xb + 32), s1);
            s2 = ((FloatVector) q2.convert(VectorOperators.I2F, 0)).mul(d * w.get(ValueLayout.JAVA_BYTE, sc + 4)).fma(FloatVector.fromArray(S, x, xb + 64), s2);
            s3 = ((FloatVector) q3.convert(VectorOperators.I2F, 0)).mul(d * w.get(ValueLayout.JAVA_BYTE, sc + 6)).fma(FloatVector.fromArray(S, x, xb + 96), s3);
        }
        return VectorMath.lanesSum(s0.add(s1).add(s2.add(s3)));
    }

    @Override
    void dot4(MemorySegment w, long at, int cols, float[] x, int xOff, Int8Activations q, int i, float[] y, int yAt, int yStride) {
        FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
        for (int k = 0; k < cols / 64; k++) {
            long o = at + (long) BLOCK_BYTES * (k >> 2);
            int h = (k >> 1) & 1, g = k & 1;
            long ql = o + 64 * h + 16 * g, sc = o + 192 + 8 * h + g;
            float d = Float.float16ToFloat(w.get(U16, o + 208));
            IntVector a = (IntVector) ByteVector.fromMemorySegment(B16, w, ql, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector c = (IntVector) ByteVector.fromMemorySegment(B16, w, ql + 32, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector hb = (IntVector) ByteVector.fromMemorySegment(B16, w, o + 128 + 32 * h + 16 * g, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            FloatVector v0 = ((FloatVector) a.and(0xF).or(hb.lanewise(VectorOperators.LSHL, 4).and(0x30)).sub(32).convert(VectorOperators.I2F, 0))
                    .mul(d * w.get(ValueLayout.JAVA_BYTE, sc));
            FloatVector v1 = ((FloatVector) c.and(0xF).or(hb.lanewise(VectorOperators.LSHL, 2).and(0x30)).sub(32).convert(VectorOperators.I2F, 0))
                    .mul(d * w.get(ValueLayout.JAVA_BYTE, sc + 2));
            FloatVector v2 = ((FloatVector) a.lanewise(VectorOperators.LSHR, 4).or(hb.and(0x30)).sub(32).convert(VectorOperators.I2F, 0))
                    .mul(d * w.get(ValueLayout.JAVA_BYTE, sc + 4));
            FloatVector v3 = ((FloatVector) c.lanewise(VectorOperators.LSHR, 4).or(hb.lanewise(VectorOperators.LSHR, 2).and(0x30)).sub(32).convert(VectorOperators.I2F, 0))
                    .mul(d * w.get(ValueLayout.JAVA_BYTE, sc + 6));
            int x0 = xOff + 256 * (k >> 2) + 128 * h + 16 * g, x1 = x0 + cols, x2 = x1 + cols, x3 = x2 + cols;
            s0 = v3.fma(FloatVector.fromArray(S, x, x0 + 96), v2.fma(FloatVector.fromArray(S, x, x0 + 64),
                    v1.fma(FloatVector.fromArray(S, x, x0 + 32), v0.fma(FloatVector.fromArray(S, x, x0), s0))));
            s1 = v3.fma(FloatVector.fromArray(S, x, x1 + 96), v2.fma(FloatVector.fromArray(S, x, x1 + 64),
                    v1.fma(FloatVector.fromArray(S, x, x1 + 32), v0.fma(FloatVector.fromArray(S, x, x1), s1))));
            s2 = v3.fma(FloatVector.fromArray(S, x, x2 + 96), v2.fma(FloatVector.fromArray(S, x, x2 + 64),
                    v1.fma(FloatVector.fromArray(S, x, x2 + 32), v0.fma(FloatVector.fromArray(S, x, x2), s2))));
            s3 = v3.fma(FloatVector.fromArray(S, x, x3 + 96), v2.fma(FloatVector.fromArray(S, x, x3 + 64),
                    v1.fma(FloatVector.fromArray(S, x, x3 + 32), v0.fma(FloatVector.fromArray(S, x, x3), s3))));
        }
        y[yAt] = VectorMath.lanesSum(s0);
        y[yAt + yStride] = VectorMath.lanesSum(s1);
        y[yAt + 2 * yStride] = VectorMath.lanesSum(s2);
        y[yAt + 3 * yStride] = VectorMath.lanesSum(s3);
    }
}
