package dev.jumbo.spark;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The arithmetic of {@link MemoryCheck}; StandaloneClusterTest sees a real cluster refuse a model. */
class MemoryCheckTest {
    private static final long MB = 1 << 20;

    @Test
    void anExecutorNeedsTheBroadcastAndFourCopiesPerPartitionItHosts() {
        // 100 MB of weights, 4 partitions over 2 executors: 2 hosted each, 1 + 4 * 2 = 9 copies = 900 MB
        MemoryCheck c = new MemoryCheck(100 * MB, 4, 2);
        assertThatCode(() -> c.require((900 + 300) * MB, 8192 * MB)).doesNotThrowAnyException();
        assertThatThrownBy(() -> c.require((900 + 299) * MB, 8192 * MB))
                .hasMessageContaining("needs about 900.0 MB on an executor hosting 2 of the 4 partitions")
                .hasMessageContaining("leaves 899.0 MB after Spark's 300 MB reserve")
                .hasMessageContaining("--spark-conf spark.executor.memory=");
        // 5 partitions over 2 executors: one hosts 3
        assertThatThrownBy(() -> new MemoryCheck(100 * MB, 5, 2).require(1200 * MB, 8192 * MB))
                .hasMessageContaining("1300.0 MB on an executor hosting 3 of the 5 partitions");
    }

    @Test
    void theDriverHoldsTheModelItsOptimizerAndOneGradientPerPartition() {
        // 5 + 4 partitions = 9 copies on the driver
        MemoryCheck c = new MemoryCheck(100 * MB, 4, 4);
        assertThatCode(() -> c.require(4096 * MB, (900 + 300) * MB)).doesNotThrowAnyException();
        assertThatThrownBy(() -> c.require(4096 * MB, (899 + 300) * MB))
                .hasMessageContaining("needs about 900.0 MB on the driver").hasMessageContaining("-Xmx");
    }

    @Test
    void localModeAddsTheDriversAndEveryPartitionsCopiesInOneJvm() {
        // driver 5 + 2, tasks 1 + 4 * 2: 16 copies of 1 GB
        MemoryCheck c = new MemoryCheck(1024 * MB, 2, 0);
        assertThatCode(() -> c.require(0, (16 * 1024 + 300) * MB)).doesNotThrowAnyException();
        assertThatThrownBy(() -> c.require(0, (16 * 1024 + 299) * MB))
                .hasMessageContaining("needs about 16.0 GB in this JVM, where local mode runs the driver and all 2 partitions")
                .hasMessageContaining("JUMBO_JAVA_OPTS=-Xmx");
    }
}
