package dev.jumbo.kernel;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * The engine's compute pool: one worker per core, shared by every kernel.
 *
 * <p>Work is split into at most {@link #threads()} contiguous chunks so a kernel never
 * oversubscribes the machine. Small jobs run on the calling thread. The calling thread works
 * too (the pool holds {@code threads() - 1} workers), and a call made from inside a running
 * chunk (a kernel calling a kernel) runs inline on that thread instead of queueing behind
 * itself. If any chunk throws, the remaining unstarted chunks are skipped, the call waits for
 * the running ones, and the first exception is rethrown to the caller (later ones suppressed).
 * Idle workers park; nothing spins while there is no work.
 */
public final class Parallel {
    private static final int THREADS = Math.max(1,
            Integer.getInteger("jumbo.threads", Runtime.getRuntime().availableProcessors()));

    /** Below this many estimated multiply-adds per chunk, a hand-off (a few microseconds) does not pay. */
    private static final long MIN_WORK_PER_CHUNK = 1 << 16;

    /** Spin iterations before a waiting caller parks: chunks usually finish within a few microseconds of each other. */
    private static final int SPINS_BEFORE_PARK = 1 << 10;

    /** Helpers for the calling thread; null when there is one thread (everything then runs inline). */
    private static final ForkJoinPool POOL = THREADS == 1 ? null : new ForkJoinPool(THREADS - 1, pool -> {
        ForkJoinWorkerThread t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
        t.setName("jumbo-compute-" + t.getPoolIndex());
        t.setDaemon(true);
        return t;
    }, null, false);

    /** Bound by {@link #withThreads}: a lower thread count for the calls made inside it. */
    private static final ScopedValue<Integer> LIMIT = ScopedValue.newInstance();

    /** Bound while the current (non-pool) thread is running chunks, so nested calls run inline. */
    private static final ScopedValue<Boolean> INSIDE = ScopedValue.newInstance();

    private Parallel() {}

    /**
     * Number of compute threads: the core count, or {@code -Djumbo.threads=N}, or less inside
     * {@link #withThreads}.
     */
    public static int threads() {
        return LIMIT.isBound() ? Math.min(THREADS, LIMIT.get()) : THREADS;
    }

    /**
     * Runs {@code body} with kernels limited to {@code n} threads (benchmarks compare 1 and 2
     * threads in one process this way). A limit above the pool's size has no effect.
     */
    public static <T> T withThreads(int n, java.util.function.Supplier<T> body) {
        if (n < 1) throw new IllegalArgumentException("thread count must be positive, got " + n);
        return ScopedValue.where(LIMIT, n).call(body::get);
    }

    /** A half-open range of indices that one task works on. */
    @FunctionalInterface
    public interface RangeBody {
        /** Processes indices {@code from} (inclusive) to {@code to} (exclusive). */
        void run(int from, int to);
    }

    /**
     * Runs {@code body} over [0, n) split into contiguous chunks, in parallel when the estimated
     * work ({@code n * costPerItem} multiply-adds or so) is large enough to pay for the hand-off.
     */
    public static void forRange(int n, long costPerItem, RangeBody body) {
        if (n <= 0) return;
        long work = (long) n * Math.max(1, costPerItem);
        int chunks = (int) Math.min(Math.min(threads(), n), Math.max(1, work / MIN_WORK_PER_CHUNK));
        if (chunks <= 1 || insideParallel()) {
            body.run(0, n);
            return;
        }
        forTasks(chunks, c -> body.run((int) ((long) n * c / chunks), (int) ((long) n * (c + 1) / chunks)));
    }

    /** Runs {@code body} for each index in [0, n), in parallel chunks. */
    public static void forEach(int n, long costPerItem, IntConsumer body) {
        forRange(n, costPerItem, (from, to) -> {
            for (int i = from; i < to; i++) body.accept(i);
        });
    }

    /** True when the current thread is already running a chunk, where a new split would only add overhead. */
    static boolean insideParallel() {
        return POOL == null || threads() == 1 || INSIDE.isBound()
                || Thread.currentThread() instanceof ForkJoinWorkerThread w && w.getPool() == POOL;
    }

    /**
     * Runs tasks {@code 0 .. tasks-1}, each exactly once, on the calling thread plus up to
     * {@code threads() - 1} pool workers, which claim tasks one at a time. More tasks than
     * threads balance the load when a core is shared; a task must not depend on another.
     * Runs everything inline when already inside a parallel region.
     */
    static void forTasks(int tasks, IntConsumer task) {
        if (tasks <= 0) return;
        if (tasks == 1 || insideParallel()) {
            for (int t = 0; t < tasks; t++) task.accept(t);
            return;
        }
        Job job = new Job(tasks, task, Thread.currentThread());
        int helpers = Math.min(threads() - 1, tasks - 1);
        for (int h = 0; h < helpers; h++) POOL.execute(job::work);
        ScopedValue.where(INSIDE, Boolean.TRUE).run(job::work);
        job.awaitAll();
        Throwable failure = job.failure.get();
        if (failure instanceof RuntimeException e) throw e;
        if (failure instanceof Error e) throw e;
        if (failure != null) throw new IllegalStateException("parallel task failed", failure);
    }

    /** One call's tasks: a claim counter, a completion counter and the first failure. */
    private static final class Job {
        private final int tasks;
        private final IntConsumer task;
        private final Thread caller;
        private final AtomicInteger next = new AtomicInteger();
        private final AtomicInteger unfinished;
        final AtomicReference<Throwable> failure = new AtomicReference<>();

        Job(int tasks, IntConsumer task, Thread caller) {
            this.tasks = tasks;
            this.task = task;
            this.caller = caller;
            this.unfinished = new AtomicInteger(tasks);
        }

        /** Claims and runs tasks until none are left; helpers that start late find none and return. */
        void work() {
            for (int t; (t = next.getAndIncrement()) < tasks; ) {
                try {
                    if (failure.get() == null) task.accept(t);
                } catch (Throwable e) {
                    if (!failure.compareAndSet(null, e)) failure.get().addSuppressed(e);
                } finally {
                    if (unfinished.decrementAndGet() == 0) LockSupport.unpark(caller);
                }
            }
        }

        /**
         * Waits for every claimed task. An interrupt does not cut the wait short (the tasks are
         * still writing the caller's arrays) but is kept: park returns at once while the flag is
         * set, so it is cleared during the wait and restored afterwards rather than spinning.
         */
        void awaitAll() {
            boolean interrupted = false;
            for (int spin = 0; unfinished.get() > 0; spin++) {
                if (spin < SPINS_BEFORE_PARK) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                    interrupted |= Thread.interrupted();
                }
            }
            if (interrupted) Thread.currentThread().interrupt();
        }
    }
}
