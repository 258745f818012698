package dev.jumbo.cli;

import dev.jumbo.data.Splits;
import dev.jumbo.data.TensorDataset;
import dev.jumbo.nn.Activation;
import dev.jumbo.nn.Dense;
import dev.jumbo.nn.Flatten;
import dev.jumbo.nn.Init;
import dev.jumbo.optim.Adam;
import dev.jumbo.train.FitOptions;
import dev.jumbo.train.Sequential;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
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
 * {@code jumbo bench transfer}: issue 11's must-show experiment. A CNN learns the source classes
 * (Fashion-MNIST 0-4: tops, trousers, pullovers, dresses, coats); on the target classes (5-9:
 * sandals, shirts, sneakers, bags, ankle boots) it compares (a) the small head trained on raw
 * pixels, (b) the same head on the frozen backbone, and (c) (b) fine-tuned after unfreezing at a
 * lower learning rate with a fresh optimizer. The target task may be given few examples
 * ({@code --target-examples}), where transfer matters most.
 */
@Command(name = "transfer", mixinStandardHelpOptions = true,
        description = {"Transfer learning on Fashion-MNIST: pretrain a CNN on classes 0-4, then on 5-9 compare a head on raw pixels,"
                + " the same head on the frozen backbone, and that fine-tuned after unfreezing; test accuracy, trainable parameters, seconds.",
                "Example: jumbo bench transfer --target-examples 1000 --json"})
