package dev.jumbo.io;

import dev.jumbo.tensor.Tensor;
import dev.jumbo.tensor.WeightMatrix;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;
import java.util.SequencedSet;
import java.util.Set;

/**
 * The weights of a HuggingFace model folder: {@code model.safetensors}, or the shards that
 * {@code model.safetensors.index.json} lists ({@code {"weight_map": {"tensor name": "shard file"}}}).
 * {@link #open} maps every shard and checks that each holds the tensors the index places there;
 * tensors are then read one at a time, as {@link WeightMatrix} views over the mapping
 * ({@link #matrix}) or converted to F32 ({@link #tensor}). Close it to unmap the shards.
 *
 * <pre>{@code
 * Map<String, Tensor> weights = SafetensorsFolder.read(Path.of("models/gpt2-xl"));   // all, converted
 * try (SafetensorsFolder folder = SafetensorsFolder.open(Path.of("models/TinyLlama"))) {
 *     WeightMatrix wq = folder.matrix("model.layers.0.self_attn.q_proj.weight");     // mapped
 * }
 * }</pre>
 */
public final class SafetensorsFolder implements AutoCloseable {
    public static final String SINGLE = "model.safetensors", INDEX = "model.safetensors.index.json";

    private final Path file;
    /** Each tensor's open shard, in the order shards are first named, then the index's order. */
    private final SequencedMap<String, SafetensorsFile> shardOf;
    private final List<SafetensorsFile> shards;

    private SafetensorsFolder(Path file, SequencedMap<String, SafetensorsFile> shardOf, List<SafetensorsFile> shards) {
        this.file = file;
        this.shardOf = Collections.unmodifiableSequencedMap(shardOf);
        this.shards = List.copyOf(shards);
    }

    /**
     * Maps the folder's weights, reading no tensor yet.
     *
     * @throws FormatException naming the file: an index that is not JSON, names a shard outside the
     *     folder or a missing one, or a tensor its shard lacks; a malformed shard; no weights at all
     */
    public static SafetensorsFolder open(Path dir) throws IOException {
        Path index = dir.resolve(INDEX);
        if (!Files.exists(index)) {
            Path single = dir.resolve(SINGLE);
            if (!Files.exists(single)) throw new FormatException(single, "no such file (nor " + INDEX + ")");
            SafetensorsFile tensors = Safetensors.open(single);
            SequencedMap<String, SafetensorsFile> all = new LinkedHashMap<>();
            for (String name : tensors.names()) all.put(name, tensors);
            return new SafetensorsFolder(single, all, List.of(tensors));
        }
        Object parsed = Json.read(index);
        if (!(parsed instanceof Map<?, ?> root) || !(root.get("weight_map") instanceof Map<?, ?> map) || map.isEmpty())
            throw new FormatException(index, "no \"weight_map\" object naming each tensor's shard");
        Map<String, String> shardNames = new LinkedHashMap<>();
        Set<String> shardFiles = new LinkedHashSet<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (!(e.getValue() instanceof String file) || file.isEmpty() || file.contains("/") || file.contains("\\") || file.equals("..") || file.equals("."))
                throw new FormatException(index, "tensor '" + e.getKey() + "' is mapped to " + e.getValue() + ", not a file name in this folder");
            shardNames.put((String) e.getKey(), file);
            shardFiles.add(file);
        }
        List<SafetensorsFile> opened = new ArrayList<>();
        try {
            SequencedMap<String, SafetensorsFile> shardOf = new LinkedHashMap<>();
            for (String shard : shardFiles) {
                Path file = dir.resolve(shard);
                if (!Files.exists(file)) throw new FormatException(index, "names shard '" + shard + "', which does not exist");
                SafetensorsFile tensors = Safetensors.open(file);
                opened.add(tensors);
                for (Map.Entry<String, String> e : shardNames.entrySet()) {
                    if (!e.getValue().equals(shard)) continue;
                    if (!tensors.names().contains(e.getKey()))
                        throw new FormatException(file, "has no tensor '" + e.getKey() + "', which " + INDEX + " places there");
                    shardOf.put(e.getKey(), tensors);
                }
            }
            return new SafetensorsFolder(index, shardOf, opened);
        } catch (IOException | RuntimeException e) {
            opened.forEach(SafetensorsFile::close); // nobody else will: the caller never gets the folder
            throw e;
        }
    }

    /**
     * Every tensor {@link #open} finds, converted to F32, shard by shard.
     *
     * @throws FormatException as {@link #open}, or for a tensor over 2^31 elements
     */
    public static Map<String, Tensor> read(Path dir) throws IOException {
        try (SafetensorsFolder folder = open(dir)) {
            Map<String, Tensor> out = new LinkedHashMap<>();
            for (String name : folder.names()) out.put(name, folder.tensor(name));
            return out;
        }
    }

    /** The file that describes the weights: the index, or {@code model.safetensors}; errors about the folder name it. */
    public Path file() {
        return file;
    }

    /** The tensor names: the index's (shard by shard), or the single file's. */
    public SequencedSet<String> names() {
        return shardOf.sequencedKeySet();
    }

    /** The shape of tensor {@code name}, outermost first. @throws IllegalArgumentException if there is no such tensor */
    public long[] shape(String name) {
        return shard(name).shape(name);
    }

    /** Tensor {@code name} converted to F32 on the heap ({@link SafetensorsFile#tensor}). */
    public Tensor tensor(String name) throws FormatException {
        return shard(name).tensor(name);
    }

    /** Tensor {@code name} as a matrix over its shard's mapping ({@link SafetensorsFile#matrix}). */
    public WeightMatrix matrix(String name) throws FormatException {
        return shard(name).matrix(name);
    }

    /** Unmaps every shard: matrices from {@link #matrix} become unreadable, tensors stay (they are copies). Closing twice does nothing. */
    @Override
    public void close() {
        shards.forEach(SafetensorsFile::close);
    }

    private SafetensorsFile shard(String name) {
        SafetensorsFile s = shardOf.get(name);
        if (s == null) throw new IllegalArgumentException(file + ": no tensor " + Safetensors.quote(name));
        return s;
    }
}
