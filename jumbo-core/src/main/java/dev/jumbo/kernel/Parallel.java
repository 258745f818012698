package dev.jumbo.kernel;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;
import java.util.function.IntConsumer;

/**
 * The engine's compute pool: one worker per core, shared by every kernel.
 *
 * <p>Work is split into at most {@link #threads()} contiguous chunks so a kernel never
 * oversubscribes the machine. Small jobs run on the calling thread.
 */
public final class Parallel {
    private static final int THREADS = Integer.getInteger("jumbo.threads", Runtime.getRuntime().availableProcessors());
    private static final ForkJoinPool POOL = new ForkJoinPool(Math.max(1, THREADS));

    private Parallel() {}

    /** Number of compute threads ({@code -Djumbo.threads=N} overrides the core count). */
    public static int threads() {
        return THREADS;
    }

    /** A half-open range of indices that one task works on. */
    @FunctionalInterface
    public interface RangeBody {
        void run(int from, int to);
    }

    /**
     * Runs {@code body} over [0, n) split into contiguous chunks, in parallel when the estimated
     * work ({@code n * costPerItem} multiply-adds or so) is large enough to pay for the hand-off.
     */
    public static void forRange(int n, long costPerItem, RangeBody body) {
        if (n <= 0) return;
        int chunks = (int) Math.min(Math.min(THREADS, n), Math.max(1, (long) n * costPerItem / 32_768));
        if (chunks <= 1 || java.util.concurrent.ForkJoinTask.inForkJoinPool() && java.util.concurrent.ForkJoinTask.getPool() == POOL) {
            body.run(0, n);
            return;
        }
        RecursiveAction[] tasks = new RecursiveAction[chunks];
        for (int c = 0; c < chunks; c++) {
            int from = (int) ((long) n * c / chunks), to = (int) ((long) n * (c + 1) / chunks);
            tasks[c] = new RecursiveAction() {
                @Override
                protected void compute() {
                    body.run(from, to);
                }
            };
        }
        POOL.invoke(new RecursiveAction() {
            @Override
            protected void compute() {
                invokeAll(tasks);
            }
        });
    }

    /** Runs {@code body} for each index in [0, n), in parallel chunks. */
    public static void forEach(int n, long costPerItem, IntConsumer body) {
        forRange(n, costPerItem, (from, to) -> {
            for (int i = from; i < to; i++) body.accept(i);
        });
    }
}
