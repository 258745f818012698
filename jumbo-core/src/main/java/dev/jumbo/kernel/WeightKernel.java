package dev.jumbo.kernel;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;
import jdk.incubator.vector.FloatVector;

/**
 * The products and the dequantization for weights stored in one format: F32, F16, BF16, or GGML's
 * blocks (Q8_0, Q4_0, Q4_K, Q6_K, laid out bit for bit as in llama.cpp's GGUF files). The weights
 * are a row-major {@code [rows, cols]} matrix starting at byte {@code at} of a {@link MemorySegment}
 * (a mapped model file or a heap array); activations and results are F32 arrays.
 *
 * <pre>{@code
 * byte[] q = Quantize.q8_0(w, 0, rows * cols);   // w: rows * cols floats; GGML Q8_0 bytes
 * WeightKernel.Q8_0.gemv(MemorySegment.ofArray(q), 0, rows, cols, x, 0, y, 0);
 * }</pre>
 *
 * <p>Decoding one token multiplies each weight matrix by one vector ({@link #gemv}): the rows are
 * split across the compute threads and every weight byte is read once, so the speed is the memory
 * bandwidth if decoding a block costs less than loading it. Prefill ({@link #gemm}) multiplies by
 * n activation rows: up to {@link #PANEL_MIN_N} of them, each block is decoded once for four rows;
 * from there the product is compute-bound, and panels of weight rows are decoded to F32 once and
 * run through {@link Gemm}'s register-tiled micro-kernel against all n rows ({@link #panelMultiply}).
 *
 * <p>Each output is one row's dot product computed by one thread in a fixed order, so results do
 * not depend on the thread count and are the same bits on every run, compiled or interpreted. The
 * block kernels are written for AVX-512 (16 float lanes, some loops in 256-bit halves, which Zen 4
 * runs at twice the rate); on a CPU without 512-bit vectors every format but F32 goes through
 * {@link #dequantize} and an F32 dot product instead ({@link #vectorized()} says which).
 */
