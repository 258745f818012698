package dev.jumbo.cli;

import dev.jumbo.data.FashionMnist;
import dev.jumbo.data.Splits;
import dev.jumbo.io.AtomicFiles;
import dev.jumbo.data.TensorDataset;
import dev.jumbo.nn.Init;
import dev.jumbo.optim.Adam;
import dev.jumbo.train.Callback;
import dev.jumbo.train.Checkpoint;
import dev.jumbo.train.CsvLogger;
import dev.jumbo.train.FitOptions;
import dev.jumbo.train.History;
import dev.jumbo.train.ModelCheckpoint;
import dev.jumbo.train.Sequential;
import dev.jumbo.train.TrainingRun;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code jumbo train}: trains a built-in architecture and writes the model, a metrics CSV and a chart. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Train a model on a dataset; writes DIR/config.json, DIR/model.safetensors, DIR/metrics.csv and DIR/training.png.",
                "Example: jumbo train fashion-mnist --arch cnn --epochs 3 --batch-size 64 --out runs/cnn"})
final class TrainCommand implements Callable<Integer> {
    /** The class names, a line each, beside a model trained on a dataset that names its classes ({@code jumbo serve} reports them). */
    static final String LABELS_FILE = "labels.txt";

    /** The class names saved beside a model folder ({@link #LABELS_FILE}), empty when it has none. */
    static java.util.List<String> labels(java.nio.file.Path modelDir) throws java.io.IOException {
        java.nio.file.Path f = modelDir.resolve(LABELS_FILE);
        return java.nio.file.Files.isRegularFile(f)
                ? java.nio.file.Files.readAllLines(f).stream().map(String::strip).filter(l -> !l.isEmpty()).toList() : java.util.List.of();
    }

    @Spec
    CommandSpec spec;

    @Mixin
    DataOptions data;

    @Option(names = "--arch", defaultValue = "cnn", description = "mlp, cnn, dp-cnn, vgg, vgg-bn or resnet (default: ${DEFAULT-VALUE}).")
    String arch;

    @Option(names = "--classes", paramLabel = "IDS",
            description = "Train on these classes only, relabelled 0..k-1 in order: 0-4, 5,7,9 or 0-2,8 (labels.txt names them).")
    String classes;

    @Option(names = "--epochs", defaultValue = "5", description = "Epochs (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--batch-size", description = "Examples per step (default: 32 for mlp, 64 for cnn).")
    Integer batchSize;

    @Option(names = "--lr", defaultValue = "0.001", description = "Adam learning rate (default: ${DEFAULT-VALUE}).")
    double learningRate;

    @Option(names = "--validation-split", defaultValue = "0",
            description = "Hold out this fraction of the training data for validation; 0 validates on the test set (default).")
    double validationSplit;

    @Option(names = "--seed", defaultValue = "42", description = "Seeds weights and shuffling (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--out", defaultValue = "runs/model", paramLabel = "DIR", description = "Output folder (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--checkpoint-every", defaultValue = "0", paramLabel = "N",
            description = "Also checkpoint every N batches to DIR/checkpoint.safetensors (always at epoch ends).")
    int checkpointEvery;

    @Option(names = "--resume", description = "Continue from DIR/checkpoint.safetensors.")
    boolean resume;

    @Option(names = "--json", description = "Print one JSON object with the results as the last line.")
    boolean json;

    @Option(names = "--no-progress", description = "No progress bar (per-epoch lines only).")
    boolean noProgress;

    @Option(names = {"--spark", "--spark-master"}, arity = "0..1", fallbackValue = "local[*]", paramLabel = "MASTER",
            description = "Train data-parallel on Spark (the same weights as without it): local[*] when no MASTER, local[2], spark://host:7077 ...")
    String spark;

    @Option(names = "--spark-conf", paramLabel = "KEY=VALUE",
            description = "A Spark setting for --spark, repeatable: spark.executor.memory=4g, spark.driver.host=10.0.0.5 ...")
    Map<String, String> sparkConf = new LinkedHashMap<>();

    @Option(names = "--gradient-shards", defaultValue = "0", paramLabel = "N",
            description = "Add each batch's gradient up over N contiguous shards of the data, as N Spark partitions do: the same weights as --spark on N partitions bit for bit.")
    int gradientShards;

    @Option(names = "--dp", description = "Train with DP-SGD (Poisson batches, per-example clipping, Gaussian noise); reports epsilon after every epoch. Default batch 256.")
    boolean dp;

    @Option(names = "--target-epsilon", description = "With --dp: solve the noise for this epsilon over the planned epochs (default 3).")
    Double targetEpsilon;

    @Option(names = "--noise-multiplier", description = "With --dp: this noise multiplier instead of a target epsilon.")
    Double noiseMultiplier;

    @Option(names = "--delta", defaultValue = "1e-5", description = "With --dp: delta (default: ${DEFAULT-VALUE}).")
    double delta;

    @Option(names = "--max-grad-norm", defaultValue = "1.0", description = "With --dp: per-example clipping norm C (default: ${DEFAULT-VALUE}).")
    double maxGradNorm;

