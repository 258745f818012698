package dev.jumbo.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class ParallelTest {
    private static final long HEAVY = 1L << 30;

    @Test
    void coversEveryIndexExactlyOnce() {
        for (int n : new int[] {1, 2, 7, 1000, 1023}) {
            AtomicIntegerArray hits = new AtomicIntegerArray(n);
            Parallel.forEach(n, HEAVY, i -> hits.incrementAndGet(i));
            for (int i = 0; i < n; i++) assertThat(hits.get(i)).as("index %d of %d", i, n).isEqualTo(1);
        }
    }

    @Test
    void rangesAreContiguousAndAtMostOnePerThread() {
        AtomicInteger chunks = new AtomicInteger();
        AtomicIntegerArray hits = new AtomicIntegerArray(100);
        Parallel.forRange(100, HEAVY, (from, to) -> {
            chunks.incrementAndGet();
            for (int i = from; i < to; i++) hits.incrementAndGet(i);
        });
        assertThat(chunks.get()).isBetween(1, Parallel.threads());
        for (int i = 0; i < 100; i++) assertThat(hits.get(i)).isEqualTo(1);
    }

    @Test
    void smallJobsRunOnTheCallingThread() {
        Set<Thread> seen = ConcurrentHashMap.newKeySet();
        Parallel.forEach(1000, 1, i -> seen.add(Thread.currentThread()));
        assertThat(seen).containsExactly(Thread.currentThread());
    }

    @Test
    void largeJobsRunConcurrently() throws InterruptedException {
        assumeTrue(Parallel.threads() > 1, "needs more than one compute thread");
        // Every chunk waits for all the others to start: this only finishes if they run at the same time.
        CountDownLatch started = new CountDownLatch(Parallel.threads());
        Set<Thread> seen = ConcurrentHashMap.newKeySet();
        AtomicInteger timedOut = new AtomicInteger();
        Parallel.forRange(Parallel.threads(), HEAVY, (from, to) -> {
            seen.add(Thread.currentThread());
            started.countDown();
            try {
                if (!started.await(10, TimeUnit.SECONDS)) timedOut.incrementAndGet();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertThat(timedOut.get()).isZero();
        assertThat(seen).hasSize(Parallel.threads());
    }

    @Test
    void nestedCallsRunInlineOnTheSameThread() {
        int n = 8;
        AtomicIntegerArray hits = new AtomicIntegerArray(n * n);
        AtomicInteger foreignInner = new AtomicInteger();
        Parallel.forEach(n, HEAVY, i -> {
            Thread outer = Thread.currentThread();
            Parallel.forEach(n, HEAVY, j -> {
                if (Thread.currentThread() != outer) foreignInner.incrementAndGet();
                hits.incrementAndGet(i * n + j);
            });
        });
        assertThat(foreignInner.get()).as("inner iterations on another thread").isZero();
        for (int i = 0; i < n * n; i++) assertThat(hits.get(i)).isEqualTo(1);
    }

    @Test
    void exceptionInATaskReachesTheCaller() {
        IllegalStateException boom = new IllegalStateException("boom");
        for (int failing : new int[] {0, 99}) {
            assertThatThrownBy(() -> Parallel.forEach(100, HEAVY, i -> {
                if (i == failing) throw boom;
            })).isSameAs(boom);
        }
        // The pool is still usable afterwards.
        AtomicInteger count = new AtomicInteger();
        Parallel.forEach(100, HEAVY, i -> count.incrementAndGet());
        assertThat(count.get()).isEqualTo(100);
    }

    @Test
    void anInterruptedCallerStillWaitsForEveryChunkAndKeepsItsFlag() {
        AtomicIntegerArray hits = new AtomicIntegerArray(64);
        Thread.currentThread().interrupt();
        try {
            Parallel.forEach(64, HEAVY, i -> {
                try {
                    Thread.sleep(1);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt(); // the caller's own chunks see its flag
                }
                hits.incrementAndGet(i);
            });
            for (int i = 0; i < 64; i++) assertThat(hits.get(i)).isEqualTo(1);
            assertThat(Thread.currentThread().isInterrupted()).isTrue();
        } finally {
            Thread.interrupted();
        }
    }

    @Test
    void idleWorkersPark() throws InterruptedException {
        Parallel.forEach(100, HEAVY, i -> {});
        Thread.sleep(300);
        Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("jumbo-compute-"))
                .forEach(t -> assertThat(t.getState()).as(t.getName())
                        .isIn(Thread.State.WAITING, Thread.State.TIMED_WAITING));
    }

    @Test
    void withThreadsOneRunsLargeJobsOnTheCallingThreadOnly() {
        Set<Thread> seen = ConcurrentHashMap.newKeySet();
        int threadsInside = Parallel.withThreads(1, () -> {
            Parallel.forRange(1 << 20, 1 << 10, (from, to) -> seen.add(Thread.currentThread()));
            return Parallel.threads();
        });
        assertThat(threadsInside).isEqualTo(1);
        assertThat(seen).containsExactly(Thread.currentThread());
        assertThat(Parallel.threads()).isGreaterThanOrEqualTo(1);
    }
}
