package dev.jumbo.bench;

import dev.jumbo.kernel.Parallel;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Prints how fast each weight type's gemv streams its weights, in GB/s and as a fraction of the
 * machine's memory bandwidth: the figure that bounds LLM decoding. Weights come from off-heap
 * copies larger than the L3 ({@link StreamedWeights}); each figure is the median of many calls,
 * the types and thread counts measured in alternation so a busy neighbour slows them all alike.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp jumbo-bench/target/benchmarks.jar dev.jumbo.bench.WeightBandwidth \
 *     [--peak 36] [--rounds 5] [--types Q8_0,Q4_0] [--threads 1,2] [--shapes 2048x5632,768x768]
 * </pre>
 */
public final class WeightBandwidth {
    private WeightBandwidth() {}

    public static void main(String[] args) {
        double peak = 36;
        int rounds = 5;
        List<String> types = List.of("F32", "F16", "BF16", "Q8_0", "Q8_0_F32", "Q8_0_INT8", "Q4_0", "Q4_0_F32", "Q4_K", "Q4_K_F32", "Q6_K");
        int[] threads = {1, 2};
        String[] shapes = {"2048x5632", "768x768"};
        for (int i = 0; i < args.length; i += 2) {
            String v = args[i + 1];
            switch (args[i]) {
                case "--peak" -> peak = Double.parseDouble(v);
                case "--rounds" -> rounds = Integer.parseInt(v);
                case "--types" -> types = List.of(v.split(","));
                case "--threads" -> threads = Arrays.stream(v.split(",")).mapToInt(Integer::parseInt).toArray();
                case "--shapes" -> shapes = v.split(",");
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        System.out.printf("gemv GB/s of weights streamed (median), %s; %d-core pool; peak %.0f GB/s%n",
                ManagementFactory.getRuntimeMXBean().getVmVersion(), Parallel.threads(), peak);
        for (String shape : shapes) {
            int rows = Integer.parseInt(shape.split("x")[0]), cols = Integer.parseInt(shape.split("x")[1]);
            List<StreamedWeights> ws = new ArrayList<>();
            for (String t : types) ws.add(new StreamedWeights(t, rows, cols, StreamedWeights.TOTAL_BYTES));
            double[][][] gbs = new double[ws.size()][threads.length][rounds];
            double[][] cpu = new double[ws.size()][rounds];
            for (int round = -1; round < rounds; round++) // round -1 warms up
                for (int k = 0; k < ws.size(); k++)
                    for (int t = 0; t < threads.length; t++) {
                        double[] g = measure(ws.get(k), threads[t]);
                        if (round >= 0) gbs[k][t][round] = g[0];
                        if (round >= 0 && threads[t] == 1) cpu[k][round] = g[1];
                    }
            System.out.printf("%n[%d, %d]%n%-10s", rows, cols, "type");
            for (int t : threads) System.out.printf("  %2d thr GB/s  of peak", t);
            System.out.printf("  1 thr GB/s per CPU second%n");
            for (int k = 0; k < ws.size(); k++) {
                System.out.printf("%-10s", types.get(k));
                for (int t = 0; t < threads.length; t++) {
                    double m = median(gbs[k][t]);
                    System.out.printf("  %11.1f  %6.0f%%", m, 100 * m / peak);
                }
                System.out.printf("  %11.1f%n", median(cpu[k]));
                ws.get(k).close();
            }
        }
    }

    /**
     * GB/s of one timed batch (at least 0.2 s of gemv calls over the copies): the median of its
     * calls by the clock, and by the calling thread's CPU time (with one thread all the work is on
     * it, so that figure ignores the time a busy machine takes the core away).
     */
    private static double[] measure(StreamedWeights w, int threads) {
        return Parallel.withThreads(threads, () -> {
            int calls = Math.max(w.copies.length, 20);
            long[] ns = new long[calls], cpu = new long[calls];
            long start = System.nanoTime();
            int done = 0;
            while (done < calls || System.nanoTime() - start < 200_000_000L && done < 100_000) {
                long c0 = CPU.getCurrentThreadCpuTime(), t0 = System.nanoTime();
                w.gemv();
                ns[done % calls] = System.nanoTime() - t0;
                cpu[done % calls] = CPU.getCurrentThreadCpuTime() - c0;
                done++;
            }
            return new double[] {w.matrixBytes / (double) median(ns), w.matrixBytes / (double) median(cpu)};
        });
    }

    private static final java.lang.management.ThreadMXBean CPU = ManagementFactory.getThreadMXBean();

    private static long median(long[] v) {
        long[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
