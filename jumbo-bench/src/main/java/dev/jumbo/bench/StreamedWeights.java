package dev.jumbo.bench;

import dev.jumbo.kernel.Quantize;
import dev.jumbo.kernel.WeightKernel;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;

/**
 * Copies of one weight matrix in off-heap memory (as a mapped model file is), together larger than
 * the last-level cache, so that each product streams its weights from DRAM as decoding a real
 * model does: one call per copy, round robin.
 */
final class StreamedWeights implements AutoCloseable {
    /** At least this many bytes of copies: well past a 32 MB L3. */
    static final long TOTAL_BYTES = 256L << 20;

    final WeightKernel kernel;
    final int rows, cols;
    final long matrixBytes;
    final MemorySegment[] copies;
    final float[] x, y;
    private final Arena arena = Arena.ofShared();
    private int next;

    StreamedWeights(String kernelName, int rows, int cols, long totalBytes) {
        this.kernel = kernel(kernelName);
        this.rows = rows;
        this.cols = cols;
        Random random = new Random(1);
        float[] values = new float[rows * cols];
        for (int i = 0; i < values.length; i++) values[i] = (float) random.nextGaussian() * 0.02f;
        byte[] bytes = encode(kernelName, values, random);
        matrixBytes = bytes.length;
        int n = (int) Math.max(2, (totalBytes + matrixBytes - 1) / matrixBytes);
        copies = new MemorySegment[n];
        MemorySegment source = MemorySegment.ofArray(bytes);
        for (int c = 0; c < n; c++) {
            copies[c] = arena.allocate(matrixBytes, 64);
            MemorySegment.copy(source, 0, copies[c], 0, matrixBytes);
        }
        x = new float[cols];
        for (int i = 0; i < cols; i++) x[i] = (float) random.nextGaussian();
        y = new float[rows];
    }

    /** One gemv on the next copy. */
    float[] gemv() {
        MemorySegment w = copies[next];
        next = next + 1 == copies.length ? 0 : next + 1;
        kernel.gemv(w, 0, rows, cols, x, 0, y, 0);
        return y;
    }

    static WeightKernel kernel(String name) {
        return switch (name) {
            case "F32" -> WeightKernel.F32;
            case "F16" -> WeightKernel.F16;
            case "BF16" -> WeightKernel.BF16;
            case "Q8_0" -> WeightKernel.Q8_0;
            case "Q8_0_F32" -> WeightKernel.Q8_0_F32_ACTIVATIONS;
            case "Q8_0_INT8" -> WeightKernel.Q8_0_INT8_ACTIVATIONS;
            case "Q4_0" -> WeightKernel.Q4_0;
            case "Q4_0_F32" -> WeightKernel.Q4_0_F32_ACTIVATIONS;
            case "Q4_K_F32" -> WeightKernel.Q4_K_F32_ACTIVATIONS;
            case "Q4_K" -> WeightKernel.Q4_K;
            case "Q6_K" -> WeightKernel.Q6_K;
            default -> throw new IllegalArgumentException("unknown weight type " + name);
        };
    }

    private static byte[] encode(String name, float[] v, Random random) {
        return switch (name) {
            case "F32" -> {
                ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
                for (float f : v) b.putFloat(f);
                yield b.array();
            }
            case "F16" -> Quantize.f16(v, 0, v.length);
            case "BF16" -> Quantize.bf16(v, 0, v.length);
            case "Q8_0", "Q8_0_F32", "Q8_0_INT8" -> Quantize.q8_0(v, 0, v.length);
            case "Q4_0", "Q4_0_F32" -> Quantize.q4_0(v, 0, v.length);
            // no encoder yet: random quantized fields with sane F16 super-scales
            case "Q4_K", "Q4_K_F32" -> kBlocks(random, v.length / 256, 144, new int[] {0, 2});
            case "Q6_K" -> kBlocks(random, v.length / 256, 210, new int[] {208});
            default -> throw new IllegalArgumentException("unknown weight type " + name);
        };
    }

    private static byte[] kBlocks(Random random, int blocks, int blockBytes, int[] scaleAt) {
        byte[] b = new byte[blocks * blockBytes];
        random.nextBytes(b);
        for (int k = 0; k < blocks; k++)
            for (int at : scaleAt) {
                short d = Float.floatToFloat16(0.001f * (1 + random.nextFloat()));
                b[k * blockBytes + at] = (byte) d;
                b[k * blockBytes + at + 1] = (byte) (d >> 8);
            }
        return b;
    }

    @Override
    public void close() {
        arena.close();
    }
}
