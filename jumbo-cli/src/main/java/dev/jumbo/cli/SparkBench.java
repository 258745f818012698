package dev.jumbo.cli;

import dev.jumbo.data.Batch;
import dev.jumbo.data.Splits;
import dev.jumbo.data.TensorDataset;
import dev.jumbo.kernel.Parallel;
import dev.jumbo.nn.FlatParameters;
import dev.jumbo.nn.Init;
import dev.jumbo.optim.Adam;
import dev.jumbo.spark.DistributedDataset;
import dev.jumbo.spark.SparkContexts;
import dev.jumbo.spark.SparkTraining;
import dev.jumbo.spark.StandaloneCluster;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.train.Callback;
import dev.jumbo.train.FitOptions;
import dev.jumbo.train.Sequential;
import dev.jumbo.train.TrainingRun;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.broadcast.Broadcast;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code jumbo bench spark}: the same Fashion-MNIST training in one process, on {@code local[2]}
 * and on a standalone cluster of one-core workers started on 127.0.0.1 for the run; seconds per
 * epoch, the median step, the communication of a step alone (a step with no computation: the
 * weights broadcast, one gradient-sized result per partition collected and added) at the
 * model's size and at 8 and 64 times it (the cost per further MB), and the speed-up that cost
 * allows on a cluster of W machines. Every figure is a median: of epochs, of steps, of repeats.
 */
@Command(name = "spark", mixinStandardHelpOptions = true,
        description = "Seconds per epoch in one process vs local[2] vs a 2-worker standalone cluster on 127.0.0.1, communication per step and per MB, projected speed-up.")
final class SparkBench implements Callable<Integer> {
    /** Gradient sizes the communication is timed at, as multiples of the model's. */
    private static final int[] COMM_SCALES = {1, 8, 64};

    @Spec
    CommandSpec spec;

    @Option(names = "--arch", defaultValue = "mlp", description = "mlp or cnn (default: ${DEFAULT-VALUE}).")
    String arch;

    @Option(names = "--epochs", defaultValue = "1", description = "Epochs each way (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--batch-size", defaultValue = "64", description = "Global batch (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--train-examples", description = "Train on the first N examples only (default: all).")
    Integer trainExamples;

    @Option(names = "--seed", defaultValue = "42", description = "Initial weights and data order, as jumbo train --seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--workers", defaultValue = "2", description = "One-core workers of the standalone cluster (default: ${DEFAULT-VALUE}).")
    int workers;

    @Option(names = "--worker-memory", defaultValue = "1536", paramLabel = "MB", description = "Each worker's and executor's memory (default: ${DEFAULT-VALUE}).")
    int workerMemoryMb;

    @Option(names = "--comm-repeats", defaultValue = "9", description = "Timed communication-only steps per size (default: ${DEFAULT-VALUE}).")
    int commRepeats;

    @Option(names = "--data", paramLabel = "DIR", description = "Folder holding the Fashion-MNIST files.")
    Path dataDir;

    @Option(names = "--json", description = "Print one JSON object as the last line.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        Main.banner(err);
        if (epochs < 1 || batchSize < 1 || workers < 1 || commRepeats < 1)
            throw new IllegalArgumentException("--epochs, --batch-size, --workers and --comm-repeats must be positive");
        Splits s = DataOptions.of("fashion-mnist", dataDir).load();
        TensorDataset train = DataOptions.fit(s.train(), Architectures.build(arch, s.train().exampleShape(), 10).inputShape());
        if (trainExamples != null) {
            if (trainExamples < 1 || trainExamples > train.size())
                throw new IllegalArgumentException("--train-examples must be between 1 and " + train.size() + ", got " + trainExamples);
            train = first(train, trainExamples);
        }
        FitOptions options = FitOptions.defaults().epochs(epochs).batchSize(batchSize).seed(seed);

        // untimed: 20 steps first, so the JIT has compiled the kernels before any mode is timed in this JVM
        // (the cluster's executors are new JVMs and warm up during their run: that is part of their cost)
        model(s).fit(first(train, Math.min(train.size(), 20 * batchSize)), options.epochs(1));

        List<Mode> modes = new ArrayList<>();
        err.println("single process, " + Parallel.threads() + " threads...");
        err.flush();
        Sequential single = model(s);
        StepTimer t = new StepTimer();
        single.fit(train, options.callbacks(t));
        modes.add(new Mode("single process (" + Parallel.threads() + " threads)", t, null, 0));
        float[] reference = FlatParameters.state(single);
        int parameters = reference.length;

        err.println("local[2]...");
        err.flush();
        try (JavaSparkContext sc = SparkContexts.open("local[2]", "jumbo bench spark")) {
            sc.setLogLevel("ERROR");
            modes.add(onSpark("local[2]", sc, 2, s, train, options, reference, err));
        }

        err.println("standalone cluster: a master and " + workers + " one-core workers on 127.0.0.1...");
        err.flush();
        long t0 = System.nanoTime();
        try (StandaloneCluster cluster = StandaloneCluster.start(workers, workerMemoryMb);
             JavaSparkContext sc = new JavaSparkContext(cluster.conf("jumbo bench spark"))) {
            sc.setLogLevel("ERROR");
            awaitExecutors(sc, workers);
            err.printf("cluster up in %.1f s%n", (System.nanoTime() - t0) / 1e9);
            modes.add(onSpark("standalone, " + workers + " workers", sc, workers, s, train, options, reference, err));
        }

        report(out, train.size(), parameters, modes);
        return 0;
    }

