package dev.jumbo.cli;

import dev.jumbo.compress.Quantizer;
import dev.jumbo.data.TensorDataset;
import dev.jumbo.io.Gguf;
import dev.jumbo.io.GgufField;
import dev.jumbo.io.GgufFile;
import dev.jumbo.io.GgufValueType;
import dev.jumbo.io.GgufWriter;
import dev.jumbo.models.Llama;
import dev.jumbo.models.Llama2c;
import dev.jumbo.models.LlamaGguf;
import dev.jumbo.nn.ActivationScale;
import dev.jumbo.nn.QuantizedConv2D;
import dev.jumbo.nn.QuantizedDense;
import dev.jumbo.tensor.DType;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.train.Sequential;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code jumbo quantize}: a Llama (llama2.c checkpoint or GGUF) re-encoded as a GGUF file in
 * llama.cpp's layout ({@code --type}), or a model folder from {@code jumbo train} with its Dense and
 * Conv2D layers in int8 ({@code --method}, see {@link Quantizer}).
 */
@Command(name = "quantize", mixinStandardHelpOptions = true,
        description = {"Write a Llama model as a GGUF file in llama.cpp's layout with its matrices in Q8_0, Q4_0 or F16,",
                "or a model folder from jumbo train with its Dense and Conv2D layers quantized to int8.",
                "Example: jumbo quantize --model stories260K.bin --type q8_0 --out stories260K-q8_0.gguf",
                "Example: jumbo quantize --model runs/cnn --method int8-static --calibration-data fashion-mnist --out runs/cnn-int8"})
