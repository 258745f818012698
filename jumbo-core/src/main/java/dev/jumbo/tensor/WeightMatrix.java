package dev.jumbo.tensor;

import dev.jumbo.kernel.Quantize;
import dev.jumbo.kernel.WeightKernel;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * A weight matrix {@code [rows, cols]}, row-major, kept in its stored type ({@link DType}: F32,
 * F16, BF16, or GGML blocks such as Q8_0) inside a {@link MemorySegment}: a mapped model file, so
 * loading copies nothing, or a heap array. Inference multiplies F32 activations by it directly,
 * decoding each block inside the dot product; {@link #row} dequantizes one row (an embedding lookup).
 * Rows are outputs: a layer {@code y = W x} has {@code rows = out}, {@code cols = in}, as GGUF and
 * PyTorch's {@code nn.Linear} store it.
 *
 * <pre>{@code
 * WeightMatrix w = WeightMatrix.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
 * float[] y = new float[2];
 * w.gemv(new float[] {1, 0, 1}, 0, y, 0);   // y = {4, 10}
 * WeightMatrix q = WeightMatrix.quantize(new float[64], 2, 32, DType.Q8_0); // GGML Q8_0 bytes on the heap
 * }</pre>
 *
 * <p>The kernels for each type are {@link WeightKernel}'s; the block layouts are GGML's, bit for bit.
 *
 * @param type the stored element type
 * @param data the bytes, starting at the first row
 * @param rows output size
 * @param cols input size (a whole number of blocks for block types)
 */
public record WeightMatrix(DType type, MemorySegment data, int rows, int cols) {
    /** @throws IllegalArgumentException if {@code data} is smaller than the matrix or the width is not whole blocks */
    public WeightMatrix {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(data, "data");
        if (rows < 0 || cols < 0) throw new IllegalArgumentException("negative matrix size [" + rows + ", " + cols + "]");
        if (cols % type.blockSize() != 0)
            throw new IllegalArgumentException(type + " rows of " + cols + " values are not a whole number of blocks of " + type.blockSize());
        long bytes = Math.multiplyExact((long) rows, type.byteSize(cols));
        if (data.byteSize() < bytes)
            throw new IllegalArgumentException("a " + type + " matrix [" + rows + ", " + cols + "] needs " + bytes + " bytes, the segment has " + data.byteSize());
    }

    /** F32 weights in a heap array, {@code [rows, cols]} row-major. */
    public static WeightMatrix of(float[] values, int rows, int cols) {
        if ((long) rows * cols != values.length)
            throw new IllegalArgumentException(values.length + " values do not make a [" + rows + ", " + cols + "] matrix");
        return new WeightMatrix(DType.F32, MemorySegment.ofArray(values), rows, cols);
    }

    /** Bytes of one stored row. */
    public long rowBytes() {
        return type.byteSize(cols);
    }

    /**
     * {@code values [rows, cols]} encoded in {@code type} with GGML's reference rounding, on the heap
     * (what {@code jumbo quantize} writes): F32, F16, BF16, Q8_0 or Q4_0.
     *
     * @throws UnsupportedOperationException for a type with no encoder (Q4_K, Q6_K, integer types)
     */
    public static WeightMatrix quantize(float[] values, int rows, int cols, DType type) {
        if ((long) rows * cols != values.length)
            throw new IllegalArgumentException(values.length + " values do not make a [" + rows + ", " + cols + "] matrix");
        if (cols % type.blockSize() != 0)
            throw new IllegalArgumentException(type + " rows of " + cols + " values are not a whole number of blocks of " + type.blockSize());
        if (type == DType.F32) return of(values.clone(), rows, cols);
        return new WeightMatrix(type, MemorySegment.ofArray(encode(values, 0, values.length, type)), rows, cols);
    }

    /**
     * {@code values[off .. off + n)} encoded in {@code type} with GGML's reference rounding: the bytes
     * a model file stores (F32 little-endian). {@code n} must be whole blocks of the type.
     *
     * @throws UnsupportedOperationException for a type with no encoder (Q4_K, Q6_K, integer types)
     */
    public static byte[] encode(float[] values, int off, int n, DType type) {
        Objects.checkFromIndexSize(off, n, values.length);
        if (n % type.blockSize() != 0)
            throw new IllegalArgumentException(n + " values are not a whole number of " + type + " blocks of " + type.blockSize());
        return switch (type) {
            case F32 -> {
                byte[] bytes = new byte[Math.multiplyExact(4, n)];
                MemorySegment.copy(values, off, MemorySegment.ofArray(bytes), F32_LE, 0, n);
                yield bytes;
            }
            case F16 -> Quantize.f16(values, off, n);
            case BF16 -> Quantize.bf16(values, off, n);
            case Q8_0 -> Quantize.q8_0(values, off, n);
            case Q4_0 -> Quantize.q4_0(values, off, n);
            default -> throw new UnsupportedOperationException("no encoder for " + type + " weights");
        };
    }

    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** {@code y[yOff + r] = sum_c W[r, c] x[xOff + c]}, rows split across the threads. */
    public void gemv(float[] x, int xOff, float[] y, int yOff) {
        kernel().gemv(data, 0, rows, cols, x, xOff, y, yOff);
    }

    /** {@code y[i, r] = sum_c W[r, c] x[i, c]} for {@code n} rows of activations {@code x [n, cols]} into {@code y [n, rows]} (prefill). */
    public void gemm(float[] x, int n, float[] y) {
        kernel().gemm(data, 0, rows, cols, x, n, y);
    }

    /** Row {@code r} as F32 into {@code out[off .. off + cols)}. */
    public void row(int r, float[] out, int off) {
        Objects.checkIndex(r, rows);
        Objects.checkFromIndexSize(off, cols, out.length);
        kernel().dequantize(data, r * rowBytes(), cols, out, off);
    }

    /** The kernels for this matrix's type. */
    public WeightKernel kernel() {
        return switch (type) {
            case F32 -> WeightKernel.F32;
            case F16 -> WeightKernel.F16;
            case BF16 -> WeightKernel.BF16;
            case Q8_0 -> WeightKernel.Q8_0;
            case Q4_0 -> WeightKernel.Q4_0;
            case Q4_K -> WeightKernel.Q4_K;
            case Q6_K -> WeightKernel.Q6_K;
            case I8, I32, I64 -> throw new UnsupportedOperationException("no weight kernels for " + type);
        };
    }
}
