package dev.jumbo.kernel;

/**
 * An int8 right-hand side ({@code n} rows of {@code k} values, e.g. a layer's weights, one row per
 * output) prepared once for many products {@code c[i, j] = sum_t a[i, t] * b[j, t]}, in the form
 * that suits its row length. Both forms compute every output in one int lane from start to end
 * (no sums across lanes) and give the same integers:
 * <ul>
 *   <li>rows of at least {@link #COLUMNS_BELOW} values: pairs of positions in 16-bit lanes
 *       ({@link Int8Kernels#gemmPairs});
 *   <li>shorter rows (a first convolution's 3x3x1 patches: 9 values): one position at a time in
 *       int lanes ({@link Int8Kernels#gemmColumns}), which wastes no half-filled pair per output.
 * </ul>
 * One JVM on Zen 4, 2 threads, a batch of 256 images of the Fashion-MNIST CNN: the first
 * convolution (9 x 32) 1.2 ms by columns, 1.9 ms by pairs; the second (288 x 64) 7.3 ms by pairs,
 * 15.9 ms by columns, 11.1 ms by a dot product per output (a kernel this replaced).
 *
 * <pre>{@code
 * Int8Matrix w = new Int8Matrix(weights, filters, k);
 * w.multiply(patches, rows, acc);   // acc[r * filters + f]
 * }</pre>
 */
public final class Int8Matrix {
    /** Rows shorter than this are multiplied by columns, longer ones by pairs. */
    public static final int COLUMNS_BELOW = 128;

    private final int n, k;
    private final short[] pairs;
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
        this.columns = byColumns ? Int8Kernels.transposeWiden(b, n, k) : null;
        this.pairs = byColumns ? null : Int8Kernels.pairColumns(b, n, k);
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
        else Int8Kernels.gemmPairs(a, m, pairs, n, k, c);
    }
}