    private static TensorDataset first(TensorDataset data, int n) {
        int[] rows = new int[n];
        for (int i = 0; i < n; i++) rows[i] = i;
        Batch b = data.batch(rows);
        return new TensorDataset(b.x(), b.y());
    }

    private Sequential model(Splits s) {
        Init.seed(seed);
        Sequential m = Architectures.build(arch, s.train().exampleShape(), 10);
        m.compile(new Adam(1e-3), "sparse_categorical_crossentropy", "accuracy");
        return m;
    }

    private Mode onSpark(String name, JavaSparkContext sc, int partitions, Splits s, TensorDataset train, FitOptions options,
                         float[] reference, PrintWriter err) {
        Sequential m = model(s);
        StepTimer t = new StepTimer();
        SparkTraining.fit(sc, m, DistributedDataset.of(sc, train, partitions), options.callbacks(t));
        float[] w = FlatParameters.state(m);
        double diff = 0;
        for (int i = 0; i < w.length; i++) diff = Math.max(diff, Math.abs(w[i] - reference[i]));
        CommFit comm = communication(sc, partitions, reference.length);
        err.printf("%s: %.1f s/epoch, max abs weight diff from one process %.2g%n", name, t.medianEpochSeconds(), diff);
        err.flush();
        return new Mode(name, t, comm, diff);
    }

    /**
     * Times steps that only communicate: the driver broadcasts {@code floats} values, every
     * partition reads them and returns as many, the driver collects and adds them, at the model's
     * size and {@link #COMM_SCALES} times it (medians of {@code --comm-repeats}).
     */
    private CommFit communication(JavaSparkContext sc, int partitions, int floats) {
        List<Integer> slices = new ArrayList<>();
        for (int p = 0; p < partitions; p++) slices.add(p);
        JavaRDD<Integer> rdd = sc.parallelize(slices, partitions);
        double[] mb = new double[COMM_SCALES.length], ms = new double[COMM_SCALES.length];
        for (int k = 0; k < COMM_SCALES.length; k++) {
            int n = floats * COMM_SCALES[k];
            mb[k] = n * 4.0 / (1 << 20);
            List<Double> times = new ArrayList<>();
            for (int r = -2; r < commRepeats; r++) { // two untimed: executors load the classes, the JIT compiles
                float[] weights = new float[n];
                weights[r & 1] = r;
                long t0 = System.nanoTime();
                Broadcast<float[]> b = sc.broadcast(weights);
                // as a training step gathers its gradients: collected in partition order and added in that order
                float[] sum = new float[0];
                for (float[] part : rdd.map(new GradientOfSize(b)).collect()) sum = add(sum, part);
                b.destroy();
                if (r >= 0) times.add((System.nanoTime() - t0) / 1e6);
                if (sum.length != n) throw new IllegalStateException("the communication step returned " + sum.length + " values, not " + n);
            }
            ms[k] = BenchCommand.median(times);
        }
        // not one straight line (measured: 0.21 -> 1.68 MB cost 3-4 times more per MB than 1.68 -> 13.4 MB), probably
        // because a task result over spark.task.maxDirectResultSize (1 MB) is fetched from the executor's block
        // manager, a round trip more. The cost per MB is the slope between the two largest sizes, both past it
        int last = mb.length - 1;
        double perMb = (ms[last] - ms[last - 1]) / (mb[last] - mb[last - 1]);
        return new CommFit(ms[0], perMb, mb, ms);
    }

    /** What a partition does in a communication-only step: reads the weights, returns a gradient of their size. */
    private record GradientOfSize(Broadcast<float[]> weights) implements Function<Integer, float[]> {
        @Override
        public float[] call(Integer partition) {
            return weights.value().clone();
        }
    }

    private static float[] add(float[] a, float[] b) {
        if (a.length == 0) return b;
        if (b.length == 0) return a;
        for (int i = 0; i < a.length; i++) a[i] += b[i];
        return a;
    }

    private static void awaitExecutors(JavaSparkContext sc, int count) throws InterruptedException {
        long deadline = System.nanoTime() + 120_000_000_000L;
        // the status tracker lists the driver's block manager beside the executors'
        while (sc.statusTracker().getExecutorInfos().length - 1 < count) {
            if (System.nanoTime() > deadline) throw new IllegalStateException("the cluster's " + count + " executors did not register within 120 s");
            Thread.sleep(100);
        }
    }

