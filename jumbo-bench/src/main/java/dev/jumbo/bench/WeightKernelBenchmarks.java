package dev.jumbo.bench;

import dev.jumbo.kernel.Parallel;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * gemv of one weight matrix per stored type, as decoding a token runs it: a TinyLlama FFN matrix
 * ({@code 2048x5632}) and a GPT-2-small one ({@code 768x768}), on 1 and 2 threads, weights streamed
 * from off-heap copies larger than the L3 ({@link StreamedWeights}). The {@code bytes} counter is the
 * rate of weight bytes streamed: bytes/s, so 1.8e10 is 18 GB/s (compare with the machine's memory
 * bandwidth). {@code Q8_0_F32}, {@code Q8_0_INT8}, {@code Q4_0_F32} and {@code Q4_K_F32} are the paths the default Q8_0, Q4_0 and Q4_K
 * kernels were chosen against. {@link WeightBandwidth} prints the same figures as a table.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -jar jumbo-bench/target/benchmarks.jar WeightKernelBenchmarks -p type=Q8_0,Q4_0
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class WeightKernelBenchmarks {
    @Param({"F32", "F16", "BF16", "Q8_0", "Q8_0_F32", "Q8_0_INT8", "Q4_0", "Q4_0_F32", "Q4_K", "Q4_K_F32", "Q6_K"})
    public String type;

    @Param({"2048x5632", "768x768"})
    public String shape;

    @Param({"1", "2"})
    public int threads;

    private StreamedWeights weights;

    /** Weight bytes streamed, reported by JMH as a rate (bytes per second). */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Streamed {
        public long bytes;

        @Setup(Level.Iteration)
        public void reset() {
            bytes = 0;
        }
    }

    @Setup(Level.Trial)
    public void setUp() {
        String[] rc = shape.split("x");
        weights = new StreamedWeights(type, Integer.parseInt(rc[0]), Integer.parseInt(rc[1]), StreamedWeights.TOTAL_BYTES);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        weights.close();
    }

    @Benchmark
    public float[] gemv(Streamed streamed) {
        streamed.bytes += weights.matrixBytes;
        return Parallel.withThreads(threads, weights::gemv);
    }
}