public abstract sealed class WeightKernel permits F32Kernel, HalfKernel, Q8_0Kernel, Q4_0Kernel, Q4KKernel, Q6KKernel {
    // Declared before the kernels below, whose classes read them while this class initializes.
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /**
     * F16 scales are read with {@code Float.float16ToFloat(w.get(U16, at))} written out in the loops,
     * not through a helper: C2 does not always inline a helper into a large vector loop, and the
     * call then spills every vector register.
     */
    static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);

    /** 32-bit floats. */
    public static final WeightKernel F32 = new F32Kernel();
    /** IEEE half precision. */
    public static final WeightKernel F16 = new HalfKernel(false);
    /** bfloat16: the top half of an F32. */
    public static final WeightKernel BF16 = new HalfKernel(true);
    /**
     * GGML {@code block_q8_0}: against F32 activations while they fit in L1 (up to 3072 columns),
     * against activations quantized to 8 bits on the fly above that (see {@code Q8_0Kernel}).
     */
    public static final WeightKernel Q8_0 = new Q8_0Kernel(Q8_0Kernel.F32_ACTIVATIONS_MAX_COLS);
    /** GGML {@code block_q4_0}, multiplied against activations quantized to 8 bits on the fly (the faster path here). */
    public static final WeightKernel Q4_0 = new Q4_0Kernel(true);
    /** GGML {@code block_q4_K}: 256 values in 8 sub-blocks with 6-bit scales and minimums. */
    public static final WeightKernel Q4_K = new Q4KKernel(true);
    /** GGML {@code block_q6_K}: 256 six-bit values in 16 sub-blocks with 8-bit scales. */
    public static final WeightKernel Q6_K = new Q6KKernel();

    /**
     * Q8_0 always against F32 activations, and {@link #Q8_0_INT8_ACTIVATIONS} always against 8-bit
     * ones: the two paths {@link #Q8_0} chooses between by width, kept so that the comparison can be
     * rerun (jumbo-bench {@code WeightBandwidth}). The other {@code *_F32_ACTIVATIONS} kernels are
     * the paths their formats' defaults were measured against.
     */
    public static final WeightKernel Q8_0_F32_ACTIVATIONS = new Q8_0Kernel(Integer.MAX_VALUE);
    /** Q8_0 always against 8-bit activations; see {@link #Q8_0_F32_ACTIVATIONS}. */
    public static final WeightKernel Q8_0_INT8_ACTIVATIONS = new Q8_0Kernel(0);
    /** Q4_0 decoded to F32 by a 16-entry table lookup, against F32 activations: the path {@link #Q4_0} was measured against. */
    public static final WeightKernel Q4_0_F32_ACTIVATIONS = new Q4_0Kernel(false);
    /** Q4_K decoded to F32 by table lookups, against F32 activations: the path {@link #Q4_K} was measured against. */
    public static final WeightKernel Q4_K_F32_ACTIVATIONS = new Q4KKernel(false);

    /** The block kernels need 16 float lanes (two vectors per 32-value block) run natively. */
    static final boolean WIDE = FloatVector.SPECIES_PREFERRED.vectorBitSize() == 512;

    private final String name;
    final int blockSize, blockBytes;

    WeightKernel(String name, int blockSize, int blockBytes) {
        this.name = name;
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
    }

    /** True when this format's products run on its own vector kernels, false when they dequantize rows and take F32 dots. */
    public boolean vectorized() {
        return WIDE;
    }

    /** Bytes of one stored row of {@code cols} values. */
    public final long rowBytes(int cols) {
        if (cols % blockSize != 0)
            throw new IllegalArgumentException(name + " rows of " + cols + " values are not a whole number of blocks of " + blockSize);
        return (long) (cols / blockSize) * blockBytes;
    }

    /**
     * {@code y[yOff + r] = sum_c W[r, c] x[xOff + c]} for {@code r < rows}, rows split across the threads.
     *
     * @throws IndexOutOfBoundsException if x, y or the segment are too short
     */
    public final void gemv(MemorySegment w, long at, int rows, int cols, float[] x, int xOff, float[] y, int yOff) {
        check(w, at, rows, cols);
        Objects.checkFromIndexSize(xOff, cols, x.length);
        Objects.checkFromIndexSize(yOff, rows, y.length);
        multiply(w, at, rows, cols, x, xOff, 1, y, yOff);
    }

    /**
     * {@code y[i * rows + r] = sum_c W[r, c] x[i * cols + c]} for {@code n} activation rows {@code x [n, cols]}
     * into {@code y [n, rows]} (prefill); each weight row is read from memory once for all of them.
     *
     * @throws IndexOutOfBoundsException if x, y or the segment are too short
     */
    public final void gemm(MemorySegment w, long at, int rows, int cols, float[] x, int n, float[] y) {
        check(w, at, rows, cols);
        if (n < 0) throw new IllegalArgumentException("negative activation count " + n);
        Objects.checkFromIndexSize(0, Math.multiplyExact(n, cols), x.length);
        Objects.checkFromIndexSize(0, Math.multiplyExact(n, rows), y.length);
        if (n > 0) multiply(w, at, rows, cols, x, 0, n, y, 0);
    }

    /**
     * Decodes {@code count} consecutive values (whole blocks) starting at byte {@code at} into
     * {@code out[off .. off + count)}, computing each value exactly as GGML's {@code dequantize_row_*} does.
     */
    public abstract void dequantize(MemorySegment w, long at, int count, float[] out, int off);

    /**
     * {@code y[yOff + i * rows + r] = sum_c W[r, c] x[xOff + i * cols + c]}; arguments already checked.
     * From {@link #PANEL_MIN_N} activation rows, {@link #panelMultiply}. Below, each thread takes a range of rows; a row meets the activations four at a time ({@link #dot4}),
     * so its blocks are decoded once per four while the row sits in L1. (Decoding four weight rows
     * against one activation row to share the loads of x measured slower: four interleaved streams
     * from DRAM instead of one.)
     */
    void multiply(MemorySegment w, long at, int rows, int cols, float[] x, int xOff, int n, float[] y, int yOff) {
        if (n >= PANEL_MIN_N) {
            panelMultiply(w, at, rows, cols, x, xOff, n, y, yOff, PANEL_ROWS);
            return;
        }
        if (!vectorized()) {
            dequantizingMultiply(w, at, rows, cols, x, xOff, n, y, yOff);
            return;
        }
        Int8Activations q = int8Activations(cols) ? Int8Activations.acquire(x, xOff, cols, n) : null;
        try {
            long rowBytes = rowBytes(cols);
            Parallel.forRange(rows, (long) cols * n, (from, to) -> {
                for (int r = from; r < to; r++) {
                    long rowAt = at + r * rowBytes;
                    int i = 0;
                    for (; i + 4 <= n; i += 4) dot4(w, rowAt, cols, x, xOff + i * cols, q, i, y, yOff + i * rows + r, rows);
                    for (; i < n; i++) y[yOff + i * rows + r] = dot(w, rowAt, cols, x, xOff + i * cols, q, i);
                }
            });
        } finally {
            if (q != null) Int8Activations.release(q);
        }
    }

    /**
     * Activation rows from which {@link #multiply} turns into a matrix product proper: with many
     * rows the product is compute-bound, and a weight panel decoded once to F32 serves all of them.
     * At 8 rows (a server stepping 8 sequences) the four-row products won: stories110M Q8_0 decoded
     * 232 tokens/s over 8 sequences against 148-171 through panels (whose micro-kernel pads 8 rows to
     * 32 columns), while a 16-token prompt still prefilled faster through panels (377 against 276).
     */
    static final int PANEL_MIN_N = 16;
    /** Weight rows decoded per panel: {@code PANEL_ROWS * cols} floats (256 KB at 1024 columns) stay in L2. */
    static final int PANEL_ROWS = 64;

    /**
     * The prefill product for many activation rows, {@code y^T = W x^T} in {@link Gemm}'s pieces:
     * the activations are packed once as the sgemm's B operand ({@link GemmPacking#packB}, in depth
     * passes of at most {@link GemmBlocked#KC}); then each panel of {@code panelRows} weight rows is a
     * task that decodes the panel to F32 ({@link #dequantize}) and runs the register-tiled
     * {@link GemmMicroKernel} with the panel as A, read in place, into a scratch {@code [panel rows, n]}
     * that is transposed into y. A block is thus decoded once per call, whatever n, and no weight is
     * packed. Each output is summed by one thread in an order fixed by {@code cols} alone, so the
     * results do not depend on the thread count. The activations stay in F32 for every format.
     */
    final void panelMultiply(MemorySegment w, long at, int rows, int cols, float[] x, int xOff, int n, float[] y, int yOff,
                             int panelRows) {
        long rowBytes = rowBytes(cols);
        int nr = GemmMicroKernel.NR, mr = GemmMicroKernel.MR;
        int xPanels = Math.ceilDiv(n, nr), nPad = xPanels * nr;
        // equal depth passes (cols = 5632 as 6 x 939), as in GemmBlocked
        int kc = Math.ceilDiv(cols, Math.ceilDiv(cols, GemmBlocked.KC));
        Workspace shared = Workspace.acquire();
        try {
            // pass p0 of x at xp[p0 * nPad ..], its micro-panel q (NR activation rows) kc' * NR further per q
            float[] xp = shared.b(nPad * cols);
            Parallel.forRange(xPanels, (long) nr * cols, (q0, q1) -> {
                for (int p0 = 0; p0 < cols; p0 += kc)
                    GemmPacking.packB(true, x, xOff, cols, p0, Math.min(kc, cols - p0), 0, n, q0, q1, xp, p0 * nPad);
            });
            int panels = Math.ceilDiv(rows, panelRows);
            Parallel.forTasks(panels, p -> {
                int r0 = p * panelRows, pr = Math.min(panelRows, rows - r0), prPad = Math.ceilDiv(pr, mr) * mr;
                Workspace ws = Workspace.acquire();
                try {
                    float[] panel = ws.a(prPad * cols), t = ws.c(prPad * nPad);
                    dequantize(w, at + r0 * rowBytes, pr * cols, panel, 0);
                    Arrays.fill(panel, pr * cols, prPad * cols, 0f);
                    for (int p0 = 0; p0 < cols; p0 += kc) {
                        int depth = Math.min(kc, cols - p0);
                        for (int q = 0; q < xPanels; q++)
                            for (int ir = 0; ir < prPad; ir += mr)
                                GemmMicroKernel.tile(depth, panel, ir * cols + p0, cols, 1, xp, p0 * nPad + q * nr * depth,
                                        p0 > 0, t, ir * nPad + q * nr, nPad);
                    }
                    for (int i = 0; i < n; i++) {
                        int yo = yOff + i * rows + r0;
                        for (int r = 0; r < pr; r++) y[yo + r] = t[r * nPad + i];
                    }
                } finally {
                    Workspace.release(ws);
                }
            });
        } finally {
            Workspace.release(shared);
        }
    }

    /** True when the kernel multiplies rows of {@code cols} 8-bit activations ({@link Int8Activations}) rather than F32 ones. */
    boolean int8Activations(int cols) {
        return false;
    }

    /**
     * One weight row (from byte {@code rowAt}) times activation row {@code i}: {@code x[xOff .. xOff + cols)}
     * in F32, or row i of {@code q} when the kernel took 8-bit activations (q is null otherwise).
     */
    abstract float dot(MemorySegment w, long rowAt, int cols, float[] x, int xOff, Int8Activations q, int i);

    /** {@link #dot} for activation rows i .. i + 3 (F32 rows {@code cols} apart), into {@code y[yAt + k * yStride]}. */
    abstract void dot4(MemorySegment w, long rowAt, int cols, float[] x, int xOff, Int8Activations q, int i, float[] y, int yAt, int yStride);

    /** The portable product: each row dequantized into a scratch array, then F32 dot products. */
    final void dequantizingMultiply(MemorySegment w, long at, int rows, int cols, float[] x, int xOff, int n, float[] y, int yOff) {
        long rowBytes = rowBytes(cols);
        Parallel.forRange(rows, (long) cols * n, (from, to) -> {
            float[] row = new float[cols];
            for (int r = from; r < to; r++) {
                dequantize(w, at + r * rowBytes, cols, row, 0);
                for (int i = 0; i < n; i++) y[yOff + i * rows + r] = VectorMath.dot(row, 0, x, xOff + i * cols, cols);
            }
        });
    }

    private void check(MemorySegment w, long at, int rows, int cols) {
        if (rows < 0 || cols < 0) throw new IllegalArgumentException("negative matrix size [" + rows + ", " + cols + "]");
        Objects.checkFromIndexSize(at, Math.multiplyExact(rows, rowBytes(cols)), w.byteSize());
    }

    @Override
    public String toString() {
        return name;
    }
}
