package dev.jumbo.spark;

import java.util.Locale;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * Whether a model's copies fit where a run keeps them, checked before the first step: a model too
 * big for an executor would otherwise fail its tasks with OutOfMemoryError, be retried, and lose
 * the executors one after another before Spark gives up. The counts are of weight-sized arrays:
 * an executor holds the broadcast weights once, and for each partition it hosts a replica's
 * weights, their gradients, the flat gradient and its serialised result; the driver holds the
 * model, its gradients, up to two optimizer slots, the weights it broadcasts and one gradient per
 * partition collected. Spark keeps {@value #RESERVED_MB} MB of every heap for itself.
 *
 * @param stateBytes bytes of one copy of the model's weights
 * @param partitions partitions the data is cut into
 * @param executors  executors the partitions spread over (0 in local mode, where the driver's JVM runs the tasks)
 */
record MemoryCheck(long stateBytes, int partitions, int executors) {
    static final long RESERVED_MB = 300;
    private static final long MB = 1 << 20;

    /** Bytes an executor hosting {@code hosted} partitions needs. */
    long executorBytes(int hosted) {
        return stateBytes * (1 + 4L * hosted);
    }

    /** Bytes the driver needs. */
    long driverBytes() {
        return stateBytes * (5L + partitions);
    }

    /**
     * Throws when the run does not fit: {@code executorHeap} is {@code spark.executor.memory} in bytes
     * (ignored in local mode), {@code driverHeap} the driver JVM's maximum heap.
     */
    void require(long executorHeap, long driverHeap) {
        long driverUsable = driverHeap - RESERVED_MB * MB;
        if (executors == 0) {
            long need = driverBytes() + executorBytes(partitions);
            if (need > driverUsable)
                throw new IllegalArgumentException(String.format(Locale.ROOT,
                        "the model (%s of weights) needs about %s in this JVM, where local mode runs the driver and all %d partitions"
                                + " (per partition a replica, its gradients and the share it sends), but its heap leaves %s after Spark's"
                                + " %d MB reserve: raise -Xmx (JUMBO_JAVA_OPTS=-Xmx16g ./jumbo ...), use fewer partitions, or a smaller model",
                        size(stateBytes), size(need), partitions, size(driverUsable), RESERVED_MB));
            return;
        }
        int hosted = (partitions + executors - 1) / executors;
        long need = executorBytes(hosted), usable = executorHeap - RESERVED_MB * MB;
        if (need > usable)
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                    "the model (%s of weights) needs about %s on an executor hosting %d of the %d partitions (the broadcast weights, and"
                            + " per partition a replica, its gradients and the share it sends), but spark.executor.memory = %s leaves %s after"
                            + " Spark's %d MB reserve: raise it (jumbo train --spark-conf spark.executor.memory=4g), add executors, or train a"
                            + " smaller model", size(stateBytes), size(need), hosted, partitions, size(executorHeap), size(usable), RESERVED_MB));
        if (driverBytes() > driverUsable)
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                    "the model (%s of weights) needs about %s on the driver (the model, its gradients, the optimizer's state and one"
                            + " gradient per partition), but its heap leaves %s: raise -Xmx (JUMBO_JAVA_OPTS=-Xmx16g ./jumbo ...)",
                    size(stateBytes), size(driverBytes()), size(driverUsable)));
    }

    /** The check for {@code sc}'s master, executors and settings. */
    static void require(JavaSparkContext sc, long stateBytes, int partitions) {
        boolean local = sc.master().startsWith("local");
        // the status tracker lists the driver's block manager too; executors may still be registering (then 1)
        int executors = local ? 0 : Math.max(1, sc.statusTracker().getExecutorInfos().length - 1);
        long executorHeap = sc.getConf().getSizeAsBytes("spark.executor.memory", "1g");
        new MemoryCheck(stateBytes, partitions, executors).require(executorHeap, Runtime.getRuntime().maxMemory());
    }

    private static String size(long bytes) {
        return bytes >= 10 * 1024 * MB ? String.format(Locale.ROOT, "%.1f GB", bytes / (1024.0 * MB))
                : String.format(Locale.ROOT, "%.1f MB", bytes / (double) MB);
    }
}
