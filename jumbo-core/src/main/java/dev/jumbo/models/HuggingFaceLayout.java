package dev.jumbo.models;

import dev.jumbo.io.AtomicFiles;
import dev.jumbo.io.Json;
import dev.jumbo.io.Safetensors;
import dev.jumbo.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Tensor names between HuggingFace checkpoints and Jumbo's layers, for every model family: a
 * layer norm's (HF {@code LayerNorm}, {@code ln_*}) weight and bias are gamma and beta, an
 * embedding's ({@code *_embeddings}, {@code wte}, {@code wpe}) weight is embeddings, and any other
 * module's weight is a Dense kernel, stored [in, out] (GPT-2's Conv1D) or [out, in] (nn.Linear).
 */
final class HuggingFaceLayout {
    private HuggingFaceLayout() {}

    /** One HuggingFace tensor under its Jumbo name, transposed when linear weights are stored [out, in]. */
    static void toJumbo(String name, Tensor value, boolean linearOutIn, Map<String, Tensor> out) {
        int dot = name.lastIndexOf('.');
        String base = name.substring(0, dot), leaf = name.substring(dot + 1), module = base.substring(base.lastIndexOf('.') + 1);
        if (isNorm(module)) out.put(base + "." + (leaf.equals("weight") ? "gamma" : leaf.equals("bias") ? "beta" : leaf), value);
        else if (isEmbedding(module)) out.put(base + "." + (leaf.equals("weight") ? "embeddings" : leaf), value);
        else if (leaf.equals("weight") && value.rank() == 2) out.put(base + ".kernel", linearOutIn ? value.transpose(0, 1) : value);
        else out.put(name, value);
    }

    /**
     * Writes {@code dir/config.json} and {@code dir/model.safetensors} with HuggingFace's names,
     * each file replaced atomically.
     */
    static void save(Path dir, Map<String, Object> config, Map<String, Tensor> state, boolean linearOutIn) throws IOException {
        Files.createDirectories(dir);
        AtomicFiles.writeString(dir.resolve("config.json"), Json.write(config, true) + "\n");
        Map<String, Tensor> hf = new LinkedHashMap<>();
        state.forEach((name, value) -> {
            int dot = name.lastIndexOf('.');
            String base = name.substring(0, dot + 1);
            switch (name.substring(dot + 1)) {
                case "kernel" -> hf.put(base + "weight", linearOutIn ? value.transpose(0, 1).contiguous() : value);
                case "gamma", "embeddings" -> hf.put(base + "weight", value);
                case "beta" -> hf.put(base + "bias", value);
                default -> hf.put(name, value);
            }
        });
        Safetensors.write(dir.resolve("model.safetensors"), hf, Map.of("format", "pt"));
    }

    private static boolean isNorm(String module) {
        return module.equals("LayerNorm") || module.startsWith("ln_");
    }

    private static boolean isEmbedding(String module) {
        return module.endsWith("_embeddings") || module.equals("wte") || module.equals("wpe");
    }
}
