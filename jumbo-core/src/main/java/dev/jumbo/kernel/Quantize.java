package dev.jumbo.kernel;

import java.util.Objects;

/**
 * F32 values encoded as the bytes of GGML's stored types, with GGML's reference rounding
 * ({@code quantize_row_q8_0_ref}, {@code quantize_row_q4_0_ref}, round-to-nearest-even halves), so
 * a file written from these bytes reads back in llama.cpp as the same weights. Counts must be whole
 * blocks (32 values for Q8_0 and Q4_0).
 *
 * <pre>{@code
 * byte[] q = Quantize.q8_0(weights, 0, weights.length);   // 34 bytes per 32 values
 * }</pre>
 */
public final class Quantize {
    private Quantize() {}

    /**
     * Q8_0: per block of 32, {@code d = amax / 127} stored as F16 and {@code q = round(x / d)}
     * (C's {@code roundf}: halves away from zero) computed as {@code x * (1 / d)}, as GGML does.
     */
    public static byte[] q8_0(float[] x, int off, int count) {
        int blocks = blocks(x, off, count);
        byte[] out = new byte[blocks * Q8_0Kernel.BLOCK_BYTES];
        for (int b = 0; b < blocks; b++) {
            int at = off + 32 * b, o = b * Q8_0Kernel.BLOCK_BYTES;
            float amax = 0;
            for (int j = 0; j < 32; j++) {
                float a = Math.abs(x[at + j]);
                amax = amax > a ? amax : a; // C's MAX(amax, a): a NaN is dropped by the next comparison, as in GGML
            }
            float d = amax / 127, id = d != 0 ? 1f / d : 0f;
            putShort(out, o, Float.floatToFloat16(d));
            for (int j = 0; j < 32; j++) out[o + 2 + j] = (byte) roundHalfAway(x[at + j] * id);
        }
        return out;
    }

    /**
     * Q4_0: per block of 32, {@code d = max / -8} where max is the value of largest magnitude (the
     * first one on a tie), and {@code q = min(15, (int) (x / d + 8.5))}, so {@code max} itself is 0
     * and values of the other sign reach 15; value j goes in the low nibble of byte j, value j + 16
     * in its high nibble.
     */
    public static byte[] q4_0(float[] x, int off, int count) {
        int blocks = blocks(x, off, count);
        byte[] out = new byte[blocks * Q4_0Kernel.BLOCK_BYTES];
        for (int b = 0; b < blocks; b++) {
            int at = off + 32 * b, o = b * Q4_0Kernel.BLOCK_BYTES;
            float amax = 0, max = 0;
            for (int j = 0; j < 32; j++) {
                float v = x[at + j];
                if (amax < Math.abs(v)) {
                    amax = Math.abs(v);
                    max = v;
                }
            }
            float d = max / -8, id = d != 0 ? 1f / d : 0f;
            putShort(out, o, Float.floatToFloat16(d));
            for (int j = 0; j < 16; j++) {
                int lo = Math.min(15, (int) (x[at + j] * id + 8.5f));
                int hi = Math.min(15, (int) (x[at + j + 16] * id + 8.5f));
                out[o + 2 + j] = (byte) (lo | hi << 4);
            }
        }
        return out;
    }

    /** IEEE half precision, rounded to nearest even ({@link Float#floatToFloat16}), little-endian. */
    public static byte[] f16(float[] x, int off, int count) {
        Objects.checkFromIndexSize(off, count, x.length);
        byte[] out = new byte[2 * count];
        for (int i = 0; i < count; i++) putShort(out, 2 * i, Float.floatToFloat16(x[off + i]));
        return out;
    }

    /**
     * bfloat16, rounded to nearest even as GGML's {@code ggml_compute_fp32_to_bf16} does (a NaN stays
     * a NaN, made quiet), little-endian.
     */
    public static byte[] bf16(float[] x, int off, int count) {
        Objects.checkFromIndexSize(off, count, x.length);
        byte[] out = new byte[2 * count];
        for (int i = 0; i < count; i++) {
            int u = Float.floatToRawIntBits(x[off + i]);
            int h = (u & 0x7FFFFFFF) > 0x7F800000 ? (u >>> 16) | 64 : (u + 0x7FFF + ((u >>> 16) & 1)) >>> 16;
            putShort(out, 2 * i, (short) h);
        }
        return out;
    }

    /** C's {@code roundf}: to the nearest integer, halves away from zero (exact: the float is widened first). */
    static int roundHalfAway(float v) {
        return (int) Math.copySign(Math.floor(Math.abs((double) v) + 0.5), v);
    }

    private static int blocks(float[] x, int off, int count) {
        Objects.checkFromIndexSize(off, count, x.length);
        if (count % 32 != 0) throw new IllegalArgumentException(count + " values are not a whole number of blocks of 32");
        return count / 32;
    }

    private static void putShort(byte[] out, int at, short v) {
        out[at] = (byte) v;
        out[at + 1] = (byte) (v >> 8);
    }
}
