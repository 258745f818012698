package dev.jumbo.nn;

import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import java.util.Random;

/**
 * Weight initializers, Keras formulas, drawing from one global generator that layers use when
 * they build and {@link Dropout} uses for its masks; {@link #seed} makes a run reproducible, like
 * {@code torch.manual_seed}.
 *
 * <pre>{@code
 * Init.seed(42);
 * Tensor w = Init.glorotUniform(784, 128, 784, 128);   // fan in, fan out, then the shape
 * }</pre>
 */
public final class Init {
    /** Keras divides the standard deviation by this so a normal truncated at 2 sigma keeps the intended variance. */
    private static final double TRUNCATION_STDDEV = 0.87962566103423978;

    private static final Random RANDOM = new Random();

    private Init() {}

    /** Reseeds the global generator. */
    public static void seed(long seed) {
        RANDOM.setSeed(seed);
    }

    /** The global generator. */
    public static Random random() {
        return RANDOM;
    }

    /** Uniform in {@code ±sqrt(6 / (fanIn + fanOut))} (Keras's default for kernels). */
    public static Tensor glorotUniform(int fanIn, int fanOut, int... dims) {
        checkFans(fanIn, fanOut);
        return uniform(Math.sqrt(6.0 / (fanIn + fanOut)), dims);
    }

    /** Normal with standard deviation {@code sqrt(2 / (fanIn + fanOut))}, truncated at two deviations. */
    public static Tensor glorotNormal(int fanIn, int fanOut, int... dims) {
        checkFans(fanIn, fanOut);
        return truncatedNormal(Math.sqrt(2.0 / (fanIn + fanOut)), dims);
    }

    /** Uniform in {@code ±sqrt(6 / fanIn)}; {@code fanOut} is ignored (kept for a uniform signature). */
    public static Tensor heUniform(int fanIn, int fanOut, int... dims) {
        checkFans(fanIn, fanOut);
        return uniform(Math.sqrt(6.0 / fanIn), dims);
    }

    /** Normal with standard deviation {@code sqrt(2 / fanIn)}, truncated at two deviations; {@code fanOut} is ignored. */
    public static Tensor heNormal(int fanIn, int fanOut, int... dims) {
        checkFans(fanIn, fanOut);
        return truncatedNormal(Math.sqrt(2.0 / fanIn), dims);
    }

    /** Zeros. */
    public static Tensor zeros(int... dims) {
        return Tensor.zeros(dims);
    }

    /**
     * A {@code [rows, cols]} matrix with orthonormal columns (or rows, when {@code rows < cols}),
     * Keras's default for recurrent kernels: QR of a Gaussian matrix with the sign of R's diagonal
     * folded in so the result is uniformly distributed.
     */
    public static Tensor orthogonal(int rows, int cols) {
        if (rows <= 0 || cols <= 0) throw new IllegalArgumentException("orthogonal needs positive dimensions, got " + rows + "x" + cols);
        // Gram-Schmidt on the columns of a tall [n, k] Gaussian matrix, k <= n
        int n = Math.max(rows, cols), k = Math.min(rows, cols);
        double[][] q = new double[k][n];
        for (int j = 0; j < k; j++) {
            for (int i = 0; i < n; i++) q[j][i] = RANDOM.nextGaussian();
            for (int pass = 0; pass < 2; pass++) // a second pass restores orthogonality lost to rounding
                for (int p = 0; p < j; p++) {
                    double dot = 0;
                    for (int i = 0; i < n; i++) dot += q[j][i] * q[p][i];
                    for (int i = 0; i < n; i++) q[j][i] -= dot * q[p][i];
                }
            double norm = 0;
            for (int i = 0; i < n; i++) norm += q[j][i] * q[j][i];
            norm = Math.sqrt(norm);
            // dividing by the positive norm is QR with sign(diag R) = +1 already folded in
            for (int i = 0; i < n; i++) q[j][i] /= norm;
        }
        float[] d = new float[rows * cols];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) d[r * cols + c] = (float) (rows >= cols ? q[c][r] : q[r][c]);
        return Tensor.of(d, rows, cols);
    }

    private static Tensor uniform(double limit, int... dims) {
        return Tensor.uniform(RANDOM, (float) -limit, (float) limit, dims);
    }

    private static Tensor truncatedNormal(double stddev, int... dims) {
        double s = stddev / TRUNCATION_STDDEV;
        float[] d = new float[Shape.of(dims).size()];
        for (int i = 0; i < d.length; i++) {
            double z;
            do z = RANDOM.nextGaussian(); while (Math.abs(z) > 2);
            d[i] = (float) (z * s);
        }
        return Tensor.of(d, dims);
    }

    private static void checkFans(int fanIn, int fanOut) {
        if (fanIn <= 0 || fanOut <= 0)
            throw new IllegalArgumentException("fan in and fan out must be positive, got " + fanIn + " and " + fanOut);
    }
}
