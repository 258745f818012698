package dev.jumbo.train;

import dev.jumbo.io.FormatException;
import dev.jumbo.io.GgmlType;
import dev.jumbo.io.Gguf;
import dev.jumbo.io.GgufFile;
import dev.jumbo.io.GgufTensor;
import dev.jumbo.io.GgufWriter;
import dev.jumbo.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * A {@link Sequential} as one GGUF v3 file: {@code general.architecture} = {@value #ARCHITECTURE},
 * its architecture JSON ({@link Sequential#configJson()}) in the string {@value #CONFIG_KEY}, and
 * each entry of its state dict ({@code "0.kernel"}, {@code "2.moving_mean"} ...) as an F32 tensor
 * of that name, dimensions in ggml order (innermost first). Loading it back gives a model with
 * the same weights, bit for bit, so the same outputs.
 *
 * <pre>{@code
 * SequentialGguf.write(Sequential.load(Path.of("runs/cnn")), Path.of("cnn.gguf"));
 * Sequential again = SequentialGguf.load(Path.of("cnn.gguf"));
 * }</pre>
 */
public final class SequentialGguf {
    /** The value of {@code general.architecture}. */
    public static final String ARCHITECTURE = "jumbo-sequential";
    /** The metadata key of the architecture JSON. */
    public static final String CONFIG_KEY = "jumbo.sequential.config";

    private SequentialGguf() {}

    /** Writes {@code model} to {@code file}, replacing it atomically. */
    public static void write(Sequential model, Path file) throws IOException {
        GgufWriter writer = new GgufWriter()
                .put("general.architecture", ARCHITECTURE)
                .put(CONFIG_KEY, model.configJson());
        for (Map.Entry<String, Tensor> e : model.stateDict().entrySet()) {
            int[] shape = e.getValue().shape().toArray();
            long[] dims = new long[shape.length];
            for (int i = 0; i < shape.length; i++) dims[i] = shape[shape.length - 1 - i];
            float[] values = e.getValue().toFloatArray();
            ByteBuffer bytes = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
            bytes.asFloatBuffer().put(values);
            writer.addTensor(e.getKey(), GgmlType.F32, dims, bytes.array());
        }
        writer.write(file);
    }

    /**
     * Reads a file written by {@link #write}.
     *
     * @throws FormatException if it is not a Jumbo Sequential (naming the architecture found), its
     *     config is malformed, or its tensors do not fit the config (naming the tensor)
     */
    public static Sequential load(Path file) throws IOException {
        try (GgufFile gguf = Gguf.open(file)) {
            String arch = gguf.string("general.architecture", null);
            if (!ARCHITECTURE.equals(arch))
                throw new FormatException(file, "general.architecture is " + (arch == null ? "missing" : "'" + arch + "'") + ", not '" + ARCHITECTURE + "'");
            if (!gguf.has(CONFIG_KEY)) throw new FormatException(file, "missing the architecture JSON under " + CONFIG_KEY);
            Sequential model = Sequential.fromConfig(gguf.string(CONFIG_KEY), file);
            Map<String, Tensor> state = new HashMap<>();
            for (GgufTensor t : gguf.tensors()) {
                if (t.type() != GgmlType.F32) throw new FormatException(file, "tensor '" + t.name() + "' is " + t.type() + "; a Sequential's tensors are F32");
                state.put(t.name(), gguf.tensor(t.name()));
            }
            try {
                model.loadStateDict(state);
            } catch (RuntimeException e) {
                throw new FormatException(file, "tensors do not fit " + CONFIG_KEY + ": " + e.getMessage());
            }
            return model;
        }
    }
}
