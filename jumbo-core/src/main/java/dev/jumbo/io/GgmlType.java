package dev.jumbo.io;

import dev.jumbo.tensor.DType;
import java.util.Optional;

/**
 * The element types a GGUF tensor may have: ggml's {@code enum ggml_type}, with the block
 * geometry of each ({@code type_traits} in {@code ggml/src/ggml.c}: {@code blck_size} elements
 * stored in {@code type_size} bytes). The reader knows every type so that it can check the size of
 * any tensor, including those Jumbo cannot compute with; {@link #dtype()} says which it can.
 *
 * <p>Ids 4, 5 ({@code Q4_2}, {@code Q4_3}), 31-33 ({@code Q4_0_4_4} ...) and 36-38
 * ({@code IQ4_NL_4_4} ...) were removed from ggml and are unknown here, as they are to llama.cpp.
 *
 * <pre>{@code
 * GgmlType q = GgmlType.byId(12).orElseThrow();   // Q4_K
 * long bytes = q.byteSize(4096L * 4096);           // 9,437,184: 65,536 blocks of 144 bytes
 * }</pre>
 */
public enum GgmlType {
    F32(0, 1, 4),
    F16(1, 1, 2),
    /** {@code block_q4_0}: an F16 scale, 32 four-bit values. */
    Q4_0(2, 32, 18),
    /** {@code block_q4_1}: F16 scale and minimum, 32 four-bit values. */
    Q4_1(3, 32, 20),
    /** {@code block_q5_0}: an F16 scale, 32 high bits, 32 four-bit values. */
    Q5_0(6, 32, 22),
    Q5_1(7, 32, 24),
    /** {@code block_q8_0}: an F16 scale, 32 signed bytes. */
    Q8_0(8, 32, 34),
    Q8_1(9, 32, 36),
    /** {@code block_q2_K}: 2 F16, 16 scale bytes, 64 bytes of two-bit values per 256. */
    Q2_K(10, 256, 84),
    /** {@code block_q3_K}: 32 high-bit bytes, 64 bytes of two-bit values, 12 scale bytes, an F16. */
    Q3_K(11, 256, 110),
    /** {@code block_q4_K}: 2 F16, 12 bytes of six-bit scales and minimums, 128 bytes of nibbles. */
    Q4_K(12, 256, 144),
    Q5_K(13, 256, 176),
    /** {@code block_q6_K}: 128 low-nibble bytes, 64 high-bit bytes, 16 scale bytes, an F16. */
    Q6_K(14, 256, 210),
    Q8_K(15, 256, 292),
    IQ2_XXS(16, 256, 66),
    IQ2_XS(17, 256, 74),
    IQ3_XXS(18, 256, 98),
    IQ1_S(19, 256, 50),
    IQ4_NL(20, 32, 18),
    IQ3_S(21, 256, 110),
    IQ2_S(22, 256, 82),
    IQ4_XS(23, 256, 136),
    I8(24, 1, 1),
    I16(25, 1, 2),
    I32(26, 1, 4),
    I64(27, 1, 8),
    F64(28, 1, 8),
    IQ1_M(29, 256, 56),
    BF16(30, 1, 2),
    TQ1_0(34, 256, 54),
    TQ2_0(35, 256, 66),
    /** {@code block_mxfp4}: an E8M0 exponent, 32 four-bit E2M1 values. */
    MXFP4(39, 32, 17),
    /** {@code block_nvfp4}: four E4M3 scales (one per 16 values), 64 four-bit E2M1 values. */
    NVFP4(40, 64, 36),
    /** {@code block_q1_0}: an F16 scale, 128 one-bit values. */
    Q1_0(41, 128, 18),
    /** {@code block_q2_0}: an F16 scale, 64 two-bit values. */
    Q2_0(42, 64, 18);

    private static final GgmlType[] BY_ID = new GgmlType[43];
    private static final DType[] DTYPES = new DType[values().length];

    static {
        for (GgmlType t : values()) BY_ID[t.id] = t;
        // By name, so a DType added later (Q4_K, Q6_K ...) is picked up without touching this file;
        // GgmlTypeTest checks that each pair agrees on its block geometry.
        for (DType d : DType.values()) {
            for (GgmlType t : values()) if (t.name().equals(d.name())) DTYPES[t.ordinal()] = d;
        }
    }

    private final int id;
    private final int blockSize;
    private final int bytesPerBlock;

    GgmlType(int id, int blockSize, int bytesPerBlock) {
        this.id = id;
        this.blockSize = blockSize;
        this.bytesPerBlock = bytesPerBlock;
    }

    /** The type with ggml id {@code id}, or empty if ggml has none (or removed it). */
    public static Optional<GgmlType> byId(long id) {
        return id >= 0 && id < BY_ID.length ? Optional.ofNullable(BY_ID[(int) id]) : Optional.empty();
    }

    /** The id a GGUF tensor info stores ({@code ggml_type}). */
    public int id() {
        return id;
    }

    /** Elements per block: 1 for plain types. */
    public int blockSize() {
        return blockSize;
    }

    /** Bytes one block occupies ({@code ggml_type_size}). */
    public int bytesPerBlock() {
        return bytesPerBlock;
    }

    /** Whether values are stored in blocks with shared scales, rather than one by one. */
    public boolean isQuantized() {
        return blockSize > 1;
    }

    /** The Jumbo storage type with the same layout, if Jumbo has one. */
    public Optional<DType> dtype() {
        return Optional.ofNullable(DTYPES[ordinal()]);
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
