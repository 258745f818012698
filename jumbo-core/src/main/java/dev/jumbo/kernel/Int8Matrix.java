package dev.jumbo.kernel;

/**
 * An int8 right-hand side ({@code n} rows of {@code k} values, e.g. a layer's weights, one row per
 * output) prepared once for many products {@code c[i, j] = sum_t a[i, t] * b[j, t]}, in the form
 * that suits its row length: rows widened to shorts for the dot-product kernel
 * ({@link Int8Kernels#gemm(byte[], int, short[], int, int, int[])}), or, for rows shorter than
 * {@link #COLUMNS_BELOW} values, transposed to ints for {@link Int8Kernels#gemmColumns}, where a
 * dot product per output would be mostly scalar tail (a first convolution's 3x3x1 patches: 9 values;
 * one JVM on Zen 4: 80 ms by rows, 3 ms by columns for a batch of 256 such images). Both give the
 * same integers.
 *
 * <pre>{@code
 * Int8Matrix w = new Int8Matrix(weights, filters, k);
 * w.multiply(patches, rows, acc);   // acc[r * filters + f]
 * }</pre>
 */
public final class Int8Matrix {
    /** Rows shorter than this are multiplied by columns: four steps of the dot-product kernel. */
    public static final int COLUMNS_BELOW = 128;

    private final int n, k;
    private final short[] rows;
    private final int[] columns;

    /** Prepares {@code b} ({@code n x k}, values in [-127, 127]), choosing the form by {@code k}. */
    public Int8Matrix(byte[] b, int n, int k) {
        this(b, n, k, k < COLUMNS_BELOW);
    }

    /** Prepares {@code b} in the form asked for (tests use both on any size). */
    Int8Matrix(byte[] b, int n, int k, boolean byColumns) {
        if (n < 1 || k < 1 || (long) n * k != b.length)
            throw new IllegalArgumentException("an int8 matrix of " + n + "x" + k + " needs " + (long) n * k + " values, got " + b.length);
        this.n = n;
        this.k = k;
        this.rows = byColumns ? null : Int8Kernels.widen(b);
        this.columns = byColumns ? Int8Kernels.transposeWiden(b, n, k) : null;
    }

    /** Rows (outputs of a product). */
    public int n() {
        return n;
    }

    /** Values per row. */
    public int k() {
        return k;
    }

    /** {@code c[i * n + j] = sum_t a[i * k + t] * b[j * k + t]} for {@code i < m}, exactly. */
    public void multiply(byte[] a, int m, int[] c) {
        if (columns != null) Int8Kernels.gemmColumns(a, m, columns, n, k, c);
        else Int8Kernels.gemm(a, m, rows, n, k, c);
    }
}
