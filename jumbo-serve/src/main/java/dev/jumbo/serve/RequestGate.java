package dev.jumbo.serve;

import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Runs the requests of a model that answers in one pass (an encoder, a classifier) one at a time,
 * in arrival order, with at most {@code capacity} running or waiting: beyond, {@link #run} refuses
 * at once, which the server answers with 429. One at a time because each pass already spreads its
 * kernels over every core.
 */
final class RequestGate {
    private final Semaphore turn = new Semaphore(1, true);
    private final AtomicInteger admitted = new AtomicInteger();
    private final int capacity;

    RequestGate(int capacity) {
        if (capacity < 1) throw new IllegalArgumentException("capacity must be at least 1, got " + capacity);
        this.capacity = capacity;
    }

    /**
     * {@code work}'s result, once every request admitted before it has run.
     *
     * @throws ServerBusyException when {@code capacity} requests are already running or waiting
     */
    <T> T run(Supplier<T> work) throws ServerBusyException, InterruptedException {
        if (admitted.incrementAndGet() > capacity) {
            admitted.decrementAndGet();
            throw new ServerBusyException(capacity + " requests for this model are running or waiting, the most it takes; try again shortly");
        }
        try {
            turn.acquire();
            try {
                return work.get();
            } finally {
                turn.release();
            }
        } finally {
            admitted.decrementAndGet();
        }
    }
}
