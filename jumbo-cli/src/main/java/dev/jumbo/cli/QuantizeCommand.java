package dev.jumbo.cli;

import dev.jumbo.io.Gguf;
import dev.jumbo.io.GgufField;
import dev.jumbo.io.GgufFile;
import dev.jumbo.io.GgufValueType;
import dev.jumbo.io.GgufWriter;
import dev.jumbo.models.Llama;
import dev.jumbo.models.Llama2c;
import dev.jumbo.models.LlamaGguf;
import dev.jumbo.tensor.DType;
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

/** {@code jumbo quantize}: a Llama (llama2.c checkpoint or GGUF) re-encoded as a GGUF file in llama.cpp's layout. */
@Command(name = "quantize", mixinStandardHelpOptions = true,
        description = {"Write a Llama model as a GGUF file in llama.cpp's layout with its matrices in Q8_0, Q4_0 or F16.",
                "Example: jumbo quantize --model stories260K.bin --type q8_0 --out stories260K-q8_0.gguf"})
final class QuantizeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "FILE", description = "A llama2.c checkpoint (FILE.bin, its tokenizer beside it) or a Llama GGUF file.")
    Path model;

    @Option(names = "--type", required = true, paramLabel = "TYPE", description = "q8_0, q4_0 or f16.")
    String type;

    @Option(names = "--out", required = true, paramLabel = "FILE.gguf", description = "The file to write (replaced atomically).")
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

    /** Copies every {@code tokenizer.*} key of {@code source} as it is typed there. */
    private static void copyTokenizer(GgufFile source, GgufWriter writer) throws Exception {
        for (GgufField f : source.fields()) {
            if (!f.key().startsWith("tokenizer.")) continue;
            if (f.type() == GgufValueType.ARRAY) writer.putArray(f.key(), f.itemType(), source.array(f.key()));
            else writer.put(f.key(), f.type(), source.value(f.key()));
        }
    }
}
