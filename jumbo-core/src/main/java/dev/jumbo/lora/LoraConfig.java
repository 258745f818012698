package dev.jumbo.lora;

import dev.jumbo.io.FormatException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a LoRA adapter is: its rank {@code r}, its scale numerator {@code alpha} (the update
 * {@code x A B} is multiplied by {@code alpha / r}), the dropout applied to its input while
 * training, and the modules it adapts, named as HuggingFace names them. A target matches a module
 * whose name equals it or ends with {@code "." + target}, as PEFT's {@code target_modules} list
 * does ({@code "c_proj"} matches both {@code h.0.attn.c_proj} and {@code h.0.mlp.c_proj}).
 *
 * <pre>{@code
 * LoraConfig lora = LoraConfig.defaults(List.of("c_attn"));      // r 8, alpha 8, dropout 0
 * LoraConfig wider = new LoraConfig(16, 32, 0.05, List.of("c_attn", "c_proj"));
 * wider.scale();                                                  // 2.0
 * }</pre>
 *
 * @param r             rank of the update, at least 1
 * @param alpha         scale numerator, finite and positive
 * @param dropout       probability in [0, 1) of dropping an element of the adapter's input while training
 * @param targetModules module names or name suffixes, at least one, none repeated
 */
public record LoraConfig(int r, double alpha, double dropout, List<String> targetModules) {
    /** PEFT's default rank. */
    public static final int DEFAULT_R = 8;
    /** PEFT's default alpha. */
    public static final double DEFAULT_ALPHA = 8;

    /** @throws IllegalArgumentException quoting the bad value */
    public LoraConfig {
        if (r < 1) throw new IllegalArgumentException("LoRA rank r must be at least 1, got " + r);
        if (!(alpha > 0) || Double.isInfinite(alpha)) throw new IllegalArgumentException("LoRA alpha must be finite and positive, got " + alpha);
        if (!(dropout >= 0 && dropout < 1)) throw new IllegalArgumentException("LoRA dropout must be in [0, 1), got " + dropout);
        Objects.requireNonNull(targetModules, "targetModules");
        if (targetModules.isEmpty()) throw new IllegalArgumentException("LoRA needs at least one target module (e.g. c_attn, query, q_proj)");
        HashSet<String> seen = new HashSet<>();
        for (String t : targetModules) {
            if (t == null || t.isBlank() || t.startsWith(".") || t.endsWith("."))
                throw new IllegalArgumentException("LoRA target module names must be non-blank and not start or end with '.', got '" + t + "'");
            if (!seen.add(t)) throw new IllegalArgumentException("LoRA target module '" + t + "' is listed twice");
        }
        targetModules = List.copyOf(targetModules);
    }

    /** PEFT's defaults (r 8, alpha 8, dropout 0) on the given targets. */
    public static LoraConfig defaults(List<String> targetModules) {
        return new LoraConfig(DEFAULT_R, DEFAULT_ALPHA, 0, targetModules);
    }

    /** The factor on the low-rank update: {@code alpha / r}. */
    public double scale() {
        return alpha / r;
    }

    /** Whether {@code module} (a HuggingFace module path such as {@code h.0.attn.c_attn}) is a target. */
    public boolean matches(String module) {
        for (String t : targetModules)
            if (module.equals(t) || module.endsWith("." + t)) return true;
        return false;
    }

    /** The targets that match none of {@code modules}: the ones a model cannot take. */
    public List<String> unmatched(Iterable<String> modules) {
        List<String> out = new ArrayList<>();
        for (String t : targetModules) {
            boolean found = false;
            for (String m : modules) found |= m.equals(t) || m.endsWith("." + t);
            if (!found) out.add(t);
        }
        return out;
    }