final class TransferBench implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", defaultValue = "fashion-mnist", paramLabel = "DATASET", description = "fashion-mnist or mnist (default: ${DEFAULT-VALUE}).")
    String dataset;

    @Option(names = "--data", paramLabel = "DIR", description = "Folder holding the dataset's files.")
    Path dataDir;

    @Option(names = "--arch", defaultValue = "cnn", description = "The backbone's architecture: cnn, vgg, vgg-bn or resnet (default: ${DEFAULT-VALUE}).")
    String arch;

    @Option(names = "--source-classes", defaultValue = "0-4", description = "Classes the backbone learns (default: ${DEFAULT-VALUE}).")
    String sourceClasses;

    @Option(names = "--target-classes", defaultValue = "5-9", description = "Classes of the new task (default: ${DEFAULT-VALUE}).")
    String targetClasses;

    @Option(names = "--target-examples", defaultValue = "1000", paramLabel = "N",
            description = "Training examples of the new task, the first N of its classes; 0 for all (default: ${DEFAULT-VALUE}).")
    int targetExamples;

    @Option(names = "--pretrain-epochs", defaultValue = "2", description = "Epochs of the backbone on the source classes (default: ${DEFAULT-VALUE}).")
    int pretrainEpochs;

    @Option(names = "--epochs", defaultValue = "10", description = "Epochs of each head, on raw pixels and on the frozen backbone (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--fine-tune-epochs", defaultValue = "5", description = "Epochs after unfreezing (default: ${DEFAULT-VALUE}).")
    int fineTuneEpochs;

    @Option(names = "--drop-top", paramLabel = "N", description = "Top layers of the backbone to drop (default: its Dense layers, as finetune does).")
    Integer dropTop;

    @Option(names = "--head", defaultValue = "64", paramLabel = "UNITS", description = "Units of a Dense(relu) under each head's softmax; 0 for none (default: ${DEFAULT-VALUE}).")
    int headUnits;

    @Option(names = "--lr", defaultValue = "0.001", description = "Adam learning rate of pretraining and the heads (default: ${DEFAULT-VALUE}).")
    double learningRate;

    @Option(names = "--fine-tune-lr", defaultValue = "0.0001", description = "Adam learning rate after unfreezing (default: ${DEFAULT-VALUE}).")
    double fineTuneLearningRate;

    @Option(names = "--batch-size", defaultValue = "64", description = "Examples per step (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--seed", defaultValue = "42", description = "Seeds weights and shuffling (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--json", description = "Print {\"rows\": [...]} as the last line.")
    boolean json;

    private record Row(String name, double testAccuracy, long trainableParameters, double seconds) {}

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        if (pretrainEpochs < 1 || epochs < 1 || fineTuneEpochs < 0 || targetExamples < 0)
            throw new IllegalArgumentException("--pretrain-epochs and --epochs must be at least 1, --fine-tune-epochs and --target-examples 0 or more");
        Main.banner(err);
        Splits all = DataOptions.of(dataset, dataDir).load();
        int classes = TrainCommand.classes(all);
        Splits source = DataOptions.ClassSubset.parse("--source-classes", sourceClasses).select(all, classes, "--source-classes");
        DataOptions.ClassSubset targetSubset = DataOptions.ClassSubset.parse("--target-classes", targetClasses);
        Splits target = targetSubset.select(all, classes, "--target-classes");
        TensorDataset targetTrain = target.train();
        if (targetExamples > 0 && targetExamples < targetTrain.size())
            targetTrain = TransferJob.firstExamples(targetTrain, targetExamples);
        int k = targetSubset.kept().length;
        List<Row> rows = new ArrayList<>();

        Init.seed(seed);
        Sequential backbone = Architectures.build(arch, source.train().exampleShape(), TrainCommand.classes(source));
        TensorDataset srcTrain = DataOptions.fit(source.train(), backbone.inputShape()), srcTest = DataOptions.fit(source.test(), backbone.inputShape());
        err.printf("pretraining %s on classes %s (%,d examples)%n", arch, sourceClasses, srcTrain.size());
        double[] secs = new double[1];
        double sourceAccuracy = timed(secs, () -> train(backbone, learningRate, srcTrain, pretrainEpochs, srcTest));
        rows.add(new Row("backbone on source classes " + sourceClasses, sourceAccuracy, backbone.trainableParameterCount(), secs[0]));

        TensorDataset tTrain = DataOptions.fit(targetTrain, backbone.inputShape()), tTest = DataOptions.fit(target.test(), backbone.inputShape());
        err.printf("target classes %s: %,d training and %,d test examples%n", targetClasses, tTrain.size(), tTest.size());
        Init.seed(seed + 1);
        Sequential raw = new Sequential(backbone.inputShape(), new Flatten());
        if (headUnits > 0) raw.add(new Dense(headUnits, Activation.RELU));
        raw.add(new Dense(k, Activation.SOFTMAX));
        double rawAccuracy = timed(secs, () -> train(raw, learningRate, tTrain, epochs, tTest));
        rows.add(new Row("(a) head on raw pixels", rawAccuracy, raw.trainableParameterCount(), secs[0]));

        Init.seed(seed + 1);
        Sequential transfer = TransferJob.withNewHead(backbone, dropTop != null ? dropTop : TransferJob.classifierLayers(backbone), headUnits, k);
        double frozenAccuracy = timed(secs, () -> train(transfer, learningRate, tTrain, epochs, tTest));
        rows.add(new Row("(b) head on frozen backbone", frozenAccuracy, transfer.trainableParameterCount(), secs[0]));

        if (fineTuneEpochs > 0) {
            TransferJob.unfreezeAfter(transfer, -1);
            double tunedAccuracy = timed(secs, () -> train(transfer, fineTuneLearningRate, tTrain, fineTuneEpochs, tTest));
            rows.add(new Row("(c) (b) unfrozen, fine-tuned", tunedAccuracy, transfer.trainableParameterCount(), secs[0]));
        }

        out.printf("%-36s %14s %22s %10s%n", "model", "test accuracy", "trainable parameters", "seconds");
        for (Row r : rows) out.printf("%-36s %14.4f %,22d %10.1f%n", r.name(), r.testAccuracy(), r.trainableParameters(), r.seconds());
        out.printf("(target: %,d training examples; heads %d epochs, fine-tuning %d more at lr %s; seconds on this machine, training only)%n",
                tTrain.size(), epochs, fineTuneEpochs, fineTuneLearningRate);
        if (json) {
            List<Map<String, Object>> list = new ArrayList<>();
            for (Row r : rows) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("model", r.name());
                m.put("test_accuracy", r.testAccuracy());
                m.put("trainable_parameters", r.trainableParameters());
                m.put("seconds", Math.round(r.seconds() * 10) / 10.0);
                list.add(m);
            }
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("arch", arch);
            result.put("target_examples", tTrain.size());
            result.put("rows", list);
            out.println(JsonOutput.line(result));
        }
        return 0;
    }

    /** Compiles with a fresh Adam, trains, and returns the test accuracy. */
    private double train(Sequential m, double lr, TensorDataset train, int epochs, TensorDataset test) {
        m.compile(new Adam(lr), "sparse_categorical_crossentropy", "accuracy");
        m.fit(train, FitOptions.defaults().epochs(epochs).batchSize(batchSize).seed(seed).callbacks(new TrainCommand.EpochTimer(spec.commandLine().getErr())));
        return TransferJob.accuracy(m, test);
    }

    private static double timed(double[] seconds, java.util.function.DoubleSupplier run) {
        long t0 = System.nanoTime();
        double v = run.getAsDouble();
        seconds[0] = (System.nanoTime() - t0) / 1e9;
        return v;
    }
}
