package dev.jumbo.kernel;

import static dev.jumbo.kernel.GemmMicroKernel.MR;
import static dev.jumbo.kernel.GemmMicroKernel.NR;

import java.util.function.IntConsumer;

/**
 * The cache-blocked, packed path of {@link Gemm} (the GotoBLAS/BLIS loop nest).
 *
 * <pre>
 * C *= beta (only when beta is neither 0 nor 1)
 * for jc in N by NC:                     B panel (KC x NC) packed once, shared by all tasks
 *   for pc in K by KC:                   the first pass overwrites C when beta == 0, later ones add
 *     pack B[pc, jc]                     (in parallel over micro-panels)
 *     tasks over (M block x N slice):    each task packs its A block (MC x KC, stays in L2),
 *                                        or reads it in place when n is small (see below)
 *       for jr in slice by NR:             B micro-panel (KC x NR) streams from L2
 *         for ir in block by MR:           A micro-panel streams from L2
 *           micro-kernel MR x NR
 * </pre>
 *
 * Tasks are claimed dynamically by {@link Parallel#forTasks}, so a core shared with another
 * process slows the product down instead of stalling it behind a fixed split.
 */
final class GemmBlocked {
    /**
     * Depth of one packed pass. Deep on purpose: each pass costs a barrier between the threads and
     * a read-modify-write of C, and Zen 4's L2 streams the 128 KB B micro-panel as fast as the
     * micro-kernel consumes it (2 loads per 12 FMAs). Measured at n = 1024 on 2 threads, median
     * of 9 alternating rounds: KC 256 (4 passes) 150-180 GFLOPS, 384 174-186, 1024 (1 pass) 192-195.
     */
    static final int KC = 1024;
    /** Largest A block rows: {@code MC*KC*4} bytes (480 KB) stay in a 1 MB L2 beside a B micro-panel. */
    static final int MC = 120;
    /** Widest B panel: {@code KC*NC*4} bytes (8 MB) shared by all threads, in L3. */
    static final int NC = 2048;
    /** Below this many multiply-adds (~10 us on one core) waking another thread costs more than it saves. */
    private static final long PARALLEL_MIN = 1 << 20;
    /** Widest product whose A is read in place rather than packed. */
    static final int IN_PLACE_MAX_N = 4 * NR;

    private GemmBlocked() {}

