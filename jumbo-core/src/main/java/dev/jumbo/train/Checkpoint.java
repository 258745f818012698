package dev.jumbo.train;

import dev.jumbo.io.FormatException;
import dev.jumbo.io.Json;
import dev.jumbo.io.Safetensors;
import dev.jumbo.nn.Module;
import dev.jumbo.optim.Optimizer;
import dev.jumbo.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything needed to continue a training run, in ONE safetensors file so that it is replaced
 * in a single atomic rename: model weights ({@code model/...}), optimizer state
 * ({@code optimizer/...}), and in the metadata the position, history and model config.
 *
 * @param model     the model's state dict
 * @param optimizer the optimizer's state
 * @param epoch     the epoch to continue in (0-based)
 * @param batch     batches of that epoch already done
 * @param history   per-epoch metrics of the finished epochs
 * @param config    the model's architecture as JSON, or null for a hand-built module
 */
public record Checkpoint(Map<String, Tensor> model, Map<String, Tensor> optimizer, int epoch, int batch,
                         History history, String config) {
    private static final String MODEL = "model/", OPTIMIZER = "optimizer/";

    /** Writes atomically: a crash mid-write leaves the previous file intact. */
    public void write(Path file) throws IOException {
        Map<String, Tensor> all = new LinkedHashMap<>();
        model.forEach((k, v) -> all.put(MODEL + k, v));
        optimizer.forEach((k, v) -> all.put(OPTIMIZER + k, v));
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "jumbo-checkpoint/1");
        meta.put("epoch", Integer.toString(epoch));
        meta.put("batch", Integer.toString(batch));
        meta.put("history", Json.write(history.asMap(), false));
        if (config != null) meta.put("config", config);
        Safetensors.write(file, all, meta);
    }

    /**
     * Continues a run from {@code file}: its weights into {@code model}, its optimizer state into
     * {@code optimizer} and its finished epochs into {@code history}; returns it for its position
     * ({@link #epoch}, {@link #batch}). What every trainer that resumes does, in one place.
     */
    public static Checkpoint resume(Path file, Module model, Optimizer optimizer, History history) {
        Checkpoint c;
        try {
            c = read(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        model.loadStateDict(c.model());
        optimizer.loadState(c.optimizer());
        c.history().asMap().forEach((k, v) -> v.forEach(x -> history.append(Map.of(k, x))));
        return c;
    }

    /** Reads a checkpoint written by {@link #write}. */
    public static Checkpoint read(Path file) throws IOException {
        Map<String, Tensor> all = Safetensors.read(file);
        Map<String, String> meta = Safetensors.readMetadata(file);
        if (meta == null || !"jumbo-checkpoint/1".equals(meta.get("format")))
            throw new FormatException(file, "not a Jumbo checkpoint (metadata 'format' is not jumbo-checkpoint/1)");
        Map<String, Tensor> model = new LinkedHashMap<>(), opt = new LinkedHashMap<>();
        all.forEach((k, v) -> {
            if (k.startsWith(MODEL)) model.put(k.substring(MODEL.length()), v);
            else if (k.startsWith(OPTIMIZER)) opt.put(k.substring(OPTIMIZER.length()), v);
        });
        History history = new History();
        try {
            int epoch = Integer.parseInt(meta.get("epoch")), batch = Integer.parseInt(meta.get("batch"));
            if (meta.get("history") != null && Json.parse(meta.get("history")) instanceof Map<?, ?> h) {
                h.forEach((k, v) -> {
                    for (Object x : (List<?>) v) history.append(Map.of((String) k, ((Number) x).doubleValue()));
                });
            }
            return new Checkpoint(model, opt, epoch, batch, history, meta.get("config"));
        } catch (RuntimeException e) {
            throw new FormatException(file, "bad checkpoint metadata: " + e.getMessage());
        }
    }
}
