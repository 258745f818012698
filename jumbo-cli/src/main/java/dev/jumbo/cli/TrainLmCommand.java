package dev.jumbo.cli;

import dev.jumbo.io.AtomicFiles;
import dev.jumbo.models.Gpt2;
import dev.jumbo.models.Gpt2Config;
import dev.jumbo.models.LmTrainer;
import dev.jumbo.nn.Init;
import dev.jumbo.text.ByteLevelBpe;
import dev.jumbo.text.CharTokenizer;
import dev.jumbo.text.Gpt2Vocabulary;
import dev.jumbo.text.Tokenizer;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code jumbo train-lm}: a GPT trained from scratch on a text file, saved as a HuggingFace-layout folder. */
@Command(name = "train-lm", mixinStandardHelpOptions = true,
        description = {"Train a GPT on a text file (characters or GPT-2's byte-level BPE as tokens) and write a folder that jumbo generate loads.",
                "Example: jumbo train-lm --text ../shared/data/tinyshakespeare.txt --layers 4 --heads 4 --dim 128 --context 64 --batch-size 12 --iters 5000 --out runs/shakespeare"})
final class TrainLmCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--text", required = true, paramLabel = "FILE", description = "UTF-8 training text; its last 10%% is held out.")
    Path text;

    @Option(names = "--tokenizer", defaultValue = "char", paramLabel = "char|gpt2",
            description = "char: one token per distinct character of the text; gpt2: GPT-2's byte-level BPE, 50,257 tokens (default: ${DEFAULT-VALUE}).")
    String tokenizer;

    @Option(names = "--tokenizer-dir", paramLabel = "DIR",
            description = {"With --tokenizer gpt2: the folder holding", "vocab.json + merges.txt (or tokenizer.json).",
                    "Default: the HuggingFace cache ($HF_HOME/hub or", "~/.cache/huggingface/hub), then",
                    "../shared/data/gpt2-tokenizer, else a download", "from huggingface.co into that cache",
                    "(not with HF_HUB_OFFLINE=1)."})
    Path tokenizerDir;

    @Option(names = "--layers", defaultValue = "4", description = "Transformer blocks (default: ${DEFAULT-VALUE}).")
    int layers;

    @Option(names = "--heads", defaultValue = "4", description = "Attention heads (default: ${DEFAULT-VALUE}).")
    int heads;

    @Option(names = "--dim", defaultValue = "128", description = "Width (default: ${DEFAULT-VALUE}).")
    int dim;

    @Option(names = "--context", defaultValue = "64", description = "Tokens of context (default: ${DEFAULT-VALUE}).")
    int context;

    @Option(names = "--batch-size", defaultValue = "12", description = "Windows per step (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--iters", defaultValue = "2000", description = "Optimizer steps (default: ${DEFAULT-VALUE}).")
    int iters;

    @Option(names = "--lr", defaultValue = "1e-3", description = "Peak learning rate after a warm-up of 100 steps, then cosine decay to a tenth (default: ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--eval-every", defaultValue = "250", description = "Steps between validation losses and saves (default: ${DEFAULT-VALUE}).")
    int evalEvery;

    @Option(names = "--seed", defaultValue = "1337", description = "Initial weights and batch order (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Folder for config.json, model.safetensors and tokenizer.json (the tokenizer, either kind).")
    Path out;

    @Option(names = "--json", description = "Print one JSON object as the last line.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        Main.banner(spec.commandLine().getErr());
        if (!"char".equals(tokenizer) && !"gpt2".equals(tokenizer))
            throw new IllegalArgumentException("--tokenizer " + tokenizer + " is not supported: use char or gpt2");
        if (tokenizerDir != null && !"gpt2".equals(tokenizer))
            throw new IllegalArgumentException("--tokenizer-dir " + tokenizerDir + " goes with --tokenizer gpt2, not " + tokenizer);
        if (evalEvery <= 0) throw new IllegalArgumentException("--eval-every must be positive, got " + evalEvery);
        String corpus;
        try {
            corpus = Files.readString(text, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(text.toString(), null, "no such file");
        }
        Tokenizer tok;
        AtomicFiles.IoConsumer<Path> saveTokenizer;
        if ("gpt2".equals(tokenizer)) {
            ByteLevelBpe bpe = Gpt2Vocabulary.standard().load(tokenizerDir);
            tok = bpe;
            saveTokenizer = bpe::save;
        } else {
            CharTokenizer chars = CharTokenizer.of(corpus);
            tok = chars;
            saveTokenizer = chars::save;
        }
        int[] tokens = tok.encode(corpus);
        Init.seed(seed);
        Gpt2 gpt2 = new Gpt2(new Gpt2Config(tok.vocabSize(), context, dim, layers, heads, 1e-5));
        LmTrainer trainer = new LmTrainer(gpt2, tokens,
                new LmTrainer.Options(context, batchSize, iters, lr, Math.min(100, iters / 10), 0.1, seed));
        PrintWriter err = spec.commandLine().getErr();
        err.printf("%d %s, vocabulary %d, %d parameters%n", tokens.length, tok instanceof CharTokenizer ? "characters" : "tokens", tok.vocabSize(),
                gpt2.parameters().stream().mapToLong(p -> p.value().size()).sum());
        double trainLoss = Double.NaN, valLoss = Double.NaN, running = 0;
        int runningCount = 0;
        long start = System.nanoTime();
        long[] stepNanos = new long[iters];
        for (int i = 1; i <= iters; i++) {
            long stepStart = System.nanoTime();
            double l = trainer.step();
            stepNanos[i - 1] = System.nanoTime() - stepStart;
            running += l;
            runningCount++;
            if (i % evalEvery == 0 || i == iters) {
                trainLoss = running / runningCount;
                running = 0;
                runningCount = 0;
                valLoss = trainer.validationLoss(20);
                err.printf("iter %d: train loss %.4f, val loss %.4f, %.0f ms/iter%n", i, trainLoss, valLoss, (System.nanoTime() - start) / 1e6 / i);
                err.flush();
                gpt2.save(out); // each file replaced atomically: an interrupted run leaves the last good save
                saveTokenizer.accept(out); // tokenizer.json: it takes precedence over any other tokenizer file there
            }
        }
        double msPerIter = (System.nanoTime() - start) / 1e6 / iters;
        // the median training step alone (no validation, no saving), as PyTorch's babygpt_train.py reports its figure
        java.util.Arrays.sort(stepNanos);
        double stepMs = stepNanos[iters / 2] / 1e6;
        PrintWriter o = spec.commandLine().getOut();
        o.printf("train loss %.4f, val loss %.4f after %d iterations (%.0f ms/iter); model written to %s%n", trainLoss, valLoss, iters, msPerIter, out);
        if (json) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("train_loss", Math.round(trainLoss * 10000) / 10000.0);
            r.put("val_loss", Math.round(valLoss * 10000) / 10000.0);
            r.put("iters", iters);
            r.put("ms_per_iter", Math.round(msPerIter * 10) / 10.0);
            r.put("median_step_ms", Math.round(stepMs * 10) / 10.0);
            o.println(JsonOutput.line(r));
        }
        return 0;
    }
}
