package dev.jumbo.tensor;

/**
 * Where a tensor's elements live. Today: a float array on the heap. A memory-mapped
 * {@code MemorySegment} holding F16/BF16/Q8_0/Q4_0 blocks is the next implementation; callers
 * reach elements only through {@link Tensor}, so adding it changes no caller.
 */
public sealed interface Storage permits Storage.Floats {
    /** Element type of the stored values. */
    DType dtype();

    /** Number of elements the storage holds. */
    int length();

    /** F32 values in a Java array. */
    record Floats(float[] data) implements Storage {
        @Override
        public DType dtype() {
            return DType.F32;
        }

        @Override
        public int length() {
            return data.length;
        }
    }
}
