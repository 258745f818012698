package dev.jumbo.kernel;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;

/**
 * Random weights in each stored format, and a decoder for each written straight from GGML's
 * layout description (one value at a time, by index arithmetic), independent of the kernels' loops.
 */
final class QuantBlocks {
    private QuantBlocks() {}

    /** Every format the kernels handle, by name: element count per block and bytes per block. */
    enum Format {
        F32(1, 4), F16(1, 2), BF16(1, 2), Q8_0(32, 34), Q4_0(32, 18), Q4_K(256, 144), Q6_K(256, 210);

        final int block, bytes;

        Format(int block, int bytes) {
            this.block = block;
            this.bytes = bytes;
        }

        WeightKernel kernel() {
            return switch (this) {
                case F32 -> WeightKernel.F32;
                case F16 -> WeightKernel.F16;
                case BF16 -> WeightKernel.BF16;
                case Q8_0 -> WeightKernel.Q8_0;
                case Q4_0 -> WeightKernel.Q4_0;
                case Q4_K -> WeightKernel.Q4_K;
                case Q6_K -> WeightKernel.Q6_K;
            };
        }
    }

    /** A finite F16 between -1 and 1 (scales) or over the whole finite range including subnormals ({@code wide}). */
    static short finiteHalf(Random random, boolean wide) {
        if (!wide) return Float.floatToFloat16((random.nextFloat() * 2 - 1) * (random.nextBoolean() ? 1 : 0.01f));
        while (true) {
            short h = (short) random.nextInt();
            if ((h & 0x7C00) != 0x7C00) return h;
        }
    }

    /** Random bytes for {@code count} values (whole blocks): random quantized fields, finite F16 scales, finite F16/BF16/F32 values. */
    static byte[] random(Random random, Format f, int count) {
        byte[] bytes = new byte[count / f.block * f.bytes];
        random.nextBytes(bytes);
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        for (int at = 0; at < bytes.length; at += f.bytes) {
            switch (f) {
                case F32 -> b.putFloat(at, (float) random.nextGaussian());
                case F16 -> b.putShort(at, finiteHalf(random, true));
                case BF16 -> b.putShort(at, (short) (Float.floatToRawIntBits((float) random.nextGaussian() * 100) >>> 16));
                case Q8_0, Q4_0 -> b.putShort(at, finiteHalf(random, false));
                case Q4_K -> {
                    b.putShort(at, finiteHalf(random, false));
                    b.putShort(at + 2, finiteHalf(random, false));
                }
                case Q6_K -> b.putShort(at + 208, finiteHalf(random, false));
            }
        }
        return bytes;
    }

    /** Value {@code e} of the {@code count}-value row stored in {@code bytes} from {@code at}, decoded from the layout description. */
    static float value(Format f, byte[] bytes, int at, int e) {
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int block = at + e / f.block * f.bytes, i = e % f.block;
        return switch (f) {
            case F32 -> b.getFloat(block);
            case F16 -> Float.float16ToFloat(b.getShort(block));
            case BF16 -> Float.intBitsToFloat(b.getShort(block) << 16);
            // d; int8 qs[32]
            case Q8_0 -> bytes[block + 2 + i] * Float.float16ToFloat(b.getShort(block));
            // d; qs[16]: value i < 16 in the low nibble of qs[i], value i >= 16 in the high nibble of qs[i - 16]
            case Q4_0 -> (nibble(bytes[block + 2 + i % 16], i >= 16) - 8) * Float.float16ToFloat(b.getShort(block));
            case Q4_K -> {
                // d, dmin; scales[12]; qs[128]: sub-block j = i / 32 lives in the low (j even) or high nibbles of qs[32 (j/2) ..]
                int j = i / 32, l = i % 32;
                int[] sixBit = q4kScalesAndMins(bytes, block + 4);
                int q = nibble(bytes[block + 16 + 32 * (j / 2) + l], j % 2 == 1);
                float scale = Float.float16ToFloat(b.getShort(block)) * sixBit[j];
                float min = Float.float16ToFloat(b.getShort(block + 2)) * sixBit[8 + j];
                yield scale * q - min;
            }
            case Q6_K -> {
                // ql[128]; qh[64]; int8 scales[16]; d. Half h, quarter k (32 values), position l in the quarter.
                int h = i / 128, k = i % 128 / 32, l = i % 32;
                int low = nibble(bytes[block + 64 * h + l + (k % 2 == 1 ? 32 : 0)], k >= 2);
                int high = (bytes[block + 128 + 32 * h + l] >> (2 * k)) & 3;
                int scale = bytes[block + 192 + 8 * h + l / 16 + 2 * k];
                yield Float.float16ToFloat(b.getShort(block + 208)) * scale * ((low | high << 4) - 32);
            }
        };
    }

    /** The eight 6-bit scales then the eight 6-bit minimums of a Q4_K block, unpacked bit by bit. */
    static int[] q4kScalesAndMins(byte[] bytes, int at) {
        int[] s = new int[12];
        for (int k = 0; k < 12; k++) s[k] = bytes[at + k] & 0xFF;
        int[] out = new int[16];
        for (int j = 0; j < 8; j++) {
            // sub-blocks 0-3: the low 6 bits of bytes 0-3 (scale) and 4-7 (min)
            // sub-blocks 4-7: low 4 bits from the two nibbles of byte 8 + (j - 4), top 2 bits from bits 6-7 of bytes j - 4 and j
            out[j] = j < 4 ? s[j] & 0x3F : (s[j + 4] & 0x0F) + 16 * (s[j - 4] >>> 6);
            out[8 + j] = j < 4 ? s[j + 4] & 0x3F : (s[j + 4] >>> 4) + 16 * (s[j] >>> 6);
        }
        return out;
    }

    private static int nibble(byte b, boolean high) {
        return high ? (b >> 4) & 0xF : b & 0xF;
    }

    /** A matrix {@code [rows, cols]} of random bytes in format f, decoded row-major into {@code decoded}. */
    static MemorySegment matrix(Random random, Format f, int rows, int cols, float[] decoded) {
        byte[] bytes = random(random, f, rows * cols);
        int rowBytes = cols / f.block * f.bytes;
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) decoded[r * cols + c] = value(f, bytes, r * rowBytes, c);
        return MemorySegment.ofArray(bytes);
    }
}
