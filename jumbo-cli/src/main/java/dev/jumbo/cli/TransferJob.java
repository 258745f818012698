package dev.jumbo.cli;

import dev.jumbo.data.FashionMnist;
import dev.jumbo.data.Splits;
import dev.jumbo.data.TensorDataset;
import dev.jumbo.io.AtomicFiles;
import dev.jumbo.nn.Activation;
import dev.jumbo.nn.Dense;
import dev.jumbo.nn.Flatten;
import dev.jumbo.nn.GlobalAveragePooling2D;
import dev.jumbo.nn.Init;
import dev.jumbo.nn.Layer;
import dev.jumbo.onnx.OnnxSequential;
import dev.jumbo.optim.Adam;
import dev.jumbo.train.Callback;
import dev.jumbo.train.CsvLogger;
import dev.jumbo.train.FitOptions;
import dev.jumbo.train.History;
import dev.jumbo.train.ModelCheckpoint;
import dev.jumbo.train.Sequential;
import dev.jumbo.train.TrainingRun;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Transfer learning for a classifier, as Keras' guide does it: a trained model without its top
 * layers becomes a frozen backbone, a new head is trained on the new classes (phase 1), then the
 * backbone is unfrozen, all of it or the layers after {@code --freeze-until}, and the whole model
 * trains on at a lower learning rate with a fresh optimizer (phase 2). {@code jumbo finetune
 * --task classify} runs it into an output folder; {@code jumbo bench transfer} uses its pieces.
 */
final class TransferJob {
    private TransferJob() {}

    /** What {@code jumbo finetune --task classify} was asked. */
    record Options(Path model, String dataset, Path dataDir, String classes, String binary, String freezeUntil, Integer dropTop, int headUnits,
                   int trainExamples, int epochs, int fineTuneEpochs, double learningRate, double fineTuneLearningRate, int batchSize, long seed,
                   boolean progress, Path out) {
        Options {
            if (dropTop != null && dropTop < 0) throw new IllegalArgumentException("--drop-top must be 0 or more, got " + dropTop);
            if (headUnits < 0) throw new IllegalArgumentException("--head must be 0 (a softmax layer only) or more units, got " + headUnits);
            if (trainExamples < 0) throw new IllegalArgumentException("--train-examples must be 0 (all) or more, got " + trainExamples);
            if (epochs < 1) throw new IllegalArgumentException("--epochs must be at least 1, got " + epochs);
            if (fineTuneEpochs < 0) throw new IllegalArgumentException("--fine-tune-epochs must be 0 or more, got " + fineTuneEpochs);
            if (!(learningRate > 0)) throw new IllegalArgumentException("--lr must be positive, got " + learningRate);
            if (!(fineTuneLearningRate > 0)) throw new IllegalArgumentException("--fine-tune-lr must be positive, got " + fineTuneLearningRate);
            if (batchSize < 1) throw new IllegalArgumentException("--batch-size must be at least 1, got " + batchSize);
        }
    }

    /**
     * What a run gave: parameter counts of the final model ({@code total} counts buffers, as
     * {@code summary} does), test accuracy after phase 1 and after phase 2 (NaN when skipped).
     */
    record Result(long trainableParameters, long headTrainableParameters, long totalParameters, double headAccuracy, double fineTunedAccuracy,
                  double testLoss, int classes, int trainExamples, History history, double headSeconds, double fineTuneSeconds) {
        double testAccuracy() {
            return Double.isNaN(fineTunedAccuracy) ? headAccuracy : fineTunedAccuracy;
        }
    }

    // ---------------------------------------------------------------- the pieces

    /**
     * {@code trained} without its last {@code dropTop} layers, every layer frozen, with a new head:
     * a Flatten when the backbone's output is not a vector, {@code Dense(headUnits, relu)} when
     * {@code headUnits > 0}, then {@code Dense(classes, softmax)} (one sigmoid unit when {@code classes} is 1).
     * The layers are {@code trained}'s own objects (weights shared, not copied).
     */
    static Sequential withNewHead(Sequential trained, int dropTop, int headUnits, int classes) {
        Sequential model = trained.withoutTop(dropTop);
        model.trainable(0, model.layers().size(), false);
        if (model.outputShape().rank() > 1) model.add(new Flatten()); // Dense would apply per position of a feature map
        if (headUnits > 0) model.add(new Dense(headUnits, Activation.RELU));
        // a yes/no task gets one sigmoid unit (binary cross-entropy), as in Keras' transfer learning guide
        return model.add(classes == 1 ? new Dense(1, Activation.SIGMOID) : new Dense(classes, Activation.SOFTMAX));
    }

    /**
     * The examples relabelled for a yes/no task: 1 where the class is one of {@code positives},
     * else 0, as a {@code [n, 1]} target for a sigmoid output.
     */
    static TensorDataset binary(TensorDataset d, DataOptions.ClassSubset positives) {
        float[] y = d.y().toFloatArray(), z = new float[y.length];
        java.util.Set<Integer> yes = new java.util.HashSet<>();
        for (int c : positives.kept()) yes.add(c);
        for (int i = 0; i < y.length; i++) z[i] = yes.contains((int) y[i]) ? 1 : 0;
        return new TensorDataset(d.x(), dev.jumbo.tensor.Tensor.of(z, y.length, 1));
    }

