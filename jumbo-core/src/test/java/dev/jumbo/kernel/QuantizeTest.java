package dev.jumbo.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import java.lang.foreign.MemorySegment;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/** The F32 encoders against GGML's reference quantizers transcribed naively, and their error bounds. */
class QuantizeTest {
    private final Fixture fx = new Fixture();

    /** Random blocks at several magnitudes, plus hand-made ones: all zeros, exact halves, a tie for the largest magnitude. */
    private float[] values() {
        int blocks = fx.between(4, 40);
        float[] x = new float[32 * (blocks + 3)];
        for (int b = 0; b < blocks; b++) {
            float scale = (float) Math.pow(10, fx.between(-6, 3));
            for (int j = 0; j < 32; j++) x[32 * b + j] = (float) fx.random.nextGaussian() * scale;
        }
        int h = 32 * blocks;
        // block "halves": amax 127 gives d = 1, so x * (1/d) = x and roundf decides the halves
        float[] halves = {127, 2.5f, -2.5f, 0.5f, -0.5f, 1.5f, 0.49999997f, -126.5f};
        System.arraycopy(halves, 0, x, h + 32, halves.length);
        // block "tie": -4 and 4 share the largest magnitude; Q4_0 takes the first (-4), so d = 0.5
        x[h + 64] = -4;
        x[h + 70] = 4;
        x[h + 71] = 1.25f;
        return x; // block h / 32 stays all zeros
    }

