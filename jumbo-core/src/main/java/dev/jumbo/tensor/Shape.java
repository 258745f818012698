package dev.jumbo.tensor;

import java.util.Arrays;

/**
 * The sizes of a tensor's dimensions, outermost first. Immutable.
 *
 * <pre>{@code
 * Shape s = Shape.of(2, 3);   // s.size() == 6, s.dim(-1) == 3
 * }</pre>
 */
public final class Shape {
    private final int[] dims;
    private final int size;

    private Shape(int[] dims) {
        long n = 1;
        for (int d : dims) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in " + Arrays.toString(dims));
            n *= d;
            if (n > Integer.MAX_VALUE - 8)
                throw new IllegalArgumentException("shape " + Arrays.toString(dims) + " has more than 2^31 elements");
        }
        this.dims = dims;
        this.size = (int) n;
    }

    /** A shape with the given dimensions (copied). */
    public static Shape of(int... dims) {
        return new Shape(dims.clone());
    }

    /** Number of dimensions. */
    public int rank() {
        return dims.length;
    }

    /** Total number of elements. */
    public int size() {
        return size;
    }

    /** Size of dimension {@code i}; negative {@code i} counts from the end. */
    public int dim(int i) {
        return dims[axis(i)];
    }

    /** A copy of the dimensions. */
    public int[] toArray() {
        return dims.clone();
    }

    /** Normalises a possibly negative axis index and checks it. */
    public int axis(int i) {
        int a = i < 0 ? i + dims.length : i;
        if (a < 0 || a >= dims.length)
            throw new IllegalArgumentException("axis " + i + " is out of range for shape " + this);
        return a;
    }

    /** Row-major strides of a contiguous tensor of this shape. */
    public int[] contiguousStrides() {
        int[] s = new int[dims.length];
        int acc = 1;
        for (int i = dims.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= Math.max(dims[i], 1);
        }
        return s;
    }

    /** Product of dimensions in [from, to). */
    public int sizeBetween(int from, int to) {
        int n = 1;
        for (int i = from; i < to; i++) n *= dims[i];
        return n;
    }

    /** The shape two operands broadcast to, NumPy rules: align from the right, 1 stretches. */
    public static Shape broadcast(Shape a, Shape b) {
        int r = Math.max(a.rank(), b.rank());
        int[] out = new int[r];
        for (int i = 0; i < r; i++) {
            int da = i < r - a.rank() ? 1 : a.dims[i - (r - a.rank())];
            int db = i < r - b.rank() ? 1 : b.dims[i - (r - b.rank())];
            if (da != db && da != 1 && db != 1)
                throw new IllegalArgumentException("shapes " + a + " and " + b + " do not broadcast (dimension " + i + ": " + da + " vs " + db + ")");
            out[i] = da == 1 ? db : da;
        }
        return new Shape(out);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Shape s && Arrays.equals(dims, s.dims);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(dims);
    }

    @Override
    public String toString() {
        return Arrays.toString(dims);
    }
}