    /**
     * How many layers Keras' {@code include_top=False} would take off: the fully connected
     * classifier, i.e. the run of Dense layers at the top, and the Flatten or global pooling right
     * under it (at least one layer; never every layer). A trained CNN then keeps its convolutional
     * feature maps, which transfer to new classes much better than its last hidden Dense layer or
     * its pooled vector, both specialised to the old classes; {@link #withNewHead} flattens them.
     */
    static int classifierLayers(Sequential trained) {
        List<Layer> layers = trained.layers();
        int n = 0;
        while (n < layers.size() - 1 && layers.get(layers.size() - 1 - n) instanceof Dense) n++;
        if (n > 0 && n < layers.size() - 1) {
            Layer below = layers.get(layers.size() - 1 - n);
            if (below instanceof Flatten || below instanceof GlobalAveragePooling2D) n++;
        }
        return Math.max(1, n);
    }

    /**
     * The backbone layer {@code freezeUntil} names ({@link Sequential#layerIndex}, counted in the
     * trained model), or -1 when null; it must be one the backbone keeps.
     *
     * @throws IllegalArgumentException quoting the value when it names no layer or a dropped one
     */
    static int freezeUntilIndex(Sequential trained, String freezeUntil, int dropTop) {
        if (freezeUntil == null) return -1;
        int i;
        try {
            i = trained.layerIndex(freezeUntil);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--freeze-until: " + e.getMessage(), e);
        }
        int kept = trained.layers().size() - dropTop;
        if (i >= kept)
            throw new IllegalArgumentException("--freeze-until '" + freezeUntil + "' names layer " + trained.layerName(i) + ", which --drop-top " + dropTop
                    + " removes: name one of the first " + kept + " layers (0.." + (kept - 1) + ")");
        return i;
    }

    /** Phase 2's unfreezing: every layer after {@code freezeUntil} (all when -1) trains again. */
    static void unfreezeAfter(Sequential model, int freezeUntil) {
        model.trainable(freezeUntil + 1, model.layers().size(), true);
    }

    /** The first {@code n} examples: few-shot runs, where transfer learning matters most. */
    static TensorDataset firstExamples(TensorDataset d, int n) {
        return new TensorDataset(d.x().slice(0, 0, n), d.y().slice(0, 0, n));
    }

    /** Test accuracy of a compiled model. */
    static double accuracy(Sequential model, TensorDataset test) {
        return model.evaluate(test, 256).get("accuracy");
    }

    // ---------------------------------------------------------------- the command's run

