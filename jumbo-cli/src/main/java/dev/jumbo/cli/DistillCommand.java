package dev.jumbo.cli;

import dev.jumbo.compress.Distillation;
import dev.jumbo.compress.DistillationLoss;
import dev.jumbo.data.Splits;
import dev.jumbo.data.TensorDataset;
import dev.jumbo.loss.SparseCategoricalCrossentropy;
import dev.jumbo.nn.Init;
import dev.jumbo.optim.Adam;
import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.train.Callback;
import dev.jumbo.train.FitOptions;
import dev.jumbo.train.Sequential;
import dev.jumbo.train.Trainer;
import dev.jumbo.train.TrainingRun;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code jumbo distill}: trains a smaller student on a saved teacher's softened outputs and the true labels. */
@Command(name = "distill", mixinStandardHelpOptions = true,
        description = {"Train a student model from a teacher's softened outputs (knowledge distillation) and the hard labels:",
                "loss = alpha T^2 KL(softmax(teacher/T) || softmax(student/T)) + (1 - alpha) cross-entropy.",
                "Example: jumbo distill --teacher runs/cnn --student-arch cnn-small fashion-mnist --temperature 4 --alpha 0.9 --epochs 5 --out runs/student"})
final class DistillCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    DataOptions data;

    @Option(names = "--teacher", required = true, paramLabel = "DIR", description = "The teacher's model folder (config.json + model.safetensors).")
    Path teacherDir;

    @Option(names = "--student-arch", required = true, paramLabel = "ARCH",
            description = "mlp, cnn, cnn-small (cnn at half width: a quarter of its parameters), or ARCH:WIDTH to scale every hidden layer, e.g. cnn:0.25.")
    String studentArch;

    @Option(names = "--temperature", defaultValue = "4", description = "Softening temperature T (default: ${DEFAULT-VALUE}).")
    double temperature;

    @Option(names = "--alpha", defaultValue = "0.9", description = "Weight of the teacher's term, in [0, 1] (default: ${DEFAULT-VALUE}).")
    double alpha;

    @Option(names = "--epochs", defaultValue = "5", description = "Epochs (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--batch-size", defaultValue = "64", description = "Examples per step (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--lr", defaultValue = "0.001", description = "Adam learning rate (default: ${DEFAULT-VALUE}).")
    double learningRate;

    @Option(names = "--seed", defaultValue = "42", description = "Seeds weights and shuffling (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Folder for the student (never the --teacher folder).")
    Path out;

    @Option(names = "--json", description = "Print one JSON object with the results as the last line.")
    boolean json;

    @Option(names = "--no-progress", description = "No progress bar (per-epoch lines only).")
    boolean noProgress;

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        Main.banner(err);
        DistillationLoss loss = new DistillationLoss(temperature, alpha, false);
        OutputFolder.requireSeparate(out, teacherDir, "--teacher");
        Sequential teacher = Sequential.load(teacherDir);
        Splits splits = data.load();
        int classes = TrainCommand.classes(splits);
        Init.seed(seed);
        Sequential student = student(studentArch, splits.train().exampleShape(), classes);
        if (!student.outputShape().equals(teacher.outputShape()))
            throw new IllegalArgumentException("the teacher outputs " + teacher.outputShape() + " but the student " + student.outputShape() + " for this dataset");
        TensorDataset teacherTest = DataOptions.fit(splits.test(), teacher.inputShape());
        TensorDataset train = DataOptions.fit(splits.train(), student.inputShape()), test = DataOptions.fit(splits.test(), student.inputShape());
        teacher.compile(new Adam(learningRate), "sparse_categorical_crossentropy", "accuracy");
        Map<String, Double> teacherFigures = teacher.evaluate(teacherTest, 256);

        long t0 = System.nanoTime();
        Tensor logits = Distillation.teacherLogits(teacher, DataOptions.fit(splits.train(), teacher.inputShape()).x(), 256);
        err.printf("teacher logits for %,d training examples in %.1f s%n", train.size(), (System.nanoTime() - t0) / 1e9);
        TensorDataset soft = new TensorDataset(train.x(), Distillation.targets(train.y(), logits));
        student.compile(new Adam(learningRate), loss);
        // the student's test figures per epoch, by plain cross-entropy: the distillation loss needs teacher outputs the test set has not got
        Trainer judge = new Trainer(student, new Adam(learningRate), new SparseCategoricalCrossentropy(), List.of("accuracy"));
        Callback testEachEpoch = new Callback() {
            @Override
            public void onEpochEnd(TrainingRun run, int epoch, Map<String, Double> logs) {
                judge.evaluate(test, 256).forEach((k, v) -> logs.put("test_" + k, v));
            }
        };
        FitOptions options = FitOptions.defaults().epochs(epochs).batchSize(batchSize).seed(seed)
                .callbacks(testEachEpoch, new TrainCommand.EpochTimer(err));
        if (!noProgress) options = options.callbacks(new ProgressBarCallback(err));
        student.fit(soft, options);
        Map<String, Double> studentFigures = judge.evaluate(test, 256);
        OutputFolder.write(out, teacherDir, "--teacher", student::save);

        long teacherParams = PruneCommand.parameters(teacher), studentParams = PruneCommand.parameters(student);
        PrintWriter o = spec.commandLine().getOut();
        o.printf("teacher: %,d parameters, test accuracy %.4f%n", teacherParams, teacherFigures.get("accuracy"));
        o.printf("student (%s): %,d parameters (%.1f%% of the teacher), test accuracy %.4f; written to %s%n", studentArch, studentParams,
                100.0 * studentParams / teacherParams, studentFigures.get("accuracy"), out);
        if (json) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("teacher", teacherDir.toString());
            r.put("student_arch", studentArch);
            r.put("dataset", data.dataset);
            r.put("temperature", temperature);
            r.put("alpha", alpha);
            r.put("epochs", epochs);
            r.put("teacher_parameters", teacherParams);
            r.put("student_parameters", studentParams);
            r.put("teacher_test_accuracy", teacherFigures.get("accuracy"));
            r.put("student_test_accuracy", studentFigures.get("accuracy"));
            r.put("student_test_loss", studentFigures.get("loss"));
            r.put("out", out.toString());
            o.println(JsonOutput.line(r));
        }
        return 0;
    }

    /** {@code mlp}, {@code cnn}, {@code cnn-small} (= {@code cnn:0.5}) or {@code ARCH:WIDTH}. */
    static Sequential student(String spec, Shape example, int classes) {
        String arch = spec;
        double width = 1;
        if (spec.equals("cnn-small")) {
            arch = "cnn";
            width = 0.5;
        } else if (spec.contains(":")) {
            arch = spec.substring(0, spec.indexOf(':'));
            try {
                width = Double.parseDouble(spec.substring(spec.indexOf(':') + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--student-arch " + spec + ": the width after ':' is not a number");
            }
        }
        if (!arch.equals("mlp") && !arch.equals("cnn"))
            throw new IllegalArgumentException("unknown student architecture '" + spec + "': use mlp, cnn, cnn-small or ARCH:WIDTH (e.g. cnn:0.25)");
        return Architectures.build(arch, example, classes, width);
    }
}
