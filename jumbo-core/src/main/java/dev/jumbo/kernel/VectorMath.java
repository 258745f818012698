package dev.jumbo.kernel;

/**
 * Elementwise and reduction loops over contiguous float ranges: the building blocks the tensor
 * layer uses once it has resolved shapes and broadcasting.
 */
public final class VectorMath {
    private VectorMath() {}

    /** {@code y[i] = a[i] + b[i]}. */
    public static void add(float[] a, int aOff, float[] b, int bOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) y[yOff + i] = a[aOff + i] + b[bOff + i];
    }

    /** {@code y[i] = a[i] * b[i]}. */
    public static void mul(float[] a, int aOff, float[] b, int bOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) y[yOff + i] = a[aOff + i] * b[bOff + i];
    }

    /** {@code y[i] += alpha * x[i]}. */
    public static void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) y[yOff + i] += alpha * x[xOff + i];
    }

    /** {@code y[i] = alpha * x[i]}. */
    public static void scale(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) y[yOff + i] = alpha * x[xOff + i];
    }

    /** Sum of {@code x[off .. off+n)}, accumulated in double so long sums keep their precision. */
    public static double sum(float[] x, int off, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) s += x[off + i];
        return s;
    }

    /** Dot product of two ranges. */
    public static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        float s = 0;
        for (int i = 0; i < n; i++) s += a[aOff + i] * b[bOff + i];
        return s;
    }

    /** Softmax of each of {@code rows} rows of length {@code cols}, numerically stable (max subtracted). */
    public static void softmaxRows(float[] x, int xOff, float[] y, int yOff, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            int xo = xOff + r * cols, yo = yOff + r * cols;
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < cols; j++) max = Math.max(max, x[xo + j]);
            double s = 0;
            for (int j = 0; j < cols; j++) {
                float e = (float) Math.exp(x[xo + j] - max);
                y[yo + j] = e;
                s += e;
            }
            float inv = (float) (1.0 / s);
            for (int j = 0; j < cols; j++) y[yo + j] *= inv;
        }
    }

    /** Log-softmax of each row: {@code x - max - log(sum(exp(x - max)))}. */
    public static void logSoftmaxRows(float[] x, int xOff, float[] y, int yOff, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            int xo = xOff + r * cols, yo = yOff + r * cols;
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < cols; j++) max = Math.max(max, x[xo + j]);
            double s = 0;
            for (int j = 0; j < cols; j++) s += Math.exp(x[xo + j] - max);
            float lse = max + (float) Math.log(s);
            for (int j = 0; j < cols; j++) y[yo + j] = x[xo + j] - lse;
        }
    }
}
