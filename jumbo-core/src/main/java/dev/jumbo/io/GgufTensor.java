package dev.jumbo.io;

import java.util.Arrays;
import java.util.Objects;

/**
 * Where one tensor of a GGUF file lies and what it holds, as its tensor info declares it and the
 * reader has checked it: the bytes {@code [offset, offset + byteSize)} lie inside the file.
 *
 * <p>Dimensions are in ggml's order, the contiguous one first: a matrix of {@code rows} rows of
 * {@code cols} values has {@code dims = {cols, rows}} ({@code ne[0], ne[1]}). {@link #shape()} gives
 * them in PyTorch's order, outermost first.
 *
 * <pre>{@code
 * GgufTensor t = gguf.tensorInfo("blk.0.attn_q.weight");   // Q4_K [4096, 4096]
 * MemorySegment bytes = gguf.data(t);                       // t.byteSize() bytes, mapped
 * }</pre>
 *
 * @param name the tensor's name, such as {@code blk.0.attn_q.weight}
 * @param type how its values are stored
 * @param dims its dimensions in ggml order ({@code ne[0]} first); 0 to 4 of them
 * @param offset where its bytes start, counted from the start of the file
 * @param byteSize how many bytes it occupies (without the alignment padding after it)
 */
public record GgufTensor(String name, GgmlType type, long[] dims, long offset, long byteSize) {
    /** @throws IllegalArgumentException if a dimension or the offset is negative, or the size does not match the dimensions */
    public GgufTensor {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        dims = dims.clone();
        if (offset < 0) throw new IllegalArgumentException("negative offset " + offset);
        long elements = 1;
        for (long d : dims) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in " + Arrays.toString(dims));
            elements = Math.multiplyExact(elements, d);
        }
        if ((dims.length > 0 ? dims[0] : 1) % type.blockSize() != 0 || type.byteSize(elements) != byteSize)
            throw new IllegalArgumentException(type + " " + Arrays.toString(dims) + " does not take " + byteSize + " bytes");
    }

    /** The dimensions in ggml order, {@code ne[0]} first (a copy). */
    @Override
    public long[] dims() {
        return dims.clone();
    }

    /** The dimensions in PyTorch's order, outermost first: {@link #dims()} reversed. */
    public long[] shape() {
        long[] shape = new long[dims.length];
        for (int i = 0; i < dims.length; i++) shape[i] = dims[dims.length - 1 - i];
        return shape;
    }

    /** How many values it holds: the product of its dimensions (1 for a tensor without any). */
    public long elements() {
        long n = 1;
        for (long d : dims) n *= d; // cannot overflow: checked on construction
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufTensor t && name.equals(t.name) && type == t.type && Arrays.equals(dims, t.dims)
                && offset == t.offset && byteSize == t.byteSize;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, type, Arrays.hashCode(dims), offset, byteSize);
    }

    @Override
    public String toString() {
        return name + ": " + type + " " + Arrays.toString(dims) + " at " + offset + " (" + byteSize + " bytes)";
    }
}
