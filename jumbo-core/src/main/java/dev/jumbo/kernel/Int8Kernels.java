package dev.jumbo.kernel;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Symmetric int8 arithmetic for post-training quantized layers: finding a scale, quantizing floats
 * to int8 values in [-127, 127], the integer product of two int8 matrices with int32 sums, and the
 * int8 patch matrix of a convolution. Each has a naive reference in the tests.
 *
 * <p>The product comes in two forms ({@link Int8Matrix} picks one): {@link #gemmPairs} multiplies
 * in 16-bit lanes, as {@link Q8_0Kernel} does: a product is at most 127 * 127, so the two products
 * sharing an int lane add up in 16 bits without overflow, and the int lanes then sum exactly;
 * {@link #gemmColumns} multiplies in int lanes, for short rows. -128 is never written by
 * {@link #quantize} (symmetric range); the products require their inputs to leave it out.
 *
 * <pre>{@code
 * float s = Int8Kernels.maxAbs(x, 0, x.length) / 127;
 * Int8Kernels.quantize(x, 0, x.length, s, xq, 0);
 * Int8Kernels.gemm(xq, m, wq, n, k, acc);   // acc[i * n + j] = sum_t xq[i * k + t] * wq[j * k + t]
 * }</pre>
 */
public final class Int8Kernels {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Short> H = ShortVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    /** Bytes as many as the preferred float vector's lanes, for quantizing. */
    private static final VectorSpecies<Byte> Q = VectorSpecies.of(byte.class, VectorShape.forBitSize(F.vectorBitSize() / 4));
    /** 1.5 * 2^23: adding and subtracting it rounds a float of magnitude below 2^22 to the nearest integer, ties to even (as Math.rint). */
    private static final float ROUNDER = 12582912f;

    private Int8Kernels() {}

    /** The largest {@code |x[off + i]|} for {@code i < n}; 0 for none, NaN if any is NaN. */
    public static float maxAbs(float[] x, int off, int n) {
        FloatVector m = FloatVector.zero(F);
        int i = 0;
        for (; i <= n - F.length(); i += F.length()) m = m.max(FloatVector.fromArray(F, x, off + i).abs());
        float r = m.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) r = Math.max(r, Math.abs(x[off + i]));
        return r;
    }

    /**
     * {@code q[qOff + i] = clamp(rint(x[xOff + i] / scale), -127, 127)}; a scale of 0 (an all-zero
     * tensor) writes zeros. Values beyond {@code 127 * scale} (outside a static calibration range)
     * saturate.
     */
    public static void quantize(float[] x, int xOff, int n, float scale, byte[] q, int qOff) {
        float inverse = scale > 0 ? 1 / scale : 0;
        FloatVector inv = FloatVector.broadcast(F, inverse), lo = FloatVector.broadcast(F, -127), hi = FloatVector.broadcast(F, 127);
        FloatVector rounder = FloatVector.broadcast(F, ROUNDER);
        Parallel.forRange(n, 4, (from, to) -> {
            int i = from;
            for (; i <= to - F.length(); i += F.length()) {
                // clamped first, then rounded: the same as Math.rint then clamping, as 127 is whole; NaN converts to 0
                FloatVector v = FloatVector.fromArray(F, x, xOff + i).mul(inv).max(lo).min(hi).add(rounder).sub(rounder);
                v.convertShape(VectorOperators.F2B, Q, 0).reinterpretAsBytes().intoArray(q, qOff + i);
            }
            for (; i < to; i++) q[qOff + i] = quantizeOne(x[xOff + i], inverse);
        });
    }

    /** One value: Math.rint (ties to even) of {@code x * inverse}, clamped to [-127, 127]. */
    static byte quantizeOne(float x, float inverse) {
        float v = Math.clamp((float) Math.rint(x * inverse), -127f, 127f);
        return (byte) (v == v ? v : 0); // NaN becomes 0
    }

    /**
     * {@code c[i * n + j] = sum_t a[i * k + t] * b[j * k + t]}: rows of {@code a} ({@code m x k})
     * against rows of {@code b} ({@code n x k}), exactly in int32 (k up to 2^31 / 127^2, 133,000).
     * Values must lie in [-127, 127]. A caller multiplying the same {@code b} many times prepares
     * it once as an {@link Int8Matrix}, which this builds each call.
     *
     * @throws IllegalArgumentException if the arrays are too short or k is too large for exact sums
     */
    public static void gemm(byte[] a, int m, byte[] b, int n, int k, int[] c) {
        new Int8Matrix(b, n, k).multiply(a, m, c);
    }

    /**
     * {@code b} ({@code n x k} int8) transposed to {@code k x n} ints, as {@link #gemmColumns} reads
     * it: for short rows (a first convolution's 3x3x1 patches) a dot product per output would be all
     * tail, so the outputs of a row are computed side by side instead.
     */
    public static int[] transposeWiden(byte[] b, int n, int k) {
        int[] t = new int[Math.multiplyExact(n, k)];
        for (int j = 0; j < n; j++)
            for (int i = 0; i < k; i++) t[i * n + j] = b[j * k + i];
        return t;
    }

    /**
     * The same product as {@link #gemm(byte[], int, byte[], int, int, int[])} with {@code b}
     * transposed and widened ({@link #transposeWiden}): each output row is a sum over t of
     * {@code a[i, t]} times row t of {@code bT}, in int lanes across the outputs, so no lane sums
     * are needed; the faster form when k is small.
     */
    public static void gemmColumns(byte[] a, int m, int[] bT, int n, int k, int[] c) {
        if (k > 133_000) throw new IllegalArgumentException("int8 product of length " + k + " could overflow int32 sums");
        if ((long) m * k > a.length || (long) n * k > bT.length || (long) m * n > c.length)
            throw new IllegalArgumentException("int8 gemm " + m + "x" + n + "x" + k + " does not fit arrays of " + a.length + ", " + bT.length + ", " + c.length);
        int lanes = I.length();
        Parallel.forRange(m, (long) n * k, (from, to) -> {
            for (int i = from; i < to; i++) {
                int aOff = i * k, cOff = i * n, j = 0;
                for (; j + 2 * lanes <= n; j += 2 * lanes) {
                    IntVector s0 = IntVector.zero(I), s1 = s0;
                    for (int t = 0; t < k; t++) {
                        int x = a[aOff + t], at = t * n + j;
                        s0 = IntVector.fromArray(I, bT, at).mul(x).add(s0);
                        s1 = IntVector.fromArray(I, bT, at + lanes).mul(x).add(s1);
                    }
                    s0.intoArray(c, cOff + j);
                    s1.intoArray(c, cOff + j + lanes);
                }
                for (; j + lanes <= n; j += lanes) {
                    IntVector s0 = IntVector.zero(I);
                    for (int t = 0; t < k; t++) s0 = IntVector.fromArray(I, bT, t * n + j).mul(a[aOff + t]).add(s0);
                    s0.intoArray(c, cOff + j);
                }
                for (; j < n; j++) {
                    int r = 0;
                    for (int t = 0; t < k; t++) r += a[aOff + t] * bT[t * n + j];
                    c[cOff + j] = r;
                }
            }
        });
    }

    /**
     * {@code b} ({@code n x k} int8) laid out for {@link #gemmPairs}: for each pair of positions
     * {@code (t, t + 1)}, the outputs side by side, each with its two weights adjacent:
     * {@code p[(t / 2) * 2 * nPad + 2 * j + t % 2] = b[j, t]}, with {@code n} rounded up to whole
     * vectors of int lanes ({@code nPad}) and an odd {@code k} padded, both with zeros.
     */
    public static short[] pairColumns(byte[] b, int n, int k) {
        int nPad = roundUp(n, I.length());
        short[] p = new short[Math.multiplyExact(Math.ceilDiv(k, 2) * 2, nPad)];
        for (int j = 0; j < n; j++)
            for (int t = 0; t < k; t++) p[(t / 2) * 2 * nPad + 2 * j + t % 2] = b[j * k + t];
        return p;
    }

    private static int roundUp(int n, int multiple) {
        return Math.ceilDiv(n, multiple) * multiple;
    }

    /**
     * The same product as {@link #gemm(byte[], int, byte[], int, int, int[])} with {@code b} in
     * {@link #pairColumns} layout: for each pair of a row's values, both are broadcast into every
     * int lane as two shorts, multiplied with the next two weights of every output at once, and the
     * two products of a lane added (at most 2 * 127^2) into the output's int32 sum. No lane sums
     * across outputs are needed, so each output is one lane of a vector from start to end.
     */
    public static void gemmPairs(byte[] a, int m, short[] p, int n, int k, int[] c) {
        if (k > 133_000) throw new IllegalArgumentException("int8 product of length " + k + " could overflow int32 sums");
        int nPad = roundUp(n, I.length()), lanes = I.length();
        if ((long) m * k > a.length || (long) Math.ceilDiv(k, 2) * 2 * nPad > p.length || (long) m * n > c.length)
            throw new IllegalArgumentException("int8 gemm " + m + "x" + n + "x" + k + " does not fit arrays of " + a.length + ", " + p.length + ", " + c.length);
        Parallel.forRange(m, (long) n * k, (from, to) -> {
            int[] row = new int[nPad];
            for (int i = from; i < to; i++) {
                int aOff = i * k, j = 0;
                for (; j + 4 * lanes <= nPad; j += 4 * lanes) {
                    IntVector s0 = IntVector.zero(I), s1 = s0, s2 = s0, s3 = s0;
                    for (int t = 0; t < k; t += 2) {
                        ShortVector x = pair(a, aOff, t, k);
                        int at = t * nPad + 2 * j; // (t / 2) * 2 * nPad, t even
                        s0 = s0.add(laneSums(ShortVector.fromArray(H, p, at).mul(x)));
                        s1 = s1.add(laneSums(ShortVector.fromArray(H, p, at + 2 * lanes).mul(x)));
                        s2 = s2.add(laneSums(ShortVector.fromArray(H, p, at + 4 * lanes).mul(x)));
                        s3 = s3.add(laneSums(ShortVector.fromArray(H, p, at + 6 * lanes).mul(x)));
                    }
                    s0.intoArray(row, j);
                    s1.intoArray(row, j + lanes);
                    s2.intoArray(row, j + 2 * lanes);
                    s3.intoArray(row, j + 3 * lanes);
                }
                for (; j < nPad; j += lanes) {
                    IntVector s0 = IntVector.zero(I);
                    for (int t = 0; t < k; t += 2) s0 = s0.add(laneSums(ShortVector.fromArray(H, p, t * nPad + 2 * j).mul(pair(a, aOff, t, k))));
                    s0.intoArray(row, j);
                }
                System.arraycopy(row, 0, c, i * n, n);
            }
        });
    }

    /** {@code a[t]} and {@code a[t + 1]} (0 past the row's end) as two shorts repeated across a vector. */
    private static ShortVector pair(byte[] a, int aOff, int t, int k) {
        int hi = t + 1 < k ? a[aOff + t + 1] : 0;
        return IntVector.broadcast(I, (a[aOff + t] & 0xFFFF) | hi << 16).reinterpretAsShorts();
    }

    /**
     * The float outputs of an int8 product: {@code y[i * n + j] = acc[i * n + j] * (xScale * wScales[j]) + bias[j]},
     * one multiply per output, the bias added in float; with {@code relu}, then {@code max(0, y)}
     * (the activation fused, saving a pass).
     */
    public static void rescale(int[] acc, int m, int n, float xScale, float[] wScales, float[] bias, boolean relu, float[] y, int yOff) {
        float[] s = new float[n];
        for (int j = 0; j < n; j++) s[j] = xScale * wScales[j];
        int lanes = I.length();
        FloatVector zero = FloatVector.zero(F);
        for (int i = 0; i < m; i++) {
            int at = i * n, j = 0;
            for (; j + lanes <= n; j += lanes) {
                FloatVector v = ((FloatVector) IntVector.fromArray(I, acc, at + j).convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.fromArray(F, s, j), FloatVector.fromArray(F, bias, j));
                (relu ? v.max(zero) : v).intoArray(y, yOff + at + j);
            }
            for (; j < n; j++) {
                float v = Math.fma((float) acc[at + j], s[j], bias[j]);
                y[yOff + at + j] = relu ? Math.max(0, v) : v;
            }
        }
    }

    /**
     * Each int lane of 16-bit products {@code p} holds two of them (low and high half); their sum,
     * at most 2 * 127^2 and so exact in 16 bits: the low half shifted up onto the high one, then
     * the total shifted back down with its sign.
     */
    private static IntVector laneSums(ShortVector p) {
        IntVector v = p.reinterpretAsInts();
        return v.add(v.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
    }

    /**
     * Patch rows {@code r0 .. r1} of int8 NHWC images, laid out as {@link Im2Col#gather} lays out
     * floats (row {@code r} at {@code dstOff + (r - r0) * kh * kw * c}); padding reads as 0, which
     * is the quantized zero of a symmetric scale.
     */
    public static void im2col(ConvGeometry g, byte[] x, int r0, int r1, byte[] dst, int dstOff) {
        int c = g.c(), kw = g.kw(), rowLen = kw * c, k = g.kh() * rowLen;
        for (int r = r0; r < r1; r++) {
            int ow = r % g.outW(), oh = r / g.outW() % g.outH(), b = r / (g.outW() * g.outH());
            int d = dstOff + (r - r0) * k, iw0 = ow * g.strideW() - g.padLeft();
            int j0 = Math.max(0, -iw0), j1 = Math.min(kw, g.w() - iw0);
            for (int i = 0; i < g.kh(); i++, d += rowLen) {
                int ih = oh * g.strideH() - g.padTop() + i;
                if (ih < 0 || ih >= g.h() || j0 >= j1) {
                    java.util.Arrays.fill(dst, d, d + rowLen, (byte) 0);
                    continue;
                }
                java.util.Arrays.fill(dst, d, d + j0 * c, (byte) 0);
                int from = ((b * g.h() + ih) * g.w() + iw0 + j0) * c, to = d + j0 * c, run = (j1 - j0) * c;
                if (run < 32) for (int v = 0; v < run; v++) dst[to + v] = x[from + v]; // a call costs more than a few bytes
                else System.arraycopy(x, from, dst, to, run);
                java.util.Arrays.fill(dst, d + j1 * c, d + rowLen, (byte) 0);
            }
        }
    }
}