    static void run(boolean transA, boolean transB, int m, int n, int k, float alpha,
                    float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                    float beta, float[] c, int cOff, int ldc) {
        boolean split = (long) m * n * k >= PARALLEL_MIN && !Parallel.insideParallel();
        int threads = split ? Parallel.threads() : 1;
        // Round the M blocks up to a multiple of the thread count so no thread idles at the end, and
        // deal the micro-panels out evenly (17 or 18 each, not 18 and a last block of 9).
        int mPanels = Math.ceilDiv(m, MR);
        int mBlocks = Math.ceilDiv(m, MC);
        if (threads > 1) mBlocks = Math.ceilDiv(mBlocks, threads) * threads;
        int mBlockCount = Math.min(mBlocks, mPanels);
        // Equal k passes (k = 300 runs as 150 + 150, not 256 + 44): a short pass pays the C traffic for little work.
        int kcMax = Math.ceilDiv(k, Math.ceilDiv(k, KC));
        // A read in place when packing it would cost about as much as using it: each value of
        // an A block meets only n / NR micro-panels of B (conv patch matrices against a few dozen
        // filters: 2.2 -> 1.6 ms for the CNN's conv2). Wider products pack: in place, n = 1024
        // on 2 threads fell from about 185 to 135 GFLOPS. Packing is also where alpha is folded in.
        boolean inPlace = alpha == 1 && n <= IN_PLACE_MAX_N;
        int aRow = transA ? 1 : lda, aStep = transA ? lda : 1;
        if (beta != 0 && beta != 1) {
            for (int i = 0; i < m; i++) VectorMath.scale(beta, c, cOff + i * ldc, c, cOff + i * ldc, n);
        }
        Workspace shared = Workspace.acquire();
        try {
            for (int jc = 0; jc < n; jc += NC) {
                int nc = Math.min(NC, n - jc), nPanels = Math.ceilDiv(nc, NR);
                // Too few M blocks to feed every thread: also cut the panel's columns into slices.
                int nSlices = threads == 1 || mBlockCount >= threads ? 1
                        : Math.min(nPanels, Math.ceilDiv(2 * threads, mBlockCount));
                for (int pc = 0; pc < k; pc += kcMax) {
                    int kc = Math.min(kcMax, k - pc);
                    boolean accumulate = pc > 0 || beta != 0;
                    float[] bp = shared.b(nPanels * NR * kc);
                    int jc0 = jc, pc0 = pc;
                    if (threads > 1)
                        Parallel.forRange(nPanels, (long) kc * NR, (q0, q1) ->
                                GemmPacking.packB(transB, b, bOff, ldb, pc0, kc, jc0, nc, q0, q1, bp));
                    else
                        GemmPacking.packB(transB, b, bOff, ldb, pc, kc, jc, nc, 0, nPanels, bp);
                    int slices = nSlices;
                    IntConsumer task = t -> {
                        int ib = t / slices, s = t % slices;
                        int i0 = (int) ((long) mPanels * ib / mBlockCount) * MR;
                        int mcb = Math.min(m, (int) ((long) mPanels * (ib + 1) / mBlockCount) * MR) - i0;
                        int q0 = (int) ((long) nPanels * s / slices), q1 = (int) ((long) nPanels * (s + 1) / slices);
                        Workspace ws = Workspace.acquire();
                        try {
                            int co = cOff + i0 * ldc + jc0;
                            if (inPlace) {
                                // Only a ragged last micro-panel is packed (zero-padded to MR rows).
                                int full = mcb / MR * MR;
                                float[] edge = ws.a(MR * kc);
                                if (full < mcb) GemmPacking.packA(transA, a, aOff, lda, i0 + full, mcb - full, pc0, kc, 1f, edge);
                                int base = aOff + i0 * aRow + pc0 * aStep;
                                macroKernel(mcb, nc, kc, a, base, aRow, aStep, edge, bp, q0, q1, accumulate, c, co, ldc, ws);
                            } else {
                                float[] ap = ws.a(roundUp(mcb, MR) * kc);
                                GemmPacking.packA(transA, a, aOff, lda, i0, mcb, pc0, kc, alpha, ap);
                                macroKernel(mcb, nc, kc, ap, 0, 1, MR, ap, bp, q0, q1, accumulate, c, co, ldc, ws);
                            }
                        } finally {
                            Workspace.release(ws);
                        }
                    };
                    int tasks = mBlockCount * nSlices;
                    if (threads > 1) Parallel.forTasks(tasks, task);
                    else for (int t = 0; t < tasks; t++) task.accept(t);
                }
            }
        } finally {
            Workspace.release(shared);
        }
    }

    /**
     * {@code C[0..mc, panels q0..q1] (+)= A * Bpacked} for one A block against B micro-panels
     * {@code q0 .. q1}. Micro-panel {@code ir} of A starts at {@code a[aBase + ir*panelStep]}
     * with rows {@code aRow} and k steps {@code aStep} apart (packed: {@code panelStep = kc,
     * aRow = 1, aStep = MR}); a last micro-panel of fewer than MR rows is read from the packed
     * {@code edge} instead, so the kernel never reads rows past the block. Edge tiles run the full
     * kernel into a scratch tile and copy the valid part, so the micro-kernel needs no masked variant.
     */
    private static void macroKernel(int mc, int nc, int kc, float[] a, int aBase, int aRow, int aStep, float[] edge,
                                    float[] bp, int q0, int q1, boolean accumulate, float[] c, int cOff, int ldc, Workspace ws) {
        boolean packed = edge == a;
        int panelStep = packed ? kc : aRow;
        for (int q = q0; q < q1; q++) {
            int jr = q * NR, cols = Math.min(NR, nc - jr), bOff = q * NR * kc;
            for (int ir = 0; ir < mc; ir += MR) {
                int rows = Math.min(MR, mc - ir), co = cOff + ir * ldc + jr;
                boolean fromEdge = rows < MR && !packed;
                float[] src = fromEdge ? edge : a;
                int ao = fromEdge ? 0 : aBase + ir * panelStep;
                int ar = fromEdge ? 1 : aRow, as = fromEdge ? MR : aStep;
                if (rows == MR && cols == NR) {
                    GemmMicroKernel.tile(kc, src, ao, ar, as, bp, bOff, accumulate, c, co, ldc);
                } else {
                    float[] tile = ws.c(MR * NR);
                    GemmMicroKernel.tile(kc, src, ao, ar, as, bp, bOff, false, tile, 0, NR);
                    for (int r = 0; r < rows; r++)
                        for (int j = 0; j < cols; j++) {
                            int o = co + r * ldc + j;
                            c[o] = accumulate ? c[o] + tile[r * NR + j] : tile[r * NR + j];
                        }
                }
            }
        }
    }

    private static int roundUp(int x, int multiple) {
        return Math.ceilDiv(x, multiple) * multiple;
    }
}
