package dev.jumbo.cli;

import dev.jumbo.data.TensorDataset;
import dev.jumbo.nn.Layer;
import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.train.Sequential;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code jumbo bench compress}: the trade-off table of issue 7 in one command. It trains the CNN,
 * then makes each compressed variant with the commands a user would run ({@code quantize},
 * {@code prune}, {@code distill}, in this process), and measures every folder the same way: test
 * accuracy, size on disk (config and weights), parameters, FLOPs per example, images per second at
 * batch 256 (median over {@code --seconds}, after as long of warm-up) and the energy of 1,000 predictions ({@link EnergyMeter}: measured or
 * estimated, and said which).
 */
@Command(name = "compress", mixinStandardHelpOptions = true,
        description = {"The compression trade-off table: CNN fp32, int8 dynamic and static, pruned 50/80/90% unstructured, 50% structured,"
                + " a distilled student at a quarter of the parameters; accuracy, size, parameters, FLOPs, images/s, energy per 1,000.",
                "Example: jumbo bench compress fashion-mnist --json"})
final class CompressBench implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "DATASET", description = "fashion-mnist or mnist.")
    String dataset;

    @Option(names = "--data", paramLabel = "DIR", description = "Folder holding the dataset's files.")
    Path dataDir;

    @Option(names = "--work", paramLabel = "DIR", description = "Folder for the variants' model folders (default: a new temporary folder).")
    Path work;

    @Option(names = "--epochs", defaultValue = "3", description = "Epochs of the fp32 CNN and of the student (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--fine-tune-epochs", defaultValue = "2", description = "Fine-tuning epochs of each pruned variant (default: ${DEFAULT-VALUE}).")
    int fineTuneEpochs;

    @Option(names = "--seconds", defaultValue = "3", description = "Time measuring each variant's throughput (default: ${DEFAULT-VALUE}).")
    double seconds;

    @Option(names = "--json", description = "Print {\"rows\": [...]} as the last line.")
    boolean json;

    /** One variant: its name, the folder, and the command (arguments after {@code jumbo}) that made it. */
    private record Variant(String name, Path dir, List<String> command) {}

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        if (epochs < 1 || fineTuneEpochs < 0 || !(seconds > 0)) throw new IllegalArgumentException("--epochs must be at least 1, --fine-tune-epochs at least 0, --seconds positive");
        Path dir = work != null ? Files.createDirectories(work) : Files.createTempDirectory("jumbo-compress-");
        List<String> data = new ArrayList<>(List.of(dataset));
        if (dataDir != null) data.addAll(List.of("--data", dataDir.toString()));
        Path fp32 = dir.resolve("fp32");
        List<Variant> variants = new ArrayList<>();
        variants.add(new Variant("fp32", fp32, concat(List.of("train"), data, List.of("--arch", "cnn", "--epochs", "" + epochs, "--out", fp32.toString(), "--no-progress"))));
        variants.add(new Variant("int8_dynamic", dir.resolve("int8-dynamic"), List.of("quantize", "--model", fp32.toString(), "--method", "int8-dynamic",
                "--out", dir.resolve("int8-dynamic").toString())));
        variants.add(new Variant("int8_static", dir.resolve("int8-static"), concat(List.of("quantize", "--model", fp32.toString(), "--method", "int8-static",
                "--calibration-data", dataset), dataDir == null ? List.of() : List.of("--data", dataDir.toString()), List.of("--out", dir.resolve("int8-static").toString()))));
        for (int s : new int[] {50, 80, 90}) {
            Path p = dir.resolve("pruned-" + s);
            variants.add(new Variant("pruned_" + s + "_unstructured", p, concat(List.of("prune", "--model", fp32.toString(), "--sparsity", "0." + s,
                    "--fine-tune-epochs", "" + fineTuneEpochs), data, List.of("--out", p.toString(), "--no-progress"))));
        }
        Path structured = dir.resolve("pruned-50-structured");
        variants.add(new Variant("pruned_50_structured", structured, concat(List.of("prune", "--model", fp32.toString(), "--sparsity", "0.5", "--structured",
                "--fine-tune-epochs", "" + fineTuneEpochs), data, List.of("--out", structured.toString(), "--no-progress"))));
        Path student = dir.resolve("student");
        variants.add(new Variant("distilled_student", student, concat(List.of("distill", "--teacher", fp32.toString(), "--student-arch", "cnn-small"), data,
                List.of("--temperature", "2", "--alpha", "0.5", "--epochs", "" + epochs, "--out", student.toString(), "--no-progress"))));

        TensorDataset test = DataOptions.of(dataset, dataDir).load().test();
        EnergyMeter meter = new EnergyMeter(EnergyMeter.DEFAULT_WATTS_PER_CORE);
        List<Map<String, Object>> rows = new ArrayList<>();
        out.printf("%-22s %9s %12s %11s %12s %10s %18s%n", "variant", "accuracy", "size", "parameters", "FLOPs", "images/s", "J per 1,000");
        for (Variant v : variants) {
            err.println("bench compress: jumbo " + String.join(" ", v.command()));
            run(v.command());
            Map<String, Object> row = measure(v, test, meter);
            rows.add(row);
            out.printf("%-22s %9.4f %12s %,11d %,12d %,10.0f %11.3f (%s)%n", v.name(), (double) row.get("test_accuracy"), kb((long) row.get("size_bytes")),
                    (long) row.get("parameters"), (long) row.get("flops"), (double) row.get("images_per_second"), (double) row.get("energy_joules_per_1k"),
                    (boolean) row.get("energy_measured") ? "measured" : "estimated");
            out.flush();
        }
        out.println("variants in " + dir + "; FLOPs count every weight, zeros included (a dense kernel multiplies them)");
        if (json) out.println(JsonOutput.line(Map.of("dataset", dataset, "rows", rows)));
        return 0;
    }

    /** Runs {@code jumbo ARGS} in this process; a failure ends the bench with the command's own error. */
    private static void run(List<String> args) {
        StringWriter err = new StringWriter();
        int code = Main.run(args.toArray(String[]::new), new PrintWriter(Writer.nullWriter()), new PrintWriter(err));
        if (code != 0) throw new IllegalStateException("jumbo " + String.join(" ", args) + " failed: " + err.toString().strip());
    }

    private Map<String, Object> measure(Variant v, TensorDataset test, EnergyMeter meter) throws IOException {
        Sequential m = Sequential.load(v.dir());
        TensorDataset fitted = DataOptions.fit(test, m.inputShape());
        m.compile(new dev.jumbo.optim.Adam(1e-3), "sparse_categorical_crossentropy", "accuracy");
        double accuracy = m.evaluate(fitted, 256).get("accuracy");
        int n = Math.min(256, fitted.size());
        Tensor batch = fitted.x().slice(0, 0, n);
        // warm-up as long as the measurement: the JIT compiles each variant's kernels (the first row would pay for them otherwise)
        for (long warm = System.nanoTime() + (long) (seconds * 1e9); System.nanoTime() < warm; ) m.predict(batch, n);
        long end = System.nanoTime() + (long) (seconds * 1e9);
        List<Double> times = new ArrayList<>();
        EnergyMeter.Reading start = meter.read();
        while (times.size() < 3 || System.nanoTime() < end) {
            long t0 = System.nanoTime();
            m.predict(batch, n);
            times.add((System.nanoTime() - t0) / 1e9);
        }
        EnergyMeter.Energy energy = meter.since(start);
        double[] sorted = times.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        double median = sorted[sorted.length / 2];
        long flops = 0;
        Shape s = m.inputShape();
        for (Layer l : m.layers()) {
            flops += l.flops(s);
            s = l.outputShape(s);
        }
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("variant", v.name());
        row.put("test_accuracy", accuracy);
        row.put("size_bytes", folderBytes(v.dir()));
        row.put("parameters", m.stateDict().values().stream().mapToLong(Tensor::size).sum());
        row.put("flops", flops);
        row.put("images_per_second", n / median);
        row.put("energy_joules_per_1k", energy.joules() / ((double) times.size() * n) * 1000);
        row.put("energy_measured", energy.measured());
        return row;
    }

    /** The files a model is: its config and weights (a training run's checkpoint, metrics and chart beside them are not). */
    private static long folderBytes(Path dir) throws IOException {
        return Files.size(dir.resolve(Sequential.CONFIG_FILE)) + Files.size(dir.resolve(Sequential.WEIGHTS_FILE));
    }

    private static String kb(long bytes) {
        return String.format("%.1f kB", bytes / 1024.0);
    }

    @SafeVarargs
    private static List<String> concat(List<String>... parts) {
        return Arrays.stream(parts).flatMap(List::stream).toList();
    }
}
