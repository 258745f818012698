package dev.jumbo.models;

import dev.jumbo.io.FormatException;
import dev.jumbo.io.SafetensorsFolder;
import dev.jumbo.tensor.WeightMatrix;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.SequencedSet;
import java.util.TreeSet;

/**
 * HuggingFace {@code LlamaForCausalLM} folders: {@code config.json} (see {@link LlamaConfig#read})
 * and {@code model.safetensors} or its shards, with HuggingFace's names
 * ({@code model.embed_tokens.weight}, {@code model.layers.N.self_attn.q_proj.weight},
 * {@code mlp.gate_proj} ...). The files are mapped, not read: F32, F16 and BF16 matrices are
 * {@link WeightMatrix} views over the mapping in their stored type (safetensors is little-endian,
 * as the kernels read), so loading copies only the norms. HuggingFace's q and k are arranged for
 * {@code rotate_half} rotary embeddings ({@link LlamaConfig.RopeStyle#NEOX}).
 *
 * <pre>{@code
 * try (Llama llama = LlamaSafetensors.load(Path.of("models/TinyLlama-1.1B-Chat-v1.0"))) {
 *     float[] logits = llama.logits(new int[] {1});   // after BOS
 * }
 * }</pre>
 */
public final class LlamaSafetensors {
    private LlamaSafetensors() {}

    /**
     * Maps the folder's weights; close the model to unmap them.
     *
     * @throws FormatException naming the file and the tensor that is missing, misshapen or unexpected
     */
    public static Llama load(Path dir) throws IOException {
        LlamaConfig config = LlamaConfig.read(dir.resolve("config.json"));
        SafetensorsFolder weights = SafetensorsFolder.open(dir);
        try {
            return build(config, weights);
        } catch (IOException | RuntimeException e) {
            weights.close(); // nobody else will: the caller never gets the model
            throw e;
        }
    }

    private static Llama build(LlamaConfig config, SafetensorsFolder weights) throws FormatException {
        Tensors hf = new Tensors(weights);
        // older checkpoints store the rotary frequencies as buffers; they are recomputed from rope_theta
        hf.left.removeIf(name -> name.endsWith(".self_attn.rotary_emb.inv_freq"));
        int d = config.dim(), kv = config.kvDim(), h = config.hiddenDim();
        WeightMatrix embedding = hf.matrix("model.embed_tokens.weight", config.vocabSize(), d);
        List<Llama.Layer> layers = new ArrayList<>();
        for (int l = 0; l < config.layers(); l++) {
            String p = "model.layers." + l + ".";
            layers.add(new Llama.Layer(hf.vector(p + "input_layernorm.weight", d),
                    hf.matrix(p + "self_attn.q_proj.weight", d, d),
                    hf.matrix(p + "self_attn.k_proj.weight", kv, d),
                    hf.matrix(p + "self_attn.v_proj.weight", kv, d),
                    hf.matrix(p + "self_attn.o_proj.weight", d, d),
                    hf.vector(p + "post_attention_layernorm.weight", d),
                    hf.matrix(p + "mlp.gate_proj.weight", h, d),
                    hf.matrix(p + "mlp.down_proj.weight", d, h),
                    hf.matrix(p + "mlp.up_proj.weight", h, d)));
        }
        float[] norm = hf.vector("model.norm.weight", d);
        WeightMatrix output;
        if (config.sharedClassifier()) {
            hf.left.remove("lm_head.weight"); // some tied checkpoints store the copy anyway
            output = embedding;
        } else {
            output = hf.matrix("lm_head.weight", config.vocabSize(), d);
        }
        if (!hf.left.isEmpty()) throw new FormatException(weights.file(), "unexpected tensors for a Llama: " + new TreeSet<>(hf.left));
        return new Llama(config, embedding, layers, norm, output, weights);
    }

