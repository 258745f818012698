package dev.jumbo.models;

import dev.jumbo.io.AtomicFiles;
import dev.jumbo.io.Json;
import dev.jumbo.io.Safetensors;
import dev.jumbo.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Tensor names between HuggingFace checkpoints and Jumbo's layers, for every model family: a
 * model's list of {@link Rename}s maps module paths ({@code h.3.attn.c_proj} is
 * {@code h.3.attention.output}); a layer norm's (HF {@code LayerNorm}, {@code ln_*}) weight and
 * bias are gamma and beta, an embedding's ({@code *_embeddings}, {@code wte}, {@code wpe}) weight
 * is embeddings, and any other module's weight is a Dense kernel, stored [in, out] (GPT-2's Conv1D)
 * or [out, in] (nn.Linear).
 */
final class HuggingFaceLayout {
    private HuggingFaceLayout() {}

    /**
     * A module path in HuggingFace's checkpoint and the same module in Jumbo's; {@code *} stands
     * for a layer number and is carried across.
     */
    record Rename(String hf, String jumbo) {
        String toJumbo(String path) {
            return replace(hf, jumbo, path);
        }

        String toHf(String path) {
            return replace(jumbo, hf, path);
        }

        /** {@code path} with its prefix {@code from} (up to a '.' or the end) replaced by {@code to}, or null if it does not start so. */
        private static String replace(String from, String to, String path) {
            Matcher m = Pattern.compile(Pattern.quote(from).replace("*", "\\E(\\d+)\\Q") + "(?=\\.|$)").matcher(path);
            if (!m.lookingAt()) return null;
            String replaced = m.groupCount() == 0 ? to : to.replace("*", m.group(1));
            return replaced + path.substring(m.end());
        }
    }

    /** One HuggingFace tensor under its Jumbo name, transposed when linear weights are stored [out, in]. */
    static void toJumbo(String name, Tensor value, List<Rename> renames, boolean linearOutIn, Map<String, Tensor> out) {
        int dot = name.lastIndexOf('.');
        String base = name.substring(0, dot), leaf = name.substring(dot + 1), module = base.substring(base.lastIndexOf('.') + 1);
        String path = rename(base, renames, true);
        if (isNorm(module)) out.put(path + "." + (leaf.equals("weight") ? "gamma" : leaf.equals("bias") ? "beta" : leaf), value);
        else if (isEmbedding(module)) out.put(path + "." + (leaf.equals("weight") ? "embeddings" : leaf), value);
        else if (leaf.equals("weight") && value.rank() == 2) out.put(path + ".kernel", linearOutIn ? value.transpose(0, 1) : value);
        else out.put(path + "." + leaf, value);
    }

    /**
     * A loading error's message with each quoted Jumbo name ({@code 'encoder.layer.0.fc.kernel'})
     * given as the checkpoint's ({@code 'encoder.layer.0.intermediate.dense.weight'}), since the
     * user's file has those; a fused projection is named after its three parts.
     */
    static String inHfNames(String message, List<Rename> renames) {
        Matcher m = Pattern.compile("'([^' ]+)'").matcher(message);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            String name = m.group(1);
            int dot = name.lastIndexOf('.');
            if (dot < 0) continue;
            String base = name.substring(0, dot), leaf = switch (name.substring(dot + 1)) {
                case "kernel", "gamma", "embeddings" -> "weight";
                case "beta" -> "bias";
                default -> name.substring(dot + 1);
            };
            String direct = rename(base, renames, false);
            String hf = direct.equals(base) && base.endsWith(".qkv")
                    ? String.join(", ", List.of("query", "key", "value").stream()
                            .map(p -> rename(base.substring(0, base.length() - 3) + p, renames, false) + "." + leaf).toList())
                    : direct + "." + leaf;
            m.appendReplacement(sb, Matcher.quoteReplacement("'" + hf + "'"));
        }
        m.appendTail(sb);
        return sb.toString();
    }

    private static String rename(String path, List<Rename> renames, boolean toJumbo) {
        for (Rename r : renames) {
            String renamed = toJumbo ? r.toJumbo(path) : r.toHf(path);
            if (renamed != null) return renamed;
        }
        return path;
    }

    /**
     * Joins the separate {@code P.query}, {@code P.key} and {@code P.value} projections that
     * {@link #toJumbo} produced (HuggingFace's BERT keeps three) into the fused {@code P.qkv} of
     * {@link dev.jumbo.nn.MultiHeadAttention}: kernels side by side, biases end to end.
     */
    static Map<String, Tensor> fuseQkv(Map<String, Tensor> jumbo) {
        Map<String, Tensor> out = new LinkedHashMap<>(jumbo);
        for (Map.Entry<String, Tensor> e : jumbo.entrySet()) {
            int at = e.getKey().lastIndexOf(".query.");
            if (at < 0) continue;
            String p = e.getKey().substring(0, at), leaf = e.getKey().substring(at + ".query".length());
            Tensor q = e.getValue(), k = jumbo.get(p + ".key" + leaf), v = jumbo.get(p + ".value" + leaf);
            if (k == null || v == null) continue; // left as they are: loading then names what is missing
            out.remove(e.getKey());
            out.remove(p + ".key" + leaf);
            out.remove(p + ".value" + leaf);
            out.put(p + ".qkv" + leaf, Tensor.concat(q.rank() - 1, List.of(q, k, v)));
        }
        return out;
    }

    /** The inverse of {@link #fuseQkv}: each {@code P.qkv} split into thirds along its last axis. */
    static Map<String, Tensor> splitQkv(Map<String, Tensor> jumbo) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        jumbo.forEach((name, value) -> {
            int at = name.lastIndexOf(".qkv.");
            if (at < 0) {
                out.put(name, value);
                return;
            }
            String p = name.substring(0, at), leaf = name.substring(at + ".qkv".length());
            int axis = value.rank() - 1, third = value.dim(axis) / 3;
            out.put(p + ".query" + leaf, value.slice(axis, 0, third).contiguous());
            out.put(p + ".key" + leaf, value.slice(axis, third, 2 * third).contiguous());
            out.put(p + ".value" + leaf, value.slice(axis, 2 * third, 3 * third).contiguous());
        });
        return out;
    }

    /**
     * Writes {@code dir/config.json} and {@code dir/model.safetensors} with HuggingFace's names,
     * each file replaced atomically.
     */
    static void save(Path dir, Map<String, Object> config, Map<String, Tensor> state, List<Rename> renames, boolean linearOutIn) throws IOException {
        Files.createDirectories(dir);
        AtomicFiles.writeString(dir.resolve("config.json"), Json.write(config, true) + "\n");
        Map<String, Tensor> hf = new LinkedHashMap<>();
        state.forEach((name, value) -> {
            int dot = name.lastIndexOf('.');
            String base = rename(name.substring(0, dot), renames, false) + ".";
            switch (name.substring(dot + 1)) {
                case "kernel" -> hf.put(base + "weight", linearOutIn ? value.transpose(0, 1).contiguous() : value);
                case "gamma", "embeddings" -> hf.put(base + "weight", value);
                case "beta" -> hf.put(base + "bias", value);
                default -> hf.put(base + name.substring(dot + 1), value);
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
