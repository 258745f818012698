package dev.jumbo.cli;

import dev.jumbo.lora.LoraConfig;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code jumbo finetune}: adapts a trained model to a new task. {@code --task classify} (or
 * {@code binary:IDS}) is transfer learning ({@link TransferJob}): drop the top, freeze the rest,
 * train a new head, then optionally unfreeze and fine-tune at a lower learning rate. {@code --task
 * lm} trains LoRA adapters of a GPT-2 or Llama on a new text, or every weight of a GPT-2 with
 * {@code --full} ({@link LoraFinetuneJob}).
 */
@Command(name = "finetune", mixinStandardHelpOptions = true,
        description = {"Adapt a trained model. --task classify drops its top layers, freezes the rest, trains a new head on the new classes,"
                + " then (with --fine-tune-epochs) unfreezes and trains on at a lower learning rate; writes a model folder, metrics.csv and training.png."
                + " --task lm trains LoRA adapters (or, with --full, every weight of a GPT-2) on a new text; writes adapter_config.json and"
                + " adapter_model.safetensors (PEFT's layout).",
                "Example: jumbo finetune --model runs/cnn-0-4 --task classify --data fashion-mnist --classes 5-9 --epochs 2 --fine-tune-epochs 1 --out runs/cnn-5-9",
                "Example: jumbo finetune --model runs/shakespeare --task lm --data new.txt --lora-r 8 --lora-alpha 16 --lora-targets c_attn,c_proj --iters 500 --out runs/lora"})
