package dev.jumbo.lora;

import dev.jumbo.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * The LoRA adapters attached to one model, by HuggingFace module path. A model lists the modules
 * it can adapt ({@code transformer.h.0.attn.c_attn -> LoraTarget}); this class matches a
 * {@link LoraConfig}'s targets against them, attaches fresh adapters or a saved
 * {@link PeftAdapter}'s, and saves, merges or detaches them together.
 *
 * <pre>{@code
 * LoraAdapters lora = LoraAdapters.attach(gpt2.loraModules(), LoraConfig.defaults(List.of("c_attn")), new Random(1));
 * optimizer.bind(lora.parameters());            // the base stays frozen
 * ...
 * lora.toPeft("runs/base", "CAUSAL_LM", true).write(Path.of("runs/adapter"));
 * }</pre>
 */
public final class LoraAdapters {
    private final LoraConfig config;
    private final Map<String, LoraTarget> targets;
    private final Map<String, LoraAdapter> adapters;

    private LoraAdapters(LoraConfig config, Map<String, LoraTarget> targets, Map<String, LoraAdapter> adapters) {
        this.config = config;
        this.targets = targets;
        this.adapters = Collections.unmodifiableMap(adapters);
    }

    /**
     * Attaches a fresh adapter (A as PEFT draws it, B zero) to every module of {@code modules}
     * that {@code config} targets.
     *
     * @throws IllegalArgumentException if a target matches no module (listing the modules there
     *     are), or a module already has an adapter
     */
    public static LoraAdapters attach(Map<String, LoraTarget> modules, LoraConfig config, Random random) {
        checkTargets(modules, config);
        for (var e : modules.entrySet())
            if (config.matches(e.getKey())) checkFree(e.getKey(), e.getValue());
        Map<String, LoraAdapter> attached = new LinkedHashMap<>();
        Map<String, LoraTarget> used = new LinkedHashMap<>();
        modules.forEach((name, t) -> {
            if (!config.matches(name)) return;
            LoraAdapter adapter = LoraAdapter.fresh(t.in(), t.width(), t.offset(), config, random);
            t.layer().attach(adapter);
            attached.put(name, adapter);
            used.put(name, t);
        });
        return new LoraAdapters(config, used, attached);
    }

    /**
     * Attaches a saved adapter's weights to the modules they name.
     *
     * @throws IllegalArgumentException naming the tensor or target if the adapter names a module
     *     this model lacks (listing the modules there are) or a shape disagrees with the module's
     */
    public static LoraAdapters load(Map<String, LoraTarget> modules, PeftAdapter saved) {
        checkTargets(modules, saved.config());
        Map<String, LoraAdapter> attached = new LinkedHashMap<>();
        Map<String, LoraTarget> used = new LinkedHashMap<>();
        for (String name : saved.modules()) {
            LoraTarget t = modules.get(name);
            if (t == null)
                throw new IllegalArgumentException("adapter tensor '" + PeftAdapter.aName(name) + "' adapts module '" + name + "', which this model lacks; "
                        + available(modules));
            Tensor a = saved.a(name), b = saved.b(name);
            if (a.dim(1) != t.in())
                throw new IllegalArgumentException("adapter tensor '" + PeftAdapter.aName(name) + "' has shape " + a.shape() + ", but module '" + name + "' takes "
                        + t.in() + " inputs: expected [" + saved.config().r() + ", " + t.in() + "]");
            if (b.dim(0) != t.width())
                throw new IllegalArgumentException("adapter tensor '" + PeftAdapter.bName(name) + "' has shape " + b.shape() + ", but module '" + name + "' has "
                        + t.width() + " outputs: expected [" + t.width() + ", " + saved.config().r() + "]");
            checkFree(name, t);
        }
        for (String name : saved.modules()) {
            LoraTarget t = modules.get(name);
            LoraAdapter adapter = LoraAdapter.fromPeft(saved.a(name), saved.b(name), t.offset(), saved.config());
            t.layer().attach(adapter);
            attached.put(name, adapter);
            used.put(name, t);
        }
        return new LoraAdapters(saved.config(), used, attached);
    }

    private static void checkTargets(Map<String, LoraTarget> modules, LoraConfig config) {
        List<String> missing = config.unmatched(modules.keySet());
        if (!missing.isEmpty())
            throw new IllegalArgumentException("LoRA target module" + (missing.size() == 1 ? " " : "s ") + String.join(", ", missing.stream().map(m -> "'" + m + "'").toList()) + (missing.size() == 1 ? " matches" : " match") + " no module of this model; " + available(modules));
    }

    /** Refuses, before anything is attached, a module whose columns already have an adapter. */
    private static void checkFree(String name, LoraTarget t) {
        for (LoraAdapter other : t.layer().adapters())
            if (t.offset() < other.offset() + other.width() && other.offset() < t.offset() + t.width())
                throw new IllegalArgumentException("module '" + name + "' already has a LoRA adapter: detach or merge it first");
    }

    /** "the modules LoRA can adapt are c_attn, c_proj, c_fc (e.g. transformer.h.0.attn.c_attn, ...)". */
    static String available(Map<String, LoraTarget> modules) {
        Set<String> shortNames = new LinkedHashSet<>();
        for (String m : modules.keySet()) shortNames.add(m.substring(m.lastIndexOf('.') + 1));
        List<String> examples = new ArrayList<>();
        for (String m : modules.keySet()) {
            if (examples.size() == 6) {
                examples.add("...");
                break;
            }
            examples.add(m);
        }
        return "the modules LoRA can adapt are " + String.join(", ", shortNames) + " (full names: " + String.join(", ", examples) + ")";
    }

    /** The configuration the adapters were made with. */
    public LoraConfig config() {
        return config;
    }

    /** The adapters by HuggingFace module path, in the model's order. */
    public Map<String, LoraAdapter> adapters() {
        return adapters;
    }

    /** Every adapter's A and B: the tensors to train. */
    public List<Tensor> parameters() {
        List<Tensor> out = new ArrayList<>();
        for (LoraAdapter a : adapters.values()) out.addAll(a.parameters());
        return out;
    }

    /** Elements of all A and B. */
    public long parameterCount() {
        long n = 0;
        for (Tensor t : parameters()) n += t.size();
        return n;
    }

    /** The adapters in PEFT's form, ready to {@link PeftAdapter#write}. */
    public PeftAdapter toPeft(String baseModel, String taskType, boolean fanInFanOut) {
        Map<String, Tensor[]> ab = new LinkedHashMap<>();
        adapters.forEach((name, a) -> ab.put(name, new Tensor[] {a.peftA(), a.peftB()}));
        return PeftAdapter.of(config, baseModel, taskType, fanInFanOut, ab);
    }

    /** Folds every adapter into its layer's weights and removes it: the model then computes alone what base + adapters did. */
    public void merge() {
        for (LoraHost layer : layers()) layer.mergeAdapters();
    }

    /** Removes the adapters, leaving the base weights as they were. */
    public void detach() {
        for (LoraHost layer : layers()) layer.detachAdapters();
    }

    private List<LoraHost> layers() {
        Map<LoraHost, Boolean> seen = new IdentityHashMap<>();
        List<LoraHost> out = new ArrayList<>();
        for (LoraTarget t : targets.values())
            if (seen.put(t.layer(), true) == null) out.add(t.layer());
        return out;
    }
}
