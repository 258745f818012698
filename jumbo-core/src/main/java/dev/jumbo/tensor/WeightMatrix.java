package dev.jumbo.tensor;

import dev.jumbo.kernel.SegmentGemv;
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
 * }</pre>
 *
 * @param type the stored element type
 * @param data the bytes, starting at the first row
 * @param rows output size
 * @param cols input size (a whole number of blocks for block types)
 */
public record WeightMatrix(DType type, MemorySegment data, int rows, int cols) {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

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

    /** {@code y[yOff + r] = sum_c W[r, c] x[xOff + c]}, rows split across the threads. */
    public void gemv(float[] x, int xOff, float[] y, int yOff) {
        switch (type) {
            case F32 -> SegmentGemv.f32(data, 0, rows, cols, x, xOff, y, yOff);
            default -> throw unsupported();
        }
    }

    /** {@code y[i, r] = sum_c W[r, c] x[i, c]} for {@code n} rows of activations {@code x [n, cols]} into {@code y [n, rows]} (prefill). */
    public void gemm(float[] x, int n, float[] y) {
        switch (type) {
            case F32 -> SegmentGemv.f32Rows(data, 0, rows, cols, x, n, y);
            default -> throw unsupported();
        }
    }

    /** Row {@code r} as F32 into {@code out[off .. off + cols)}. */
    public void row(int r, float[] out, int off) {
        Objects.checkIndex(r, rows);
        switch (type) {
            case F32 -> MemorySegment.copy(data, F32, 4L * r * cols, out, off, cols);
            default -> throw unsupported();
        }
    }

    private UnsupportedOperationException unsupported() {
        return new UnsupportedOperationException("no kernel for " + type + " weights yet");
    }
}
