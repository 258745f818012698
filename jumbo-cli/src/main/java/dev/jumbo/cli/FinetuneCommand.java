package dev.jumbo.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code jumbo finetune}: adapts a trained model to a new task. {@code --task classify} is
 * transfer learning ({@link TransferJob}): drop the top, freeze the rest, train a new head, then
 * optionally unfreeze and fine-tune at a lower learning rate.
 */
@Command(name = "finetune", mixinStandardHelpOptions = true,
        description = {"Adapt a trained model: --task classify drops its top layers, freezes the rest, trains a new head on the new classes,"
                + " then (with --fine-tune-epochs) unfreezes and trains on at a lower learning rate. Writes DIR/config.json, DIR/model.safetensors,"
                + " DIR/metrics.csv, DIR/training.png.",
                "Example: jumbo finetune --model runs/cnn-0-4 --task classify --data fashion-mnist --classes 5-9 --epochs 2 --fine-tune-epochs 1 --out runs/cnn-5-9"})
final class FinetuneCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "The trained model folder (jumbo train --out).")
    Path model;

    @Option(names = "--task", defaultValue = "classify",
            description = "classify: transfer learning with a new softmax head; binary:IDS: the same with one sigmoid unit for 'one of these classes or not' (binary:5,7,9 is footwear) (default: ${DEFAULT-VALUE}).")
    String task;

    @Option(names = "--data", required = true, paramLabel = "DATASET", description = "fashion-mnist, mnist, or csv:TRAIN.csv[,TEST.csv].")
    String dataset;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "Folder holding the dataset's files (otherwise the cache, then /usr/share/datasets, then download).")
    Path dataDir;

    @Option(names = "--classes", paramLabel = "IDS", description = "Train the new head on these classes only, relabelled 0..k-1: 5-9, 5,7,9 ...")
    String classes;

    @Option(names = "--train-examples", defaultValue = "0", paramLabel = "N",
            description = "Train on the first N examples of the kept classes only (a few-shot run); 0 for all (default: ${DEFAULT-VALUE}).")
    int trainExamples;

    @Option(names = "--drop-top", paramLabel = "N",
            description = "Top layers to drop before adding the head (default: the Dense layers at the top, as Keras' include_top=False: a CNN keeps its convolutional features).")
    Integer dropTop;

    @Option(names = "--head", defaultValue = "0", paramLabel = "UNITS",
            description = "Units of a Dense(relu) layer under the new softmax; 0 for the softmax layer alone (default: ${DEFAULT-VALUE}).")
    int headUnits;

    @Option(names = "--freeze-until", paramLabel = "LAYER",
            description = "In phase 2 keep this layer and those before it frozen (an index, or a name as jumbo summary prints it: conv2d_2); default: unfreeze all.")
    String freezeUntil;

    @Option(names = "--epochs", defaultValue = "3", description = "Phase 1 epochs: the head alone (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--fine-tune-epochs", defaultValue = "0", description = "Phase 2 epochs after unfreezing; 0 skips it (default: ${DEFAULT-VALUE}).")
    int fineTuneEpochs;

    @Option(names = "--lr", defaultValue = "0.001", description = "Adam learning rate of phase 1 (default: ${DEFAULT-VALUE}).")
    double learningRate;

    @Option(names = "--fine-tune-lr", defaultValue = "0.0001", description = "Adam learning rate of phase 2, a fresh optimizer (default: ${DEFAULT-VALUE}).")
    double fineTuneLearningRate;

    @Option(names = "--batch-size", defaultValue = "64", description = "Examples per step (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--seed", defaultValue = "42", description = "Seeds the head's weights and shuffling (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output folder (never the --model folder).")
    Path out;

    @Option(names = "--json", description = "Print one JSON object with the results as the last line.")
    boolean json;

    @Option(names = "--no-progress", description = "No progress bar (per-epoch lines only).")
    boolean noProgress;

    @Override
    public Integer call() throws Exception {
        if (task.equals("lm")) throw new IllegalArgumentException("--task lm (LoRA) is not available in this build yet; use --task classify");
        String binary = task.startsWith("binary:") ? task.substring("binary:".length()) : null;
        if (!task.equals("classify") && binary == null) throw new IllegalArgumentException("unknown --task '" + task + "': use classify or binary:IDS");
        PrintWriter err = spec.commandLine().getErr(), o = spec.commandLine().getOut();
        Main.banner(err);
        TransferJob.Result r = TransferJob.run(new TransferJob.Options(model, dataset, dataDir, classes, binary, freezeUntil, dropTop, headUnits,
                trainExamples, epochs, fineTuneEpochs, learningRate, fineTuneLearningRate, batchSize, seed, !noProgress, out), err);
        o.printf("head only: test accuracy %.4f%n", r.headAccuracy());
        if (fineTuneEpochs > 0) o.printf("after fine-tuning: test accuracy %.4f%n", r.fineTunedAccuracy());
        o.printf("trainable parameters %,d of %,d; model written to %s%n", r.trainableParameters(), r.totalParameters(), out);
        if (json) {
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("task", task);
            j.put("dataset", dataset);
            if (classes != null) j.put("classes", DataOptions.ClassSubset.parse("--classes", classes).describe());
            j.put("num_classes", r.classes());
            j.put("train_examples", r.trainExamples());
            j.put("epochs", epochs);
            j.put("fine_tune_epochs", fineTuneEpochs);
            j.put("head_trainable_parameters", r.headTrainableParameters());
            j.put("head_accuracy", r.headAccuracy());
            if (fineTuneEpochs > 0) j.put("fine_tuned_accuracy", r.fineTunedAccuracy());
            j.put("head_seconds", r.headSeconds());
            if (fineTuneEpochs > 0) j.put("fine_tune_seconds", r.fineTuneSeconds());
            j.put("test_loss", r.testLoss());
            j.put("history", r.history().asMap());
            j.put("out", out.toString());
            j.put("trainable_parameters", r.trainableParameters());
            j.put("total_parameters", r.totalParameters());
            j.put("test_accuracy", r.testAccuracy());
            o.println(JsonOutput.line(j));
        }
        return 0;
    }
}
