package dev.jumbo.kernel;

import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Scratch arrays (packed panels, edge tiles, gathered rows, im2col patches) reused across
 * kernel calls, so hot paths allocate nothing once warm.
 *
 * <p>A small shared free list rather than a {@code ThreadLocal}: callers may be virtual threads
 * or short-lived request threads, and a per-thread cache would allocate megabytes for each of
 * them. The list never holds more workspaces than were ever in use at the same time.
 *
 * <pre>{@code
 * Workspace ws = Workspace.acquire();
 * try { float[] buf = ws.a(size); ... } finally { Workspace.release(ws); }
 * }</pre>
 */
final class Workspace {
    private static final ConcurrentLinkedQueue<Workspace> FREE = new ConcurrentLinkedQueue<>();
    /**
     * Floats allocated past the requested size. A masked vector load or store whose full vector
     * would reach past the array's end leaves the intrinsic and checks lane by lane (100x slower,
     * a sixth of a CNN epoch when packing wrote its last k steps that way), so scratch arrays keep
     * one vector of room beyond what their callers ask for.
     */
    private static final int SLACK = 2 * GemmMicroKernel.V;

    private float[] a = new float[0];
    private float[] b = new float[0];
    private float[] c = new float[0];

    private Workspace() {}

    static Workspace acquire() {
        Workspace ws = FREE.poll();
        return ws != null ? ws : new Workspace();
    }

    static void release(Workspace ws) {
        FREE.offer(ws);
    }

    /** First scratch array (packed A, patches), at least {@code size} long; contents undefined. */
    float[] a(int size) {
        if (a.length < size + SLACK) a = new float[size + SLACK];
        return a;
    }

    /** Second scratch array (packed B, gathered columns), at least {@code size} long; contents undefined. */
    float[] b(int size) {
        if (b.length < size + SLACK) b = new float[size + SLACK];
        return b;
    }

    /** Third scratch array (edge tiles, gathered rows), at least {@code size} long; contents undefined. */
    float[] c(int size) {
        if (c.length < size + SLACK) c = new float[size + SLACK];
        return c;
    }
}
