package dev.jumbo.cli;

import dev.jumbo.io.FormatException;
import dev.jumbo.io.GgufWriter;
import dev.jumbo.io.Json;
import dev.jumbo.io.Safetensors;
import dev.jumbo.io.SafetensorsFolder;
import dev.jumbo.models.Bert;
import dev.jumbo.models.GgufModels;
import dev.jumbo.models.Gpt2;
import dev.jumbo.onnx.BertOnnx;
import dev.jumbo.onnx.Gpt2Onnx;
import dev.jumbo.onnx.SequentialOnnx;
import dev.jumbo.text.ByteLevelBpe;
import dev.jumbo.text.Tokenizer;
import dev.jumbo.text.Tokenizers;
import dev.jumbo.train.Sequential;
import dev.jumbo.train.SequentialGguf;
import java.io.IOException;
import java.io.PrintWriter;
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

/**
 * {@code jumbo export}: a model folder from {@code jumbo train} (a Sequential), {@code jumbo train-lm}
 * (a GPT-2) or a BERT folder as one ONNX, GGUF or safetensors file, written atomically and never into the folder.
 */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = {"Write a model folder from `jumbo train`, `jumbo train-lm` (GPT-2) or a BERT folder as one file: ONNX (opset " + SequentialOnnx.OPSET + ", for ONNX Runtime), "
                + "GGUF (F32; a Sequential's architecture JSON in its metadata, a GPT-2 in llama.cpp's layout; not BERT) or safetensors (the config in its header).",
                "Example: jumbo export --model runs/cnn --format onnx --out cnn.onnx"})
final class ExportCommand implements Callable<Integer> {
    /** The metadata key holding the architecture JSON in an exported safetensors file (the same key as in the GGUF). */
    static final String CONFIG_KEY = SequentialGguf.CONFIG_KEY;

    @Spec
    CommandSpec spec;

    @Mixin
    ModelOption model; // a GPT-2 or BERT folder is read from model.dir too

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
        PrintWriter err = spec.commandLine().getErr();
        Main.banner(err);
        String what = switch (modelType(model.dir)) {
            case "gpt2" -> exportGpt2(f, err);
            case "bert" -> exportBert(f);
            default -> exportSequential(f);
        };
        spec.commandLine().getOut().printf("%s -> %s: %s, %,d bytes%n", model.dir, out, what, Files.size(out));
        spec.commandLine().getOut().flush();
        return 0;
    }

    /** The folder's {@code model_type} ("gpt2", "bert": HuggingFace's layout), or "" for a {@code train} folder (a Sequential). */
    private static String modelType(Path dir) throws IOException {
        Path config = dir.resolve(Sequential.CONFIG_FILE);
        if (!Files.isRegularFile(config)) return ""; // Sequential.load names what is missing
        Object type = Json.readObject(config).get("model_type");
        if (type == null || type.equals("gpt2") || type.equals("bert")) return type == null ? "" : (String) type;
        throw new FormatException(config, "model_type '" + type + "': export covers folders of jumbo train (Sequential), GPT-2 (jumbo train-lm) and BERT");
    }

    private String exportSequential(String f) throws IOException {
        Sequential m = model.load();
        createParent();
        switch (f) {
            case "onnx" -> SequentialOnnx.write(m, out);
            case "gguf" -> SequentialGguf.write(m, out);
            default -> {
                Map<String, String> metadata = new LinkedHashMap<>();
                metadata.put("format", "jumbo");
                metadata.put(CONFIG_KEY, m.configJson());
                Safetensors.write(out, m.stateDict(), metadata);
            }
        }
        return describe(f) + ", Sequential of " + m.layers().size() + " layers";
    }

    private String exportGpt2(String f, PrintWriter err) throws IOException {
        Gpt2 gpt2 = Gpt2.load(model.dir);
        createParent();
        switch (f) {
            case "onnx" -> Gpt2Onnx.write(gpt2, out);
            case "gguf" -> {
                String name = model.dir.toAbsolutePath().normalize().getFileName().toString();
                GgufWriter writer = GgufModels.gpt2Writer(gpt2, name);
                Tokenizer tokenizer = Tokenizers.load(model.dir);
                if (tokenizer instanceof ByteLevelBpe bpe) bpe.putGguf(writer);
                else
                    err.println("note: the folder's tokenizer (" + tokenizer.getClass().getSimpleName() + ") has no GGUF form Jumbo or llama.cpp reads; "
                            + out + " holds the weights only (GgufModels.gpt2 loads it; jumbo generate needs a tokenizer in the file)");
                writer.write(out);
            }
            default -> copySafetensors();
        }
        var c = gpt2.config();
        return describe(f) + ", GPT-2 of " + c.nLayer() + " layers, width " + c.nEmbd() + ", vocabulary " + c.vocabSize();
    }

    private String exportBert(String f) throws IOException {
        if (f.equals("gguf"))
            throw new IllegalArgumentException("GGUF export of a BERT folder is not covered yet (its WordPiece vocabulary would need llama.cpp's spelling); use --format onnx or safetensors");
        Bert bert = Bert.load(model.dir);
        createParent();
        if (f.equals("onnx")) BertOnnx.write(bert, out);
        else copySafetensors();
        var c = bert.config();
        return describe(f) + ", BERT encoder of " + c.numHiddenLayers() + " layers, width " + c.hiddenSize();
    }

    /** A HuggingFace-layout folder's tensors under their names in one file, its config.json in the header. */
    private void copySafetensors() throws IOException {
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("format", "pt");
        metadata.put("config", Files.readString(model.dir.resolve("config.json")));
        Safetensors.write(out, SafetensorsFolder.read(model.dir), metadata);
    }

    /** The folder the file goes in, once the model has loaded (a bad model leaves no empty folder behind). */
    private void createParent() throws IOException {
        Path parent = out.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
    }

    private static String describe(String f) {
        return switch (f) {
            case "onnx" -> "ONNX opset " + SequentialOnnx.OPSET;
            case "gguf" -> "GGUF v3, F32";
            default -> "safetensors, F32";
        };
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
