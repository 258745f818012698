package dev.jumbo.serve;

import java.time.Duration;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Admits requests until it closes, and counts those in flight so that a drain can wait for them.
 * One lock orders both: a request admitted before {@link #close()} is counted by the time
 * {@link #awaitIdle} looks, and none is admitted after.
 *
 * <pre>{@code
 * if (!inFlight.enter()) return refuse503();
 * try { handle(); } finally { inFlight.exit(); }
 * // elsewhere, on SIGTERM:
 * inFlight.close();
 * boolean finished = inFlight.awaitIdle(Duration.ofSeconds(30));
 * }</pre>
 */
final class InFlightRequests {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition idle = lock.newCondition();
    private int inFlight; // guarded by lock
    private boolean closed; // guarded by lock

    /** Admits a request (true; call {@link #exit()} when it is answered), or refuses it once closed (false). */
    boolean enter() {
        lock.lock();
        try {
            if (closed) return false;
            inFlight++;
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** An admitted request was answered. */
    void exit() {
        lock.lock();
        try {
            if (--inFlight == 0) idle.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Admits no more requests; those in flight go on. */
    void close() {
        lock.lock();
        try {
            closed = true;
        } finally {
            lock.unlock();
        }
    }

    boolean isClosed() {
        lock.lock();
        try {
            return closed;
        } finally {
            lock.unlock();
        }
    }

    /** Requests admitted and not yet answered. */
    int count() {
        lock.lock();
        try {
            return inFlight;
        } finally {
            lock.unlock();
        }
    }

    /** Waits until no request is in flight, at most {@code timeout}; true if none is. */
    boolean awaitIdle(Duration timeout) throws InterruptedException {
        long left = timeout.toNanos();
        lock.lock();
        try {
            while (inFlight > 0) {
                if (left <= 0) return false;
                left = idle.awaitNanos(left);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }
}