    /**
     * This configuration as PEFT's {@code adapter_config.json} object (the keys of PEFT's
     * {@code LoraConfig.to_dict()} that plain LoRA uses, with PEFT's values for the features Jumbo
     * leaves off: no bias training, no DoRA or rsLoRA, no per-layer rank or alpha patterns).
     *
     * @param baseModel   {@code base_model_name_or_path}: the base model's folder or hub name, or null
     * @param taskType    {@code task_type}, e.g. {@code "CAUSAL_LM"} or {@code "FEATURE_EXTRACTION"}, or null
     * @param fanInFanOut {@code fan_in_fan_out}: true when the base layers store weights [in, out]
     *                    (GPT-2's Conv1D), false for [out, in] ({@code nn.Linear})
     */
    public Map<String, Object> toPeft(String baseModel, String taskType, boolean fanInFanOut) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("peft_type", "LORA");
        c.put("task_type", taskType);
        c.put("base_model_name_or_path", baseModel);
        c.put("revision", null);
        c.put("inference_mode", true);
        c.put("r", r);
        c.put("lora_alpha", alpha == Math.rint(alpha) && Math.abs(alpha) < 1e15 ? (Object) (long) alpha : (Object) alpha);
        c.put("lora_dropout", dropout);
        c.put("target_modules", targetModules);
        c.put("bias", "none");
        c.put("fan_in_fan_out", fanInFanOut);
        c.put("modules_to_save", null);
        c.put("init_lora_weights", true);
        c.put("layers_to_transform", null);
        c.put("layers_pattern", null);
        c.put("rank_pattern", Map.of());
        c.put("alpha_pattern", Map.of());
        c.put("use_rslora", false);
        c.put("use_dora", false);
        return c;
    }

    /**
     * Reads PEFT's {@code adapter_config.json} object: {@code r}, {@code lora_alpha},
     * {@code lora_dropout} and {@code target_modules} (a list, or one name). Settings that would
     * change what the adapter computes and that Jumbo does not implement are refused rather than
     * ignored: another {@code peft_type}, {@code bias} other than "none", DoRA, rsLoRA, rank or
     * alpha patterns, {@code layers_to_transform}, {@code modules_to_save}, a regular-expression
     * target (a single string, which PEFT matches as a full regex).
     *
     * @throws FormatException naming {@code file} and the key
     */
    public static LoraConfig fromPeft(Map<?, ?> json, Path file) throws FormatException {
        Object type = json.get("peft_type");
        if (type != null && !"LORA".equals(type))
            throw new FormatException(file, "\"peft_type\" is " + quoted(type) + ": only LORA adapters are supported");
        Object bias = json.get("bias");
        if (bias != null && !"none".equals(bias))
            throw new FormatException(file, "\"bias\" is " + quoted(bias) + ": adapters that train biases are not supported, only \"none\"");
        for (String flag : List.of("use_dora", "use_rslora"))
            if (Boolean.TRUE.equals(json.get(flag))) throw new FormatException(file, "\"" + flag + "\" is true: not supported");
        for (String pattern : List.of("rank_pattern", "alpha_pattern"))
            if (json.get(pattern) instanceof Map<?, ?> m && !m.isEmpty())
                throw new FormatException(file, "\"" + pattern + "\" is not empty: per-module ranks and alphas are not supported");
        for (String list : List.of("layers_to_transform", "modules_to_save"))
            if (json.get(list) != null && !(json.get(list) instanceof List<?> l && l.isEmpty()))
                throw new FormatException(file, "\"" + list + "\" is " + quoted(json.get(list)) + ": not supported (only null)");
        if (!(json.get("r") instanceof Long r) || r < 1 || r > Integer.MAX_VALUE)
            throw new FormatException(file, "\"r\" is missing or not a positive integer: " + quoted(json.get("r")));
        double alpha = number(json, "lora_alpha", DEFAULT_ALPHA, file);
        double dropout = number(json, "lora_dropout", 0, file);
        List<String> targets = new ArrayList<>();
        switch (json.get("target_modules")) {
            case List<?> l -> {
                for (Object t : l) {
                    if (!(t instanceof String s)) throw new FormatException(file, "\"target_modules\" holds " + quoted(t) + ", not a module name");
                    targets.add(s);
                }
            }
            case String s -> throw new FormatException(file, "\"target_modules\" is the string " + quoted(s)
                    + ", which PEFT matches as a regular expression: not supported, give a list of module names");
            case null -> throw new FormatException(file, "\"target_modules\" is missing");
            default -> throw new FormatException(file, "\"target_modules\" is " + quoted(json.get("target_modules")) + ", not a list of module names");
        }
        try {
            return new LoraConfig((int) (long) r, alpha, dropout, targets);
        } catch (IllegalArgumentException e) {
            throw new FormatException(file, e.getMessage());
        }
    }

    private static double number(Map<?, ?> json, String key, double absent, Path file) throws FormatException {
        Object v = json.get(key);
        if (v == null) return absent;
        if (!(v instanceof Number n)) throw new FormatException(file, "\"" + key + "\" is " + quoted(v) + ", not a number");
        return n.doubleValue();
    }

    private static String quoted(Object v) {
        return v instanceof String s ? "\"" + s + "\"" : String.valueOf(v);
    }
}