    /**
     * Writes {@code llama} as a HuggingFace folder {@code out}: {@code model.safetensors} with
     * HuggingFace's names, every tensor in F32 (Jumbo's safetensors writer writes F32: twice the size
     * of a BF16 checkpoint), and every other file of {@code source} ({@code config.json}, the
     * tokenizer's files) copied; no {@code rotary_emb.inv_freq} buffers. The folder is written beside
     * {@code out} under a temporary name and moved into place, so a failure leaves no half-written
     * folder; {@code out} must not exist yet (or be an empty folder). What {@code jumbo merge} writes
     * for a HuggingFace base. The weights are copied to F32 on the heap while writing.
     *
     * @throws IllegalArgumentException if the model's q and k are not in HuggingFace's order
     *     ({@link LlamaConfig.RopeStyle#NEOX}), {@code out} is {@code source} or holds files, or the
     *     F32 copy would take more than half the heap
     */
    public static void write(Llama llama, Path source, Path out) throws IOException {
        LlamaConfig c = llama.config();
        if (c.ropeStyle() != LlamaConfig.RopeStyle.NEOX)
            throw new IllegalArgumentException("the model's q and k are arranged for " + c.ropeStyle() + " rotary embeddings; a HuggingFace folder holds them for NEOX");
        Path target = out.toAbsolutePath().normalize();
        if (target.equals(source.toAbsolutePath().normalize()))
            throw new IllegalArgumentException(out + " is the source folder itself; write to another folder");
        if (java.nio.file.Files.exists(target)) {
            try (var entries = java.nio.file.Files.list(target)) {
                if (!java.nio.file.Files.isDirectory(target) || entries.findAny().isPresent())
                    throw new IllegalArgumentException(out + " already exists and is not an empty folder; it is not overwritten");
            }
        }
        long bytes = 4 * LlamaGraph.f32Weights(c), heap = Runtime.getRuntime().maxMemory();
        if (bytes > heap / 2)
            throw new IllegalArgumentException("writing the model in F32 holds " + (bytes >> 20) + " MB, more than half of the " + (heap >> 20) + " MB heap");
        java.util.Map<String, dev.jumbo.tensor.Tensor> t = new java.util.LinkedHashMap<>();
        t.put("model.embed_tokens.weight", tensor(llama.embedding()));
        for (int l = 0; l < c.layers(); l++) {
            Llama.Layer w = llama.layers().get(l);
            String p = "model.layers." + l + ".";
            t.put(p + "input_layernorm.weight", dev.jumbo.tensor.Tensor.of(w.attentionNorm().clone(), c.dim()));
            for (LlamaLora.Projection proj : LlamaLora.Projection.values())
                if (proj.ordinal() < 4) t.put(p + proj.hfPath() + ".weight", tensor(proj.of(w)));
            t.put(p + "post_attention_layernorm.weight", dev.jumbo.tensor.Tensor.of(w.ffnNorm().clone(), c.dim()));
            for (LlamaLora.Projection proj : LlamaLora.Projection.values())
                if (proj.ordinal() >= 4) t.put(p + proj.hfPath() + ".weight", tensor(proj.of(w)));
        }
        t.put("model.norm.weight", dev.jumbo.tensor.Tensor.of(llama.finalNorm().clone(), c.dim()));
        if (llama.output() != llama.embedding()) t.put("lm_head.weight", tensor(llama.output()));
        Path parent = target.getParent();
        java.nio.file.Files.createDirectories(parent);
        Path temporary = java.nio.file.Files.createTempDirectory(parent, "." + target.getFileName() + ".tmp-");
        try {
            try (var files = java.nio.file.Files.list(source)) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    String name = f.getFileName().toString();
                    if (!java.nio.file.Files.isRegularFile(f) || name.endsWith(".safetensors") || name.equals(SafetensorsFolder.INDEX)) continue;
                    java.nio.file.Files.copy(f, temporary.resolve(name));
                }
            }
            dev.jumbo.io.Safetensors.write(temporary.resolve(SafetensorsFolder.SINGLE), t, java.util.Map.of("format", "pt"));
            if (java.nio.file.Files.exists(target)) java.nio.file.Files.delete(target); // empty, checked above
            java.nio.file.Files.move(temporary, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            try (var left = java.nio.file.Files.walk(temporary)) {
                for (Path f : left.sorted(java.util.Comparator.reverseOrder()).toList()) java.nio.file.Files.deleteIfExists(f);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    private static dev.jumbo.tensor.Tensor tensor(WeightMatrix w) {
        float[] values = new float[Math.multiplyExact(w.rows(), w.cols())];
        for (int r = 0; r < w.rows(); r++) w.row(r, values, r * w.cols());
        return dev.jumbo.tensor.Tensor.of(values, w.rows(), w.cols());
    }

    /** The folder's tensors, each taken once: what is {@code left} at the end is unexpected. */
    private static final class Tensors {
        final SafetensorsFolder weights;
        final SequencedSet<String> left;

        Tensors(SafetensorsFolder weights) {
            this.weights = weights;
            left = new LinkedHashSet<>(weights.names());
        }

        /** A matrix over the mapping, in its stored type. */
        WeightMatrix matrix(String name, int rows, int cols) throws FormatException {
            take(name, rows, cols);
            return weights.matrix(name);
        }

        /** A norm's weights, converted to F32 on the heap (they are small, and the runtime reads them as arrays). */
        float[] vector(String name, int n) throws FormatException {
            take(name, n);
            return weights.tensor(name).buffer();
        }

        private void take(String name, long... shape) throws FormatException {
            if (!left.remove(name)) throw new FormatException(weights.file(), "no tensor '" + name + "'");
            long[] actual = weights.shape(name);
            if (!Arrays.equals(actual, shape))
                throw new FormatException(weights.file(), "tensor '" + name + "' has shape " + Arrays.toString(actual) + ", the config needs " + Arrays.toString(shape));
        }
    }
}