    private void report(PrintWriter out, int examples, int parameters, List<Mode> modes) {
        double gradientMb = parameters * 4.0 / (1 << 20);
        Mode single = modes.get(0), cluster = modes.get(modes.size() - 1);
        out.printf("%s on Fashion-MNIST: %,d examples, global batch %d, %d steps/epoch, %,d parameters (%.3f MB of gradient)%n",
                arch, examples, batchSize, single.timer.stepsPerEpoch(), parameters, gradientMb);
        out.printf("%-28s %10s %9s %12s %12s %14s%n", "mode", "s/epoch", "step ms", "comm ms/step", "ms per MB", "max abs diff");
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Mode m : modes) {
            String comm = m.comm == null ? "-" : String.format("%.1f", m.comm.atModelSize);
            String perMb = m.comm == null ? "-" : String.format("%.1f", m.comm.perMb);
            out.printf("%-28s %10.2f %9.2f %12s %12s %14s%n", m.name, m.timer.medianEpochSeconds(), m.timer.medianStepMs(), comm, perMb,
                    m.comm == null ? "-" : String.format("%.2g", m.diff));
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("mode", m.name);
            r.put("seconds_per_epoch", round(m.timer.medianEpochSeconds(), 3));
            r.put("median_step_ms", round(m.timer.medianStepMs(), 3));
            if (m.comm != null) {
                r.put("comm_ms_per_step", round(m.comm.atModelSize, 2));
                r.put("comm_ms_per_mb", round(m.comm.perMb, 2));
                List<Map<String, Object>> points = new ArrayList<>();
                for (int k = 0; k < m.comm.mb.length; k++)
                    points.add(Map.of("gradient_mb", round(m.comm.mb[k], 3), "median_ms", round(m.comm.ms[k], 2)));
                r.put("comm_samples", points);
                r.put("max_abs_weight_diff", m.diff);
            }
            rows.add(r);
        }
        // one machine computes a step in t1 (the single-process median step); W machines each compute 1/W of the
        // batch, then communicate for c, measured here on the cluster at this model's size:
        // speed-up(W) = t1 / (t1 / W + c); they beat one machine when t1 (1 - 1/W) > c
        double t1 = single.timer.medianStepMs(), c = cluster.comm.atModelSize;
        out.printf("communication-only step on the cluster:");
        for (int k = 0; k < cluster.comm.mb.length; k++) out.printf(" %.1f ms at %.2f MB;", cluster.comm.ms[k], cluster.comm.mb[k]);
        out.printf(" %.1f ms per further MB%n", cluster.comm.perMb);
        out.printf("projected speed-up on W machines = t1 / (t1 / W + c), t1 = %.2f ms (one process's step), c = %.1f ms:", t1, c);
        List<Map<String, Object>> projection = new ArrayList<>();
        for (int w : new int[] {2, 4, 8, 16}) {
            double speedup = t1 / (t1 / w + c);
            out.printf(" W=%d %.2fx", w, speedup);
            projection.add(Map.of("workers", w, "speedup", round(speedup, 3)));
        }
        out.println();
        out.printf("break-even: a step must compute for more than c W/(W-1) = %.0f ms on one machine at W=2 (%.0f ms as W grows)%n",
                2 * c, c);
        if (json) {
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("arch", arch);
            j.put("examples", examples);
            j.put("batch_size", batchSize);
            j.put("epochs", epochs);
            j.put("steps_per_epoch", single.timer.stepsPerEpoch());
            j.put("parameters", parameters);
            j.put("gradient_mb", round(gradientMb, 4));
            j.put("rows", rows);
            j.put("projection_formula", "speedup(W) = t1 / (t1 / W + c), t1 = single-process median step, c = the cluster's comm_ms_per_step");
            j.put("t1_ms", round(t1, 3));
            j.put("c_ms", round(c, 2));
            j.put("projection", projection);
            out.println(JsonOutput.line(j));
        }
    }

    private static double round(double v, int digits) {
        double f = Math.pow(10, digits);
        return Math.round(v * f) / f;
    }

    private record Mode(String name, StepTimer timer, CommFit comm, double diff) {}

    /** Communication-only step times: the median at the model's size, the bulk cost per MB, every size's median. */
    private record CommFit(double atModelSize, double perMb, double[] mb, double[] ms) {}

    /** Step and epoch wall times seen from the driver. */
    private static final class StepTimer implements Callback {
        private final List<Double> stepMs = new ArrayList<>(), epochSeconds = new ArrayList<>();
        private long epochStart, last;
        private int steps;

        @Override
        public void onEpochBegin(TrainingRun run, int epoch) {
            epochStart = last = System.nanoTime();
            steps = 0;
        }

        @Override
        public void onBatchEnd(TrainingRun run, int epoch, int batch, Map<String, Double> logs) {
            long now = System.nanoTime();
            stepMs.add((now - last) / 1e6);
            last = now;
            steps++;
        }

        @Override
        public void onEpochEnd(TrainingRun run, int epoch, Map<String, Double> logs) {
            epochSeconds.add((System.nanoTime() - epochStart) / 1e9);
        }

        int stepsPerEpoch() {
            return steps;
        }

        double medianStepMs() {
            return BenchCommand.median(stepMs);
        }

        double medianEpochSeconds() {
            return BenchCommand.median(epochSeconds);
        }
    }
}
