package dev.jumbo.tensor;

/**
 * Element types a tensor's storage may hold. Block types (Q8_0, Q4_0, Q4_K, Q6_K) pack {@link #blockSize()}
 * elements into {@link #bytesPerBlock()} bytes with a shared scale, as GGML lays them out.
 * Arithmetic runs on F32; other types are for storage and are converted (dequantized) on use.
 */
public enum DType {
    F32(1, 4),
    F16(1, 2),
    BF16(1, 2),
    I8(1, 1),
    I32(1, 4),
    I64(1, 8),
    /** 32 signed bytes and one F16 scale per block (GGML {@code block_q8_0}). */
    Q8_0(32, 34),
    /** 32 four-bit values and one F16 scale per block (GGML {@code block_q4_0}). */
    Q4_0(32, 18),
    /** 256 four-bit values in 8 sub-blocks with 6-bit scales and minimums, two F16 super-scales (GGML {@code block_q4_K}). */
    Q4_K(256, 144),
    /** 256 six-bit values in 16 sub-blocks with 8-bit scales, one F16 super-scale (GGML {@code block_q6_K}). */
    Q6_K(256, 210);

    private final int blockSize;
    private final int bytesPerBlock;

    DType(int blockSize, int bytesPerBlock) {
        this.blockSize = blockSize;
        this.bytesPerBlock = bytesPerBlock;
    }

    /** Elements per block: 1 for plain types. */
    public int blockSize() {
        return blockSize;
    }

    /** Bytes one block occupies. */
    public int bytesPerBlock() {
        return bytesPerBlock;
    }

    /**
     * Bytes needed for {@code elements} values, computed with overflow checks.
     *
     * @throws IllegalArgumentException if the count is negative or not a whole number of blocks
     * @throws ArithmeticException if the size does not fit in a long
     */
    public long byteSize(long elements) {
        if (elements < 0) throw new IllegalArgumentException("negative element count " + elements);
        if (elements % blockSize != 0)
            throw new IllegalArgumentException(elements + " elements is not a whole number of " + this + " blocks of " + blockSize);
        return Math.multiplyExact(elements / blockSize, (long) bytesPerBlock);
    }
}
