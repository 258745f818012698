package dev.jumbo.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.jumbo.kernel.QuantBlocks.Format;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import org.junit.jupiter.api.Test;

/** Each format's dequantization against a decoder written from GGML's layout description, on random blocks. */
class QuantLayoutTest {
    private final Fixture fx = new Fixture();

    @Test
    void dequantizationMatchesTheLayoutBitForBit() {
        for (Format f : Format.values()) {
            int blocks = fx.between(1, 9), count = blocks * (f.block == 1 ? 37 : f.block), pad = 3;
            byte[] bytes = QuantBlocks.random(fx.random, f, count);
            byte[] shifted = new byte[bytes.length + 5];
            System.arraycopy(bytes, 0, shifted, 5, bytes.length); // a block need not start at byte 0 or be aligned
            float[] out = fx.nans(count + 2 * pad);
            f.kernel().dequantize(MemorySegment.ofArray(shifted), 5, count, out, pad);
            for (int e = 0; e < count; e++) {
                float expected = QuantBlocks.value(f, bytes, 0, e);
                if (Float.floatToIntBits(out[pad + e]) != Float.floatToIntBits(expected))
                    fail("%s value %d is %s, expected %s (seed %d)", f, e, out[pad + e], expected, fx.seed);
            }
            for (int k = 0; k < pad; k++) assertThat(out[k]).isNaN();
            for (int k = count + pad; k < out.length; k++) assertThat(out[k]).isNaN();
        }
    }

    @Test
    void q4kScalesFollowTheSixBitPacking() {
        // scales[0..3] = 0b11_000001.. give sub-blocks 0-3 scale 1..4 and lend their top bits (3) to sub-blocks 4-7.
        byte[] block = new byte[144];
        ByteBuffer b = ByteBuffer.wrap(block).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort(0, Float.floatToFloat16(1f)).putShort(2, Float.floatToFloat16(0.5f));
        for (int j = 0; j < 4; j++) {
            block[4 + j] = (byte) (0xC0 | (j + 1));     // sc[j] = j + 1, top bits of sc[j + 4] = 3
            block[8 + j] = (byte) (0x40 | (10 + j));    // m[j] = 10 + j, top bits of m[j + 4] = 1
            block[12 + j] = (byte) ((2 << 4) | 5);      // low nibbles: sc[j + 4] = 5 | 3 << 4 = 53, m[j + 4] = 2 | 1 << 4 = 18
        }
        int[] s = QuantBlocks.q4kScalesAndMins(block, 4);
        assertThat(s).containsExactly(1, 2, 3, 4, 53, 53, 53, 53, 10, 11, 12, 13, 18, 18, 18, 18);
        for (int k = 0; k < 128; k++) block[16 + k] = (byte) 0x21; // low nibble 1, high nibble 2
        float[] out = new float[256];
        WeightKernel.Q4_K.dequantize(MemorySegment.ofArray(block), 0, 256, out, 0);
        assertThat(out[0]).isEqualTo(1 * 1 - 0.5f * 10);     // sub-block 0: scale 1, min 10, q = 1
        assertThat(out[32]).isEqualTo(2 * 2 - 0.5f * 11);    // sub-block 1: q = 2 from the high nibble
        assertThat(out[255]).isEqualTo(53 * 2 - 0.5f * 18);  // sub-block 7
    }

    @Test
    void f16ConversionInsideTheProductsCoversEveryBitPattern() {
        // Row h holds F16 pattern h at column h % 16 and +0 elsewhere; x is all ones, so y[h] is the value itself.
        int rows = 1 << 16, cols = 16;
        byte[] bytes = new byte[rows * cols * 2];
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        for (int h = 0; h < rows; h++) b.putShort(2 * (h * cols + h % cols), (short) h);
        float[] x = new float[cols], y = new float[rows];
        java.util.Arrays.fill(x, 1f);
        WeightKernel.F16.gemv(MemorySegment.ofArray(bytes), 0, rows, cols, x, 0, y, 0);
        for (int h = 0; h < rows; h++) {
            float expected = Float.float16ToFloat((short) h) + 0f; // -0 + 0 is +0 in the sum too
            if (Float.isNaN(expected) ? !Float.isNaN(y[h]) : Float.floatToIntBits(y[h]) != Float.floatToIntBits(expected))
                fail("F16 0x%04x gave %s, expected %s", h, y[h], expected);
        }
    }
}