    @Test
    void q8_0MatchesTheReferenceQuantizer() {
        float[] x = values();
        byte[] got = Quantize.q8_0(x, 0, x.length);
        ByteBuffer expected = ByteBuffer.allocate(got.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int b = 0; b < x.length / 32; b++) {
            float amax = 0;
            for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[32 * b + j]));
            float d = amax / ((1 << 7) - 1);
            float id = d != 0 ? 1.0f / d : 0.0f;
            expected.putShort(Float.floatToFloat16(d));
            for (int j = 0; j < 32; j++) {
                float x0 = x[32 * b + j] * id;
                expected.put((byte) new BigDecimal(x0).setScale(0, RoundingMode.HALF_UP).intValueExact()); // roundf
            }
        }
        assertThat(got).containsExactly(expected.array());
        int h = x.length - 96;
        assertThat(got[(h / 32 + 1) * 34 + 2 + 1]).as("roundf(2.5)").isEqualTo((byte) 3);
        assertThat(got[(h / 32 + 1) * 34 + 2 + 2]).as("roundf(-2.5)").isEqualTo((byte) -3);
        assertThat(got[(h / 32 + 1) * 34 + 2 + 6]).as("roundf(0.49999997)").isEqualTo((byte) 0);
    }

    @Test
    void q4_0MatchesTheReferenceQuantizer() {
        float[] x = values();
        byte[] got = Quantize.q4_0(x, 0, x.length);
        ByteBuffer expected = ByteBuffer.allocate(got.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int b = 0; b < x.length / 32; b++) {
            float amax = 0.0f, max = 0.0f;
            for (int j = 0; j < 32; j++) {
                float v = x[32 * b + j];
                if (amax < Math.abs(v)) {
                    amax = Math.abs(v);
                    max = v;
                }
            }
            float d = max / -8;
            float id = d != 0 ? 1.0f / d : 0.0f;
            expected.putShort(Float.floatToFloat16(d));
            for (int j = 0; j < 16; j++) {
                float x0 = x[32 * b + j] * id, x1 = x[32 * b + 16 + j] * id;
                int xi0 = Math.min(15, (byte) (x0 + 8.5f)), xi1 = Math.min(15, (byte) (x1 + 8.5f));
                expected.put((byte) (xi0 | (xi1 << 4)));
            }
        }
        assertThat(got).containsExactly(expected.array());
        int zeros = (x.length - 96) / 32 * 18;
        assertThat(got[zeros + 2]).as("an all-zero block is q = 8").isEqualTo((byte) 0x88);
        int tie = zeros + 2 * 18;
        assertThat(Float.float16ToFloat((short) (got[tie] & 0xFF | got[tie + 1] << 8))).as("d of the tie block").isEqualTo(0.5f);
    }

    @Test
    void q8_0ErrsByAtMostHalfAStep() {
        float[] x = values();
        float[] back = new float[x.length];
        byte[] q = Quantize.q8_0(x, 0, x.length);
        WeightKernel.Q8_0.dequantize(MemorySegment.ofArray(q), 0, x.length, back, 0);
        for (int b = 0; b < x.length / 32; b++) {
            float amax = 0;
            for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[32 * b + j]));
            double d = amax / 127f, stored = Float.float16ToFloat(Float.floatToFloat16((float) d));
            // half a step, plus what rounding d to F16 moves the largest value (127 steps)
            double bound = d / 2 + 127 * Math.abs(stored - d) + 1e-6 * amax + Float.MIN_VALUE;
            for (int j = 0; j < 32; j++)
                if (!(Math.abs(back[32 * b + j] - x[32 * b + j]) <= bound))
                    fail("value %d: %s came back as %s (bound %s, seed %d)", 32 * b + j, x[32 * b + j], back[32 * b + j], bound, fx.seed);
        }
    }

    @Test
    void q4_0ErrsByAtMostHalfAStepInsideItsRange() {
        float[] x = values();
        float[] back = new float[x.length];
        byte[] q = Quantize.q4_0(x, 0, x.length);
        WeightKernel.Q4_0.dequantize(MemorySegment.ofArray(q), 0, x.length, back, 0);
        int inside = 0;
        for (int b = 0; b < x.length / 32; b++) {
            double d = Float.float16ToFloat((short) (q[18 * b] & 0xFF | q[18 * b + 1] << 8));
            float max = 0;
            for (int j = 0; j < 32; j++) if (Math.abs(x[32 * b + j]) > Math.abs(max)) max = x[32 * b + j];
            double exact = max / -8.0;
            for (int j = 0; j < 32; j++) {
                double steps = exact == 0 ? 0 : x[32 * b + j] / exact; // -8 .. 8; 8 is beyond the top level 7
                if (steps > 7.5) continue;
                inside++;
                double bound = Math.abs(exact) / 2 + 8 * Math.abs(d - exact) + 1e-6 * Math.abs(max) + Float.MIN_VALUE;
                if (!(Math.abs(back[32 * b + j] - x[32 * b + j]) <= bound))
                    fail("value %d: %s came back as %s (bound %s, seed %d)", 32 * b + j, x[32 * b + j], back[32 * b + j], bound, fx.seed);
            }
        }
        assertThat(inside).isGreaterThan(x.length / 2);
    }

    @Test
    void halvesRoundToNearestEven() {
        float[] x = {1f, -2.5f, 65504f, 1e-7f, 1 + 0x1p-8f, 1 + 3 * 0x1p-8f, Float.NaN, Float.NEGATIVE_INFINITY, 70000f};
        ByteBuffer f16 = ByteBuffer.wrap(Quantize.f16(x, 0, x.length)).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer bf16 = ByteBuffer.wrap(Quantize.bf16(x, 0, x.length)).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < x.length; i++) assertThat(f16.getShort(2 * i)).isEqualTo(Float.floatToFloat16(x[i]));
        float[] back = new float[x.length];
        for (int i = 0; i < x.length; i++) back[i] = Float.intBitsToFloat(bf16.getShort(2 * i) << 16);
        assertThat(back[0]).isEqualTo(1f);
        assertThat(back[1]).isEqualTo(-2.5f);
        assertThat(back[4]).as("1 + 2^-8 is halfway between 1 and 1 + 2^-7: to even").isEqualTo(1f);
        assertThat(back[5]).as("1 + 3 * 2^-8: halfway, to even").isEqualTo(1 + 0x1p-6f);
        assertThat(back[6]).isNaN();
        assertThat(back[7]).isEqualTo(Float.NEGATIVE_INFINITY);
    }

    @Test
    void partialBlocksAreRefused() {
        assertThatThrownBy(() -> Quantize.q8_0(new float[40], 0, 40)).hasMessageContaining("not a whole number of blocks of 32");
        assertThatThrownBy(() -> Quantize.q4_0(new float[64], 40, 32)).isInstanceOf(IndexOutOfBoundsException.class);
    }
}
