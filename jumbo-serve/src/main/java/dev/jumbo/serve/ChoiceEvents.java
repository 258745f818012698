package dev.jumbo.serve;

import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * What a streaming request's choices produce, in order, from the decode loop to the thread that
 * writes the response: text pieces (at most {@code capacity} waiting; a choice whose piece does
 * not fit is dropped, so a slow client never holds the loop up) and the end of each choice.
 */
final class ChoiceEvents {
    /** An event of choice {@code index}. */
    sealed interface Event {
        int index();
    }

    /** A piece of a choice's text. */
    record Text(int index, String text) implements Event {}

    /** A choice's end: its completion, or the reason it has none (cancelled, failed). */
    record End(int index, Completion completion, Throwable failure) implements Event {}

    private final int capacity;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition ready = lock.newCondition();
    private final ArrayDeque<Event> events = new ArrayDeque<>(); // guarded by lock
    private int texts; // Text events queued; guarded by lock
    private int open; // choices not yet ended; guarded by lock

    ChoiceEvents(int choices, int capacity) {
        this.open = choices;
        this.capacity = capacity;
    }

    /** The sink of choice {@code index}: its pieces queue here while there is room. */
    TokenSink sink(int index) {
        return text -> {
            lock.lock();
            try {
                if (texts >= capacity) return false;
                texts++;
                events.add(new Text(index, text));
                ready.signal();
                return true;
            } finally {
                lock.unlock();
            }
        };
    }

    /** Queues choice {@code index}'s end when its future completes (an end always fits). */
    void endWhenDone(int index, CompletableFuture<Completion> future) {
        future.whenComplete((completion, failure) -> {
            lock.lock();
            try {
                events.add(new End(index, completion, failure));
                open--;
                ready.signal();
            } finally {
                lock.unlock();
            }
        });
    }

    /** The next event, waiting for one; null once every choice has ended and its events were taken. */
    Event take() throws InterruptedException {
        lock.lock();
        try {
            while (events.isEmpty() && open > 0) ready.await();
            return poll();
        } finally {
            lock.unlock();
        }
    }

    /** The next event if there is one now, else null. */
    Event poll() {
        lock.lock();
        try {
            Event e = events.poll();
            if (e instanceof Text) texts--;
            return e;
        } finally {
            lock.unlock();
        }
    }
}
