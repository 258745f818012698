package dev.jumbo.cli;

import dev.jumbo.io.Safetensors;
import dev.jumbo.onnx.SequentialOnnx;
import dev.jumbo.train.Sequential;
import dev.jumbo.train.SequentialGguf;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code jumbo export}: a model folder from {@code jumbo train} as one ONNX, GGUF or safetensors file. */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = {"Write a model folder from `jumbo train` as one file: ONNX (opset " + SequentialOnnx.OPSET + ", for ONNX Runtime), "
                + "GGUF (F32 tensors, the architecture JSON in its metadata) or safetensors (the architecture JSON in its header).",
                "Example: jumbo export --model runs/cnn --format onnx --out cnn.onnx"})
final class ExportCommand implements Callable<Integer> {
    /** The metadata key holding the architecture JSON in an exported safetensors file (the same key as in the GGUF). */
    static final String CONFIG_KEY = SequentialGguf.CONFIG_KEY;

    @Spec
    CommandSpec spec;

    @Mixin
    ModelOption model;

    @Option(names = "--format", required = true, paramLabel = "FORMAT", description = "onnx, gguf or safetensors.")
    String format;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "The file to write (replaced atomically; not inside the model folder).")
    Path out;

    @Override
    public Integer call() throws Exception {
        String f = format.toLowerCase(Locale.ROOT);
        if (!f.equals("onnx") && !f.equals("gguf") && !f.equals("safetensors"))
            throw new IllegalArgumentException("--format '" + format + "' is not one of onnx, gguf, safetensors");
        checkOutside(model.dir, out);
        Main.banner(spec.commandLine().getErr());
        Sequential m = model.load();
        Path parent = out.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        String what = switch (f) {
            case "onnx" -> {
                SequentialOnnx.write(m, out);
                yield "ONNX opset " + SequentialOnnx.OPSET;
            }
            case "gguf" -> {
                SequentialGguf.write(m, out);
                yield "GGUF v3, F32";
            }
            default -> {
                Map<String, String> metadata = new LinkedHashMap<>();
                metadata.put("format", "jumbo");
                metadata.put(CONFIG_KEY, m.configJson());
                Safetensors.write(out, m.stateDict(), metadata);
                yield "safetensors, F32";
            }
        };
        spec.commandLine().getOut().printf("%s -> %s: %s, %d layers, %,d bytes%n", model.dir, out, what, m.layers().size(), Files.size(out));
        spec.commandLine().getOut().flush();
        return 0;
    }

    /** The export is a new file beside the model, never a file in (or the place of) the folder it reads. */
    static void checkOutside(Path modelDir, Path out) throws IOException {
        if (Files.isDirectory(out)) throw new IllegalArgumentException("--out " + out + " is a folder; give the file to write");
        Path dir = modelDir.toAbsolutePath().normalize(), file = out.toAbsolutePath().normalize();
        if (Files.isDirectory(dir)) dir = dir.toRealPath();
        Path parent = file.getParent();
        // resolve links in the part of --out that exists, so a link into the model folder is caught too
        while (parent != null && !Files.exists(parent)) parent = parent.getParent();
        if (parent != null) file = parent.toRealPath().resolve(parent.relativize(file.getParent())).resolve(file.getFileName()).normalize();
        if (file.startsWith(dir))
            throw new IllegalArgumentException("--out " + out + " is inside the model folder " + modelDir + "; write the export elsewhere, the folder is left as it is");
    }
}
