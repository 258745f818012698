package dev.jumbo.cli;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * SIGTERM and SIGINT turned into a request to stop that the command's own thread answers: the
 * first signal releases {@link #await()}, so a server can drain and the command return its exit
 * code (0) as any command does; a second signal exits at once, as the JVM would have.
 *
 * <p>Why not a shutdown hook alone: the JVM answers these signals by running the hooks and then
 * exiting with 128 + the signal (143 for SIGTERM) whatever the hooks did, and a process manager
 * reads that as a failure. {@code sun.misc.Signal} (module {@code jdk.unsupported}) is the one
 * way to handle a signal in Java; JEP 260 keeps it accessible for this use. javac warns at each
 * use of it, hence this one small class.
 *
 * <pre>{@code
 * try (StopSignals signals = StopSignals.install("TERM", "INT")) {
 *     String name = signals.await();   // "SIGTERM"
 *     server.drain(timeout);
 * }
 * }</pre>
 */
final class StopSignals implements AutoCloseable {
    private final CountDownLatch received = new CountDownLatch(1);
    private final AtomicReference<String> first = new AtomicReference<>();
    private final Map<Signal, SignalHandler> previous = new LinkedHashMap<>();

    private StopSignals() {}

    /**
     * Handles the named signals ({@code TERM}, {@code INT}) until closed. One the JVM keeps for
     * itself (with {@code -Xrs}, say) keeps its usual handling: the shutdown hooks.
     */
    static StopSignals install(String... names) {
        StopSignals signals = new StopSignals();
        for (String name : names) {
            Signal signal = new Signal(name);
            try {
                signals.previous.put(signal, Signal.handle(signal, signals::received));
            } catch (IllegalArgumentException unavailable) {
                // left to the JVM
            }
        }
        return signals;
    }

    private void received(Signal signal) {
        if (first.compareAndSet(null, "SIG" + signal.getName())) received.countDown();
        else System.exit(128 + signal.getNumber()); // asked twice: stop now (the shutdown hooks still run)
    }

    /** Waits for the first signal and names it, such as {@code SIGTERM}. */
    String await() throws InterruptedException {
        received.await();
        return first.get();
    }

    /** Gives the signals back to their previous handlers (the JVM's). */
    @Override
    public void close() {
        previous.forEach(Signal::handle);
    }
}
