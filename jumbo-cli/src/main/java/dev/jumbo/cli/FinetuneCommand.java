package dev.jumbo.cli;

import dev.jumbo.lora.LoraConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code jumbo finetune}: adapt a trained model to a new task or text. */
@Command(name = "finetune", mixinStandardHelpOptions = true,
        description = {"Fine-tune a model: --task lm trains LoRA adapters (or, with --full, every weight) of a GPT-2 folder on a new text.",
                "Example: jumbo finetune --model runs/shakespeare --task lm --data new.txt --lora-r 8 --lora-alpha 16 --lora-targets c_attn,c_proj --iters 500 --out runs/lora"})
final class FinetuneCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR|FILE",
            description = "The base model: a GPT-2 folder (as jumbo train-lm writes it), or a Llama (llama2.c checkpoint, GGUF file or HuggingFace folder).")
    Path model;

    @Option(names = "--task", required = true, paramLabel = "lm", description = "lm: language modelling on --data.")
    String task;

    @Option(names = "--data", required = true, paramLabel = "FILE", description = "UTF-8 text; its last 10%% is held out for the validation loss.")
    Path data;

    @Option(names = "--lora-r", defaultValue = "8", description = "LoRA rank (default: ${DEFAULT-VALUE}, PEFT's).")
    int loraR;

    @Option(names = "--lora-alpha", defaultValue = "8", description = "LoRA alpha; the update is scaled by alpha / r (default: ${DEFAULT-VALUE}, PEFT's).")
    double loraAlpha;

    @Option(names = "--lora-dropout", defaultValue = "0", description = "Dropout on the adapters' input while training (default: ${DEFAULT-VALUE}).")
    double loraDropout;

    @Option(names = "--lora-targets", split = ",", paramLabel = "NAME[,NAME...]",
            description = "HuggingFace module names to adapt; a name matches a module whose path ends with it (default: PEFT's, c_attn for GPT-2, q_proj,v_proj for Llama).")
    List<String> loraTargets;

    @Option(names = "--tokenizer", paramLabel = "FILE", description = "A llama2.c checkpoint's tokenizer (default: the one beside it).")
    Path tokenizer;

    @Option(names = "--full", description = "Train every weight instead of LoRA adapters (writes a whole model folder).")
    boolean full;

    @Option(names = "--iters", defaultValue = "500", description = "Optimizer steps (default: ${DEFAULT-VALUE}).")
    int iters;

    @Option(names = "--lr", defaultValue = "1e-3", description = "Peak learning rate, warm-up then cosine decay to a tenth (default: ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--batch-size", defaultValue = "12", description = "Windows per step (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--context", defaultValue = "0", description = "Tokens per window; 0 for the model's context (default: ${DEFAULT-VALUE}).")
    int context;

    @Option(names = "--eval-every", defaultValue = "100", description = "Steps between validation losses and saves (default: ${DEFAULT-VALUE}).")
    int evalEvery;

    @Option(names = "--seed", defaultValue = "1337", description = "Adapter initialisation and batch order (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--out", required = true, paramLabel = "DIR",
            description = "Output folder: adapter_config.json + adapter_model.safetensors (LoRA) or a model folder (--full), and " + LoraFinetuneJob.CHART + ".")
    Path out;

    @Option(names = "--json", description = "Print one JSON object as the last line.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        Main.banner(spec.commandLine().getErr());
        if (!"lm".equals(task)) throw new IllegalArgumentException("--task " + task + " is not supported here: use lm");
        if (iters <= 0) throw new IllegalArgumentException("--iters must be positive, got " + iters);
        if (evalEvery <= 0) throw new IllegalArgumentException("--eval-every must be positive, got " + evalEvery);
        if (context < 0) throw new IllegalArgumentException("--context must be positive (or 0 for the model's), got " + context);
        Path outPath = out.toAbsolutePath().normalize(), in = model.toAbsolutePath().normalize();
        if (in.startsWith(outPath) || java.nio.file.Files.exists(outPath) && java.nio.file.Files.isSameFile(outPath, in))
            throw new IllegalArgumentException("--out " + out + (outPath.equals(in) ? " is" : " holds") + " the --model folder " + model
                    + ": write the fine-tuned result elsewhere (the base is never overwritten)");
        LoraConfig lora = full ? null : new LoraConfig(loraR, loraAlpha, loraDropout, loraTargets != null ? loraTargets : LoraFinetuneJob.defaultTargets(model));
        LoraFinetuneJob.Settings s = new LoraFinetuneJob.Settings(model, tokenizer, data, out, lora, iters, batchSize, context, lr, evalEvery, seed);
        LoraFinetuneJob.Outcome o = LoraFinetuneJob.run(s, spec.commandLine().getErr());
        var w = spec.commandLine().getOut();
        w.printf("val loss %.4f -> %.4f; %d of %d parameters trained; %s written to %s%n", o.valLossBefore(), o.valLoss(), o.trainableParameters(),
                o.totalParameters(), full ? "model" : "adapter", out);
        if (json) w.println(JsonOutput.line(LoraFinetuneJob.json(o, s)));
        return 0;
    }
}
