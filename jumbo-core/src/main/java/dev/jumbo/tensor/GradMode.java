package dev.jumbo.tensor;

/**
 * Whether operations on this thread record the graph that {@link Tensor#backward()} walks.
 *
 * <pre>{@code
 * try (var scope = GradMode.noGrad()) {
 *     Tensor y = model.forward(x);  // nothing recorded, no memory kept for backward
 * }
 * }</pre>
 */
public final class GradMode {
    private static final ThreadLocal<int[]> DISABLED = ThreadLocal.withInitial(() -> new int[1]);

    private GradMode() {}

    /** A scope (use with try-with-resources) in which no graph is recorded; scopes nest. */
    public static Scope noGrad() {
        DISABLED.get()[0]++;
        return () -> DISABLED.get()[0]--;
    }

    /** True unless inside a {@link #noGrad()} scope. */
    public static boolean isEnabled() {
        return DISABLED.get()[0] == 0;
    }

    /** A no-grad scope; closing it restores recording. */
    public interface Scope extends AutoCloseable {
        @Override
        void close();
    }
}
