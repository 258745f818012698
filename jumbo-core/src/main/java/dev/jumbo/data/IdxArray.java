package dev.jumbo.data;

import java.util.Arrays;

/**
 * An array read from an IDX file: its dimensions, outermost first, and its unsigned bytes in
 * row-major order ({@code data[i] & 0xFF} is the value). Equality compares contents.
 */
public record IdxArray(int[] dims, byte[] data) {
    /**
     * Checks that the data holds exactly the elements the dimensions describe.
     *
     * @throws IllegalArgumentException if the dimensions do not multiply to the data length
     */
    public IdxArray {
        long n = 1;
        for (int d : dims) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in " + Arrays.toString(dims));
            n = Math.multiplyExact(n, d);
        }
        if (n != data.length)
            throw new IllegalArgumentException("dimensions " + Arrays.toString(dims) + " need " + n + " bytes, got " + data.length);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof IdxArray a && Arrays.equals(dims, a.dims) && Arrays.equals(data, a.data);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(dims) + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return "IdxArray" + Arrays.toString(dims);
    }
}