    @Override
    public Integer call() throws Exception {
        if (dp && spark != null) throw new IllegalArgumentException("--dp does not run on Spark yet");
        if (dp && classes != null) throw new IllegalArgumentException("--classes does not work with --dp yet");
        if (dp) return PrivateTraining.run(this, new PrivateTraining.Options(targetEpsilon, noiseMultiplier, delta, maxGradNorm),
                spec.commandLine().getOut(), spec.commandLine().getErr());
        if (targetEpsilon != null || noiseMultiplier != null) throw new IllegalArgumentException("--target-epsilon and --noise-multiplier need --dp");
        PrintWriter err = spec.commandLine().getErr();
        Main.banner(err);
        int batch = batchSize != null ? batchSize : Architectures.defaultBatchSize(arch);
        Splits splits = data.load();
        DataOptions.ClassSubset subset = this.classes == null ? null : DataOptions.ClassSubset.parse("--classes", this.classes);
        if (subset != null) splits = subset.select(splits, classes(splits), "--classes");
        int classes = classes(splits);
        Init.seed(seed);
        Path checkpoint = out.resolve("checkpoint.safetensors");
        Sequential model;
        if (resume) {
            if (!Files.isRegularFile(checkpoint)) throw new IllegalArgumentException(checkpoint + ": no checkpoint to resume from");
            String config = Checkpoint.read(checkpoint).config();
            model = Sequential.fromConfig(config, checkpoint);
        } else {
            model = Architectures.build(arch, splits.train().exampleShape(), classes);
        }
        TensorDataset train = DataOptions.fit(splits.train(), model.inputShape());
        TensorDataset test = DataOptions.fit(splits.test(), model.inputShape());
        model.compile(new Adam(learningRate), "sparse_categorical_crossentropy", "accuracy");
        Files.createDirectories(out);
        EpochTimer timer = new EpochTimer(err);
        FitOptions options = FitOptions.defaults().epochs(epochs).batchSize(batch).seed(seed).gradientShards(gradientShards)
                .callbacks(new CsvLogger(out.resolve("metrics.csv")), new ModelCheckpoint(checkpoint, checkpointEvery, model::configJson), timer);
        if (!noProgress) options = options.callbacks(new ProgressBarCallback(err));
        options = validationSplit > 0 ? options.validationSplit(validationSplit) : options.validationData(test);
        if (resume) options = options.resumeFrom(checkpoint);
        EnergyMeter meter = new EnergyMeter(EnergyMeter.DEFAULT_WATTS_PER_CORE);
        EnergyMeter.Reading before = meter.read();
        History history = spark == null ? model.fit(train, options) : SparkTrainingJob.fit(spark, sparkConf, model, train, options, err);
        EnergyMeter.Energy energy = meter.since(before);
        model.save(out);
        if (data.dataset.equals("fashion-mnist"))
            AtomicFiles.writeString(out.resolve(LABELS_FILE), String.join("\n", subset == null ? FashionMnist.CLASS_NAMES : subset.names(FashionMnist.CLASS_NAMES)) + "\n");
        Charts.trainingCurves(history, out.resolve("training.png"), arch + " on " + data.dataset);
        Map<String, Double> testFigures = model.evaluate(test, 256);
        PrintWriter o = spec.commandLine().getOut();
        o.printf("test loss %.4f, test accuracy %.4f; model written to %s%n", testFigures.get("loss"), testFigures.get("accuracy"), out);
        double joulesPerEpoch = energy.joules() / Math.max(1, history.epochs());
        o.printf("energy %.0f J per epoch, %s%n", joulesPerEpoch, energy.label());
        if (json) {
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("arch", arch);
            result.put("dataset", data.dataset);
            if (subset != null) result.put("classes", subset.describe());
            result.put("epochs", history.epochs());
            result.put("batch_size", batch);
            result.put("test_accuracy", testFigures.get("accuracy"));
            result.put("test_loss", testFigures.get("loss"));
            result.put("seconds_per_epoch", timer.medianSeconds());
            result.put("energy_joules_per_epoch", joulesPerEpoch);
            result.put("energy_measured", energy.measured());
            result.put("history", history.asMap());
            result.put("out", out.toString());
            o.println(JsonOutput.line(result));
        }
        return 0;
    }

    static int classes(Splits s) {
        float max = 0;
        for (float v : s.train().y().toFloatArray()) max = Math.max(max, v);
        return (int) max + 1;
    }

    /** Times epochs and prints one line per epoch with the figures. */
    static final class EpochTimer implements Callback {
        private final PrintWriter err;
        private final java.util.List<Double> seconds = new java.util.ArrayList<>();
        private long start;

        EpochTimer(PrintWriter err) {
            this.err = err;
        }

        @Override
        public void onEpochBegin(TrainingRun run, int epoch) {
            start = System.nanoTime();
        }

        @Override
        public void onEpochEnd(TrainingRun run, int epoch, Map<String, Double> logs) {
            double s = (System.nanoTime() - start) / 1e9;
            seconds.add(s);
            StringBuilder sb = new StringBuilder(String.format("epoch %d/%d - %.1fs", epoch + 1, run.epochs(), s));
            logs.forEach((k, v) -> sb.append(String.format(" - %s %.4f", k, v)));
            err.println(sb);
            err.flush();
        }

        /** The first epoch's seconds (it carries the JIT's warm-up), NaN before one ends. */
        double firstSeconds() {
            return seconds.isEmpty() ? Double.NaN : seconds.get(0);
        }

        double medianSeconds() {
            if (seconds.isEmpty()) return Double.NaN;
            double[] s = seconds.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
        }
    }
}
