package dev.jumbo.cli;

import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.train.Sequential;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code jumbo profile}: what running a model costs on this machine: latency of one example,
 * throughput at a batch size, peak resident memory, and the energy per 1,000 predictions (RAPL
 * when readable, otherwise estimated from CPU-seconds), beside its parameters, size and FLOPs.
 */
@Command(name = "profile", mixinStandardHelpOptions = true,
        description = {"Measure a model's latency (one example), throughput (--batch), peak memory and energy per 1,000 predictions"
                + " (RAPL counters when readable, else CPU-seconds x --watts-per-core, labelled as such).",
                "Example: jumbo profile --model runs/cnn --batch 256 --seconds 5 --json"})
final class ProfileCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", paramLabel = "DIR", description = "A saved model folder.")
    Path dir;

    @Option(names = "--arch", description = "A built-in architecture (mlp or cnn) for 28x28x1 images and 10 classes, with fresh weights.")
    String arch;

    @Option(names = "--batch", defaultValue = "256", description = "Batch size of the throughput runs (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--seconds", defaultValue = "4", description = "Time for each of the two measurements, after as long again of warm-up (default: ${DEFAULT-VALUE}).")
    double seconds;

    @Option(names = "--watts-per-core", defaultValue = "" + EnergyMeter.DEFAULT_WATTS_PER_CORE,
            description = "Power of a busy core for the estimate when no RAPL counter is readable (default: ${DEFAULT-VALUE}, an EPYC 9654's TDP per core).")
    double wattsPerCore;

    @Option(names = "--json", description = "Print one JSON object with the figures as the last line.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        if ((dir == null) == (arch == null)) throw new IllegalArgumentException("give exactly one of --model DIR or --arch mlp|cnn");
        if (batch < 1 || !(seconds > 0)) throw new IllegalArgumentException("--batch must be at least 1 and --seconds positive");
        Main.banner(spec.commandLine().getErr());
        Sequential m = dir != null ? Sequential.load(dir) : Architectures.build(arch, Shape.of(28, 28, 1), 10);
        EnergyMeter meter = new EnergyMeter(wattsPerCore);
        Tensor one = input(m, 1), many = input(m, batch);
        run(m, one, seconds); // warm-up: the JIT compiles the kernels
        double[] single = run(m, one, seconds);
        run(m, many, seconds);
        EnergyMeter.Reading start = meter.read();
        double[] batched = run(m, many, seconds);
        EnergyMeter.Energy energy = meter.since(start);
        double latencyMs = median(single) * 1e3, perSecond = batch / median(batched);
        long predictions = (long) batched.length * batch;
        double joulesPer1k = energy.joules() / predictions * 1000;
        long params = m.stateDict().values().stream().mapToLong(Tensor::size).sum();
        long flops = 0;
        Shape s = m.inputShape();
        for (var l : m.layers()) {
            flops += l.flops(s);
            s = l.outputShape(s);
        }
        PrintWriter out = spec.commandLine().getOut();
        out.printf("%,d parameters (%.1f kB in f32), %,d FLOPs per example%n", params, 4 * params / 1024.0, flops);
        out.printf("latency (1 example): %.3f ms median of %d; throughput (batch %d): %.0f examples/s median of %d runs%n",
                latencyMs, single.length, batch, perSecond, batched.length);
        out.printf("peak RSS %.0f MB; energy %.3f J per 1,000 predictions, %s (%.2f CPU-seconds for %,d predictions)%n",
                BenchCommand.peakRssMb(), joulesPer1k, energy.label(), energy.cpuSeconds(), predictions);
        if (json) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("parameters", params);
            r.put("size_bytes_f32", 4 * params);
            r.put("flops", flops);
            r.put("latency_ms", latencyMs);
            r.put("batch", batch);
            r.put("examples_per_second", perSecond);
            r.put("peak_rss_mb", Math.round(BenchCommand.peakRssMb()));
            r.put("energy_joules_per_1k", joulesPer1k);
            r.put("energy_measured", energy.measured());
            r.put("cpu_seconds", energy.cpuSeconds());
            r.put("predictions", predictions);
            r.put("watts_per_core", energy.measured() ? null : wattsPerCore);
            out.println(JsonOutput.line(r));
        }
        out.flush();
        return 0;
    }

    /** Random inputs in [0, 1) of the model's shape, {@code n} of them. */
    private static Tensor input(Sequential m, int n) {
        int[] dims = new int[m.inputShape().rank() + 1];
        dims[0] = n;
        System.arraycopy(m.inputShape().toArray(), 0, dims, 1, m.inputShape().rank());
        float[] x = new float[n * m.inputShape().size()];
        Random r = new Random(1);
        for (int i = 0; i < x.length; i++) x[i] = r.nextFloat();
        return Tensor.of(x, dims);
    }

    /** Seconds per predict call, run back to back for about {@code seconds} (at least 3 calls). */
    private static double[] run(Sequential m, Tensor x, double seconds) {
        double[] times = new double[16];
        int n = 0;
        long end = System.nanoTime() + (long) (seconds * 1e9);
        while (n < 3 || System.nanoTime() < end) {
            long t0 = System.nanoTime();
            m.predict(x, x.dim(0));
            if (n == times.length) times = Arrays.copyOf(times, 2 * n);
            times[n++] = (System.nanoTime() - t0) / 1e9;
        }
        return Arrays.copyOf(times, n);
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