    /** Runs both phases and writes the model folder, metrics.csv, checkpoint, training.png and labels.txt into {@code o.out()}. */
    static Result run(Options o, PrintWriter err) throws IOException {
        OutputFolder.requireSeparate(o.out(), o.model(), "--model");
        // an ONNX backbone whose graph is a chain of layers (Jumbo's export, PyTorch's plain CNN), NCHW read as NHWC
        boolean onnx = !Files.isDirectory(o.model()) && o.model().getFileName().toString().endsWith(".onnx");
        Sequential trained = onnx ? OnnxSequential.load(o.model()) : Sequential.load(o.model());
        int dropTop = o.dropTop() != null ? o.dropTop() : classifierLayers(trained);
        if (dropTop >= trained.layers().size())
            throw new IllegalArgumentException("--drop-top " + dropTop + " would drop every layer of " + o.model() + ", which has " + trained.layers().size()
                    + ": drop between 0 and " + (trained.layers().size() - 1));
        int freezeUntil = freezeUntilIndex(trained, o.freezeUntil(), dropTop);
        DataOptions data = DataOptions.of(o.dataset(), o.dataDir());
        Splits splits = data.load();
        DataOptions.ClassSubset subset = o.classes() == null ? null : DataOptions.ClassSubset.parse("--classes", o.classes());
        if (subset != null) splits = subset.select(splits, TrainCommand.classes(splits), "--classes");
        int classes = TrainCommand.classes(splits);
        DataOptions.ClassSubset positives = null;
        if (o.binary() != null) {
            // the positives are original class ids; with --classes they are renumbered as the labels were
            DataOptions.ClassSubset given = DataOptions.ClassSubset.parse("--task binary:", o.binary(), 1);
            int[] ids = given.kept().clone();
            for (int i = 0; i < ids.length; i++) {
                int c = ids[i];
                int renumbered = subset == null ? c : java.util.Arrays.binarySearch(subset.kept(), c);
                if (renumbered < 0 || renumbered >= classes)
                    throw new IllegalArgumentException("--task binary:" + o.binary() + " names class " + c + ", which "
                            + (subset == null ? "the data lacks (classes 0-" + (classes - 1) + ")" : "--classes " + o.classes() + " leaves out"));
                ids[i] = renumbered;
            }
            positives = new DataOptions.ClassSubset(ids);
            splits = new Splits(binary(splits.train(), positives), binary(splits.test(), positives));
            classes = 1;
        }
        String loss = classes == 1 ? "binary_crossentropy" : "sparse_categorical_crossentropy";
        if (o.trainExamples() > 0 && o.trainExamples() < splits.train().size())
            splits = new Splits(firstExamples(splits.train(), o.trainExamples()), splits.test());

        Init.seed(o.seed());
        err.printf("backbone: %s without its top %d layer%s; new head for %s%n", o.model(), dropTop, dropTop == 1 ? "" : "s",
                classes == 1 ? "'" + o.binary() + " or not' (sigmoid)" : classes + " classes");
        Sequential model = withNewHead(trained, dropTop, o.headUnits(), classes);
        TensorDataset train = DataOptions.fit(splits.train(), model.inputShape());
        TensorDataset test = DataOptions.fit(splits.test(), model.inputShape());
        Files.createDirectories(o.out());
        History all = new History();
        Path checkpoint = o.out().resolve("checkpoint.safetensors");

        err.printf("phase 1: training the new head (%,d trainable of %,d parameters), backbone frozen%n", model.trainableParameterCount(), model.parameterCount());
        long headTrainable = model.trainableParameterCount();
        long t0 = System.nanoTime();
        model.compile(new Adam(o.learningRate()), loss, "accuracy");
        model.fit(train, fitOptions(o, o.epochs(), test, all, checkpoint, model, err));
        double headSeconds = (System.nanoTime() - t0) / 1e9;
        Map<String, Double> figures = model.evaluate(test, 256);
        double headAccuracy = figures.get("accuracy");
        err.printf("after phase 1: test accuracy %.4f%n", headAccuracy);

        double fineTuned = Double.NaN, fineTuneSeconds = 0;
        if (o.fineTuneEpochs() > 0) {
            unfreezeAfter(model, freezeUntil);
            err.printf("phase 2: fine-tuning %s at learning rate %s (%,d trainable parameters)%n",
                    freezeUntil < 0 ? "every layer" : "the layers after " + model.layerName(freezeUntil), o.fineTuneLearningRate(), model.trainableParameterCount());
            long t1 = System.nanoTime();
            // a fresh optimizer, as Keras' guide recompiles: phase 1's moments belong to the head alone
            model.compile(new Adam(o.fineTuneLearningRate()), loss, "accuracy");
            model.fit(train, fitOptions(o, o.fineTuneEpochs(), test, all, checkpoint, model, err));
            fineTuneSeconds = (System.nanoTime() - t1) / 1e9;
            figures = model.evaluate(test, 256);
            fineTuned = figures.get("accuracy");
            err.printf("after phase 2: test accuracy %.4f%n", fineTuned);
        }

        model.save(o.out());
        if (o.dataset().equals("fashion-mnist")) {
            List<String> names = subset == null ? FashionMnist.CLASS_NAMES : subset.names(FashionMnist.CLASS_NAMES);
            if (positives != null) {
                String yes = String.join("/", positives.names(names));
                names = List.of("not " + yes, yes); // output 0.5 and above: the second
            }
            AtomicFiles.writeString(o.out().resolve(TrainCommand.LABELS_FILE), String.join("\n", names) + "\n");
        } else {
            Files.deleteIfExists(o.out().resolve(TrainCommand.LABELS_FILE)); // a previous model's names would mislabel the new classes
        }
        Charts.trainingCurves(all, o.out().resolve("training.png"), "finetune on " + o.dataset() + (subset == null ? "" : " classes " + subset.describe())
                + (positives == null ? "" : ", " + o.binary() + " or not"));
        return new Result(model.trainableParameterCount(), headTrainable, model.parameterCount(), headAccuracy, fineTuned,
                figures.get("loss"), classes, train.size(), all, headSeconds, fineTuneSeconds);
    }

    private static FitOptions fitOptions(Options o, int epochs, TensorDataset test, History all, Path checkpoint, Sequential model, PrintWriter err) {
        FitOptions f = FitOptions.defaults().epochs(epochs).batchSize(o.batchSize()).seed(o.seed()).validationData(test)
                .callbacks(new BothPhasesCsv(all, o.out().resolve("metrics.csv")), new ModelCheckpoint(checkpoint, 0, model::configJson),
                        new TrainCommand.EpochTimer(err));
        return o.progress() ? f.callbacks(new ProgressBarCallback(err)) : f;
    }

    /** metrics.csv over both phases: phase 2's epochs continue phase 1's numbering. */
    private static final class BothPhasesCsv implements Callback {
        private final History all;
        private final Path file;

        BothPhasesCsv(History all, Path file) {
            this.all = all;
            this.file = file;
        }

        @Override
        public void onEpochEnd(TrainingRun run, int epoch, Map<String, Double> logs) {
            all.append(logs);
            try {
                AtomicFiles.writeString(file, CsvLogger.toCsv(all));
            } catch (IOException e) {
                throw new UncheckedIOException("could not write " + file + ": " + e.getMessage(), e);
            }
        }
    }
}