final class QuantizeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "FILE|DIR", description = "A llama2.c checkpoint (FILE.bin, its tokenizer beside it) or a Llama GGUF file (with --type); a model folder from jumbo train (with --method).")
    Path model;

    @Option(names = "--type", paramLabel = "TYPE", description = "For a Llama: q8_0, q4_0 or f16.")
    String type;

    @Option(names = "--method", paramLabel = "METHOD", description = "For a model folder: int8-dynamic (activation scales from each batch) or int8-static (calibrated once, needs --calibration-data);"
            + " q8_0, q4_0 or f16 are --type's.")
    String method;

    @Option(names = "--calibration-data", paramLabel = "DATASET", description = "int8-static: the dataset whose training examples calibrate the activation scales (fashion-mnist, mnist or csv:FILE).")
    String calibrationData;

    @Option(names = "--data", paramLabel = "DIR", description = "Folder holding the calibration dataset's files (as for jumbo train).")
    Path dataDir;

    @Option(names = "--calibration-examples", defaultValue = "512", paramLabel = "N", description = "int8-static: how many of the first training examples calibrate (default: ${DEFAULT-VALUE}).")
    int calibrationExamples;

    @Option(names = "--out", required = true, paramLabel = "FILE.gguf|DIR", description = "The file to write (replaced atomically), or the model folder (written whole, then moved into place; never the input).")
    Path out;

    /** The types this command writes, by their command-line names. */
    static DType parseType(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "q8_0" -> DType.Q8_0;
            case "q4_0" -> DType.Q4_0;
            case "f16" -> DType.F16;
            default -> throw new IllegalArgumentException("--type '" + name + "' is not one of q8_0, q4_0, f16");
        };
    }

    @Override
    public Integer call() throws Exception {
        // the one option spells GGUF types as methods too: --method q8_0 is --type q8_0
        if (type == null && method != null && List.of("q8_0", "q4_0", "f16").contains(method.toLowerCase(Locale.ROOT))) {
            type = method;
            method = null;
        }
        if ((type == null) == (method == null))
            throw new IllegalArgumentException("give either --type (a Llama file to GGUF) or --method (a model folder to int8), not " + (type == null ? "neither" : "both"));
        if (method != null) return quantizeFolder();
        DType target = parseType(type);
        PrintWriter err = spec.commandLine().getErr();
        Main.banner(err);
        boolean gguf = model.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".gguf");
        List<String> keptF32 = new ArrayList<>();
        long start = System.nanoTime();
        Llama llama = gguf ? LlamaGguf.load(model, 0) : Llama2c.load(model);
        try (llama) {
            String name = model.getFileName().toString().replaceFirst("\\.[^.]*$", "");
            GgufWriter writer = LlamaGguf.writer(llama, target, name, keptF32::add);
            if (gguf) {
                try (GgufFile source = Gguf.open(model)) {
                    copyTokenizer(source, writer);
                }
            } else {
                Path tokenizer = Llama2c.findTokenizer(model);
                err.println("tokenizer: " + tokenizer);
                LlamaGguf.putTokenizer(writer, Llama2c.loadTokenizer(tokenizer, llama.vocabSize()));
            }
            for (String m : keptF32) err.println("kept F32: " + m);
            // the matrices are read from the mapped source and encoded as they are written: a band in memory at a time
            writer.write(out);
        }
        spec.commandLine().getOut().printf("%s -> %s: %s, %d bytes (%.1f s)%n", model, out, target, Files.size(out), (System.nanoTime() - start) / 1e9);
        return 0;
    }

    /** {@code --method}: a Sequential folder with its Dense and Conv2D layers in int8, written whole to {@code --out} ({@link OutputFolder}). */
    private int quantizeFolder() throws Exception {
        ActivationScale scale = switch (method.toLowerCase(Locale.ROOT)) {
            case "int8-dynamic" -> ActivationScale.DYNAMIC;
            case "int8-static" -> ActivationScale.STATIC;
            default -> throw new IllegalArgumentException("--method '" + method + "' is not one of int8-dynamic, int8-static");
        };
        if (scale == ActivationScale.STATIC && calibrationData == null)
            throw new IllegalArgumentException("--method int8-static needs --calibration-data DATASET to set its activation scales");
        if (scale == ActivationScale.DYNAMIC && calibrationData != null)
            throw new IllegalArgumentException("--calibration-data is for int8-static; int8-dynamic takes its scales from each batch");
        if (calibrationExamples < 1) throw new IllegalArgumentException("--calibration-examples must be at least 1, got " + calibrationExamples);
        if (!Files.isDirectory(model))
            throw new IllegalArgumentException("--method " + method + " takes a model folder written by jumbo train; " + model + " is not a folder");
        OutputFolder.requireSeparate(out, model, "--model"); // before the work, so a refusal comes at once
        PrintWriter err = spec.commandLine().getErr();
        Main.banner(err);
        long start = System.nanoTime();
        Sequential source = Sequential.load(model);
        Sequential quantized;
        if (scale == ActivationScale.STATIC) {
            TensorDataset train = DataOptions.fit(DataOptions.of(calibrationData, dataDir).load().train(), source.inputShape());
            int n = Math.min(calibrationExamples, train.size());
            Tensor samples = train.x().slice(0, 0, n);
            quantized = Quantizer.quantize(source, scale, Quantizer.calibrate(source, samples, 256));
            err.printf("calibrated on the first %d training examples of %s (activation ranges: max |x|)%n", n, calibrationData);
        } else {
            quantized = Quantizer.dynamic(source);
        }
        OutputFolder.write(out, model, "--model", quantized::save);
        long before = Files.size(model.resolve(Sequential.WEIGHTS_FILE)), after = Files.size(out.resolve(Sequential.WEIGHTS_FILE));
        long layers = quantized.layers().stream().filter(l -> l instanceof QuantizedDense || l instanceof QuantizedConv2D).count();
        spec.commandLine().getOut().printf("%s -> %s: %s, %d of %d layers in int8, weights %d -> %d bytes (%.1f s)%n",
                model, out, method.toLowerCase(Locale.ROOT), layers, quantized.layers().size(), before, after, (System.nanoTime() - start) / 1e9);
        return 0;
    }

    /** Copies every {@code tokenizer.*} key of {@code source} as it is typed there. */
    private static void copyTokenizer(GgufFile source, GgufWriter writer) throws Exception {
        for (GgufField f : source.fields()) {
            if (!f.key().startsWith("tokenizer.")) continue;
            if (f.type() == GgufValueType.ARRAY) writer.putArray(f.key(), f.itemType(), source.array(f.key()));
            else writer.put(f.key(), f.type(), source.value(f.key()));
        }
    }
}
