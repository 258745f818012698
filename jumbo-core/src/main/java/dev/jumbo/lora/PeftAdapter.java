package dev.jumbo.lora;

import dev.jumbo.io.AtomicFiles;
import dev.jumbo.io.FormatException;
import dev.jumbo.io.Json;
import dev.jumbo.io.Safetensors;
import dev.jumbo.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A LoRA adapter as HuggingFace PEFT saves it: a folder with {@value #CONFIG_FILE} (the
 * {@link LoraConfig} and where it applies) and {@value #WEIGHTS_FILE}, which holds for each adapted
 * module {@code M} (a HuggingFace module path) the tensors
 * {@code base_model.model.M.lora_A.weight} {@code [r, in]} and
 * {@code base_model.model.M.lora_B.weight} {@code [out, r]}, in PyTorch's {@code nn.Linear} layout
 * whatever the base layer's ({@code fan_in_fan_out} only says how the base stores its weight).
 * The adapted layer computes {@code y = base(x) + scale · x Aᵀ Bᵀ}.
 *
 * <pre>{@code
 * PeftAdapter adapter = PeftAdapter.read(Path.of("runs/shakespeare-lora"));
 * adapter.modules();                       // [transformer.h.0.attn.c_attn, ...]
 * Tensor a = adapter.a("transformer.h.0.attn.c_attn");   // [8, 768]
 * }</pre>
 *
 * @param config      rank, alpha, dropout, targets
 * @param baseModel   {@code base_model_name_or_path}, or null
 * @param taskType    {@code task_type} ({@code "CAUSAL_LM"}, ...), or null
 * @param fanInFanOut whether the base layers store their weights [in, out] (GPT-2's Conv1D)
 * @param tensors     by PEFT name; validated: names of the form above, each A with its B, shapes agreeing with r
 */
public record PeftAdapter(LoraConfig config, String baseModel, String taskType, boolean fanInFanOut, Map<String, Tensor> tensors) {
    /** The configuration file's name. */
    public static final String CONFIG_FILE = "adapter_config.json";
    /** The weights file's name. */
    public static final String WEIGHTS_FILE = "adapter_model.safetensors";
    /** The prefix PEFT's {@code PeftModel} puts before the base model's own module paths. */
    public static final String PREFIX = "base_model.model.";
    private static final String A = ".lora_A.weight", B = ".lora_B.weight";

    /** @throws IllegalArgumentException naming the tensor that is misnamed, unpaired, misshapen or not a target */
    public PeftAdapter {
        Objects.requireNonNull(config, "config");
        tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            String name = e.getKey();
            boolean isA = name.endsWith(A);
            if (!name.startsWith(PREFIX) || !isA && !name.endsWith(B))
                throw new IllegalArgumentException("tensor '" + name + "' is not a LoRA weight: PEFT names them " + PREFIX + "<module>" + A + " and " + PREFIX + "<module>" + B);
            String module = name.substring(PREFIX.length(), name.length() - A.length());
            if (module.isEmpty()) throw new IllegalArgumentException("tensor '" + name + "' names no module");
            String partner = PREFIX + module + (isA ? B : A);
            if (!tensors.containsKey(partner)) throw new IllegalArgumentException("tensor '" + name + "' has no partner '" + partner + "'");
            Tensor t = e.getValue();
            int rankAxis = isA ? 0 : 1;
            if (t.rank() != 2 || t.dim(rankAxis) != config.r())
                throw new IllegalArgumentException("tensor '" + name + "' has shape " + t.shape() + ", expected " + (isA ? "[r, in]" : "[out, r]")
                        + " with r = " + config.r() + " (the configuration's rank)");
            if (!config.matches(module))
                throw new IllegalArgumentException("tensor '" + name + "' adapts module '" + module + "', which matches none of the target modules " + config.targetModules());
        }
    }

    /** An adapter from its modules' A {@code [r, in]} and B {@code [out, r]} by HuggingFace module path (without the PEFT prefix). */
    public static PeftAdapter of(LoraConfig config, String baseModel, String taskType, boolean fanInFanOut, Map<String, Tensor[]> abByModule) {
        Map<String, Tensor> t = new LinkedHashMap<>();
        abByModule.forEach((module, ab) -> {
            t.put(aName(module), ab[0]);
            t.put(bName(module), ab[1]);
        });
        return new PeftAdapter(config, baseModel, taskType, fanInFanOut, t);
    }

    /** PEFT's name of module {@code module}'s A: {@code base_model.model.<module>.lora_A.weight}. */
    public static String aName(String module) {
        return PREFIX + module + A;
    }

    /** PEFT's name of module {@code module}'s B. */
    public static String bName(String module) {
        return PREFIX + module + B;
    }

    /** The adapted modules' HuggingFace paths (without the PEFT prefix), in file order. */
    public List<String> modules() {
        List<String> out = new ArrayList<>();
        for (String name : tensors.keySet())
            if (name.endsWith(A)) out.add(name.substring(PREFIX.length(), name.length() - A.length()));
        return out;
    }

    /** Module {@code module}'s A {@code [r, in]}, or null if it is not adapted. */
    public Tensor a(String module) {
        return tensors.get(aName(module));
    }

    /** Module {@code module}'s B {@code [out, r]}, or null if it is not adapted. */
    public Tensor b(String module) {
        return tensors.get(bName(module));
    }

    /** Adapter parameters: the elements of all A and B. */
    public long parameterCount() {
        long n = 0;
        for (Tensor t : tensors.values()) n += t.size();
        return n;
    }

    /**
     * Reads {@code dir/adapter_config.json} and {@code dir/adapter_model.safetensors}.
     *
     * @throws FormatException naming the file and the problem: a missing file, a setting Jumbo does
     *     not implement, a misnamed, unpaired or misshapen tensor (named)
     */
    public static PeftAdapter read(Path dir) throws IOException {
        Path configFile = dir.resolve(CONFIG_FILE), weightsFile = dir.resolve(WEIGHTS_FILE);
        if (!Files.isDirectory(dir)) throw new FormatException(dir, "not a folder: an adapter is a folder with " + CONFIG_FILE + " and " + WEIGHTS_FILE);
        for (Path f : List.of(configFile, weightsFile))
            if (!Files.isRegularFile(f))
                throw new FormatException(f, "missing: an adapter folder holds " + CONFIG_FILE + " and " + WEIGHTS_FILE
                        + (f == weightsFile && Files.exists(dir.resolve("adapter_model.bin")) ? " (adapter_model.bin, PyTorch's pickle format, is not read: save with safe_serialization)" : ""));
        Map<?, ?> json = Json.readObject(configFile);
        LoraConfig config = LoraConfig.fromPeft(json, configFile);
        String base = json.get("base_model_name_or_path") instanceof String s ? s : null;
        String task = json.get("task_type") instanceof String s ? s : null;
        boolean fanInFanOut = Boolean.TRUE.equals(json.get("fan_in_fan_out"));
        Map<String, Tensor> tensors = Safetensors.read(weightsFile);
        try {
            return new PeftAdapter(config, base, task, fanInFanOut, tensors);
        } catch (IllegalArgumentException e) {
            throw new FormatException(weightsFile, e.getMessage());
        }
    }

    /**
     * Writes {@value #WEIGHTS_FILE} then {@value #CONFIG_FILE} into {@code dir} (created if
     * needed), each replaced atomically; other files in {@code dir} are left alone.
     */
    public void write(Path dir) throws IOException {
        Files.createDirectories(dir);
        Map<String, Tensor> dense = new LinkedHashMap<>();
        tensors.forEach((k, v) -> dense.put(k, v.contiguous()));
        Safetensors.write(dir.resolve(WEIGHTS_FILE), dense, Map.of("format", "pt"));
        AtomicFiles.writeString(dir.resolve(CONFIG_FILE), Json.write(config.toPeft(baseModel, taskType, fanInFanOut), true) + "\n");
    }
}