final class FinetuneCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR|FILE",
            description = "classify: a trained model folder (jumbo train --out) or an ONNX file of a chain of layers; lm: a GPT-2 folder (jumbo train-lm)"
                    + " or a Llama (llama2.c checkpoint, GGUF file or HuggingFace folder).")
    Path model;

    @Option(names = "--task", defaultValue = "classify",
            description = "classify: transfer learning with a new softmax head; binary:IDS: the same with one sigmoid unit for 'one of these classes or not'"
                    + " (binary:5,7,9 is footwear); lm: language modelling on the text --data names (default: ${DEFAULT-VALUE}).")
    String task;

    @Option(names = "--data", required = true, paramLabel = "DATASET|FILE",
            description = "classify: fashion-mnist, mnist, or csv:TRAIN.csv[,TEST.csv]; lm: a UTF-8 text whose last 10%% is held out for the validation loss.")
    String data;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output folder (never the --model folder).")
    Path out;

    @Option(names = "--json", description = "Print one JSON object with the results as the last line.")
    boolean json;

    @Option(names = "--lr", description = "Peak learning rate (default: 0.001; lm: warm-up then cosine decay to a tenth).")
    Double learningRate;

    @Option(names = "--batch-size", description = "Examples per step (default: 64 for classify, 12 windows for lm).")
    Integer batchSize;

    @Option(names = "--seed", description = "Seeds the new weights and the data order (default: 42 for classify, 1337 for lm).")
    Long seed;

    // ---------------------------------------------------------------- classify

    @Option(names = "--data-dir", paramLabel = "DIR", description = "classify: folder holding the dataset's files (otherwise the cache, then /usr/share/datasets, then download).")
    Path dataDir;

    @Option(names = "--classes", paramLabel = "IDS", description = "classify: train the new head on these classes only, relabelled 0..k-1: 5-9, 5,7,9 ...")
    String classes;

    @Option(names = "--train-examples", paramLabel = "N",
            description = "classify: train on the first N examples of the kept classes only (a few-shot run); default all.")
    Integer trainExamples;

    @Option(names = "--drop-top", paramLabel = "N",
            description = "classify: top layers to drop before adding the head (default: the Dense layers at the top, as Keras' include_top=False).")
    Integer dropTop;

    @Option(names = "--head", paramLabel = "UNITS",
            description = "classify: units of a Dense(relu) layer under the new softmax; default none (the softmax layer alone).")
    Integer headUnits;

    @Option(names = "--freeze-until", paramLabel = "LAYER",
            description = "classify: in phase 2 keep this layer and those before it frozen (an index, or a name as jumbo summary prints it: conv2d_2); default: unfreeze all.")
    String freezeUntil;

    @Option(names = "--epochs", description = "classify: phase 1 epochs, the head alone (default: 3).")
    Integer epochs;

    @Option(names = "--fine-tune-epochs", description = "classify: phase 2 epochs after unfreezing; default 0 (no phase 2).")
    Integer fineTuneEpochs;

    @Option(names = "--fine-tune-lr", description = "classify: Adam learning rate of phase 2, a fresh optimizer (default: 0.0001).")
    Double fineTuneLearningRate;

    @Option(names = "--no-progress", description = "classify: no progress bar (per-epoch lines only).")
    boolean noProgress;

    // ---------------------------------------------------------------- lm

    @Option(names = "--lora-r", description = "lm: LoRA rank (default: 8, PEFT's).")
    Integer loraR;

    @Option(names = "--lora-alpha", description = "lm: LoRA alpha; the update is scaled by alpha / r (default: 8, PEFT's).")
    Double loraAlpha;

    @Option(names = "--lora-dropout", description = "lm: dropout on the adapters' input while training (default: 0).")
    Double loraDropout;

    @Option(names = "--lora-targets", split = ",", paramLabel = "NAME[,NAME...]",
            description = "lm: HuggingFace module names to adapt; a name matches a module whose path ends with it (default: PEFT's, c_attn for GPT-2, q_proj,v_proj for Llama).")
    List<String> loraTargets;

    @Option(names = "--full", description = "lm: train every weight of a GPT-2 instead of LoRA adapters (writes a whole model folder).")
    boolean full;

    @Option(names = "--iters", description = "lm: optimizer steps (default: 500).")
    Integer iters;

    @Option(names = "--context", description = "lm: tokens per window; default the model's context.")
    Integer context;

    @Option(names = "--eval-every", description = "lm: steps between validation losses and saves (default: 100).")
    Integer evalEvery;

    @Option(names = "--tokenizer", paramLabel = "FILE", description = "lm: a llama2.c checkpoint's tokenizer (default: the one beside it).")
    Path tokenizer;

    @Override
    public Integer call() throws Exception {
        if (task.equals("lm")) return languageModel();
        String binary = task.startsWith("binary:") ? task.substring("binary:".length()) : null;
        if (!task.equals("classify") && binary == null) throw new IllegalArgumentException("unknown --task '" + task + "': use classify, binary:IDS or lm");
        refuse("classify", used("--lora-r", loraR, "--lora-alpha", loraAlpha, "--lora-dropout", loraDropout, "--lora-targets", loraTargets,
                "--full", full ? true : null, "--iters", iters, "--context", context, "--eval-every", evalEvery, "--tokenizer", tokenizer));
        PrintWriter err = spec.commandLine().getErr(), o = spec.commandLine().getOut();
        Main.banner(err);
        int epochsOrDefault = orDefault(epochs, 3), fineTune = orDefault(fineTuneEpochs, 0);
        TransferJob.Result r = TransferJob.run(new TransferJob.Options(model, data, dataDir, classes, binary, freezeUntil, dropTop, orDefault(headUnits, 0),
                orDefault(trainExamples, 0), epochsOrDefault, fineTune, learningRate != null ? learningRate : 1e-3,
                fineTuneLearningRate != null ? fineTuneLearningRate : 1e-4, orDefault(batchSize, 64), seed != null ? seed : 42, !noProgress, out), err);
        o.printf("head only: test accuracy %.4f%n", r.headAccuracy());
        if (fineTune > 0) o.printf("after fine-tuning: test accuracy %.4f%n", r.fineTunedAccuracy());
        o.printf("trainable parameters %,d of %,d; model written to %s%n", r.trainableParameters(), r.totalParameters(), out);
        if (json) {
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("task", task);
            j.put("dataset", data);
            if (classes != null) j.put("classes", DataOptions.ClassSubset.parse("--classes", classes).describe());
            j.put("num_classes", r.classes());
            j.put("train_examples", r.trainExamples());
            j.put("epochs", epochsOrDefault);
            j.put("fine_tune_epochs", fineTune);
            j.put("head_trainable_parameters", r.headTrainableParameters());
            j.put("head_accuracy", r.headAccuracy());
            if (fineTune > 0) j.put("fine_tuned_accuracy", r.fineTunedAccuracy());
            j.put("head_seconds", r.headSeconds());
            if (fineTune > 0) j.put("fine_tune_seconds", r.fineTuneSeconds());
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

    private int languageModel() throws Exception {
        refuse("lm", used("--data-dir", dataDir, "--classes", classes, "--train-examples", trainExamples, "--drop-top", dropTop, "--head", headUnits,
                "--freeze-until", freezeUntil, "--epochs", epochs, "--fine-tune-epochs", fineTuneEpochs, "--fine-tune-lr", fineTuneLearningRate,
                "--no-progress", noProgress ? true : null));
        if (full) refuse("lm --full", used("--lora-r", loraR, "--lora-alpha", loraAlpha, "--lora-dropout", loraDropout, "--lora-targets", loraTargets));
        Main.banner(spec.commandLine().getErr());
        int steps = orDefault(iters, 500), every = orDefault(evalEvery, 100), window = orDefault(context, 0);
        if (steps <= 0) throw new IllegalArgumentException("--iters must be positive, got " + steps);
        if (every <= 0) throw new IllegalArgumentException("--eval-every must be positive, got " + every);
        if (window < 0) throw new IllegalArgumentException("--context must be positive (or left out for the model's), got " + window);
        Path outPath = out.toAbsolutePath().normalize(), in = model.toAbsolutePath().normalize();
        if (in.startsWith(outPath) || Files.exists(outPath) && Files.isSameFile(outPath, in))
            throw new IllegalArgumentException("--out " + out + (outPath.equals(in) ? " is" : " holds") + " the --model " + model
                    + ": write the fine-tuned result elsewhere (the base is never overwritten)");
        LoraConfig lora = full ? null : new LoraConfig(orDefault(loraR, 8), loraAlpha != null ? loraAlpha : 8, loraDropout != null ? loraDropout : 0,
                loraTargets != null ? loraTargets : LoraFinetuneJob.defaultTargets(model));
        LoraFinetuneJob.Settings s = new LoraFinetuneJob.Settings(model, tokenizer, Path.of(data), out, lora, steps, orDefault(batchSize, 12), window,
                learningRate != null ? learningRate : 1e-3, every, seed != null ? seed : 1337);
        LoraFinetuneJob.Outcome o = LoraFinetuneJob.run(s, spec.commandLine().getErr());
        var w = spec.commandLine().getOut();
        w.printf("val loss %.4f -> %.4f; %d of %d parameters trained; %s written to %s%n", o.valLossBefore(), o.valLoss(), o.trainableParameters(),
                o.totalParameters(), full ? "model" : "adapter", out);
        if (json) w.println(JsonOutput.line(LoraFinetuneJob.json(o, s)));
        return 0;
    }

    private static int orDefault(Integer v, int otherwise) {
        return v != null ? v : otherwise;
    }

    /** The names among {@code nameValuePairs} whose value was given (not null). */
    private static List<String> used(Object... nameValuePairs) {
        List<String> given = new ArrayList<>();
        for (int i = 0; i < nameValuePairs.length; i += 2) if (nameValuePairs[i + 1] != null) given.add((String) nameValuePairs[i]);
        return given;
    }

    /** An option of the other task is a mistake worth naming, not something to ignore. */
    private void refuse(String mode, List<String> given) {
        if (!given.isEmpty())
            throw new IllegalArgumentException(String.join(", ", given) + (given.size() == 1 ? " does" : " do") + " not apply to --task " + mode);
    }
}
