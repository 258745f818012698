package dev.jumbo.io;

import dev.jumbo.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * The weights of a HuggingFace model folder: {@code model.safetensors}, or the shards that
 * {@code model.safetensors.index.json} lists ({@code {"weight_map": {"tensor name": "shard file"}}}).
 * Shards are mapped one at a time, and only the tensors the index names are converted.
 *
 * <pre>{@code
 * Map<String, Tensor> weights = SafetensorsFolder.read(Path.of("models/gpt2-xl"));
 * }</pre>
 */
public final class SafetensorsFolder {
    public static final String SINGLE = "model.safetensors", INDEX = "model.safetensors.index.json";

    private SafetensorsFolder() {}

    /**
     * @throws FormatException naming the file: an index that is not JSON, names a shard outside the
     *     folder or a missing one, or a tensor its shard lacks; a malformed shard; no weights at all
     */
    public static Map<String, Tensor> read(Path dir) throws IOException {
        Path index = dir.resolve(INDEX);
        if (!Files.exists(index)) {
            Path single = dir.resolve(SINGLE);
            if (!Files.exists(single)) throw new FormatException(single, "no such file (nor " + INDEX + ")");
            return Safetensors.read(single);
        }
        Object parsed = Json.read(index);
        if (!(parsed instanceof Map<?, ?> root) || !(root.get("weight_map") instanceof Map<?, ?> map) || map.isEmpty())
            throw new FormatException(index, "no \"weight_map\" object naming each tensor's shard");
        Map<String, String> shardOf = new LinkedHashMap<>();
        Set<String> shards = new LinkedHashSet<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (!(e.getValue() instanceof String file) || file.isEmpty() || file.contains("/") || file.contains("\\") || file.equals("..") || file.equals("."))
                throw new FormatException(index, "tensor '" + e.getKey() + "' is mapped to " + e.getValue() + ", not a file name in this folder");
            shardOf.put((String) e.getKey(), file);
            shards.add(file);
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (String shard : shards) {
            Path file = dir.resolve(shard);
            if (!Files.exists(file)) throw new FormatException(index, "names shard '" + shard + "', which does not exist");
            try (SafetensorsFile tensors = Safetensors.open(file)) {
                for (Map.Entry<String, String> e : shardOf.entrySet()) {
                    if (!e.getValue().equals(shard)) continue;
                    if (!tensors.names().contains(e.getKey()))
                        throw new FormatException(file, "has no tensor '" + e.getKey() + "', which " + INDEX + " places there");
                    out.put(e.getKey(), tensors.tensor(e.getKey()));
                }
            }
        }
        return out;
    }
}
