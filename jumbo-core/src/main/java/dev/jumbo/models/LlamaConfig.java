package dev.jumbo.models;

import dev.jumbo.io.FormatException;
import dev.jumbo.io.Json;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The shape of a Llama model: the numbers llama2.c's checkpoint header, a GGUF file's
 * {@code llama.*} keys and HuggingFace's {@code LlamaForCausalLM} config all describe.
 *
 * <pre>{@code
 * LlamaConfig stories260K = new LlamaConfig(64, 172, 5, 8, 4, 512, 512, 1e-5f, 10000, LlamaConfig.RopeStyle.NORM, true);
 * int headSize = stories260K.headSize();   // 8
 * }</pre>
 *
 * @param dim               width of the residual stream ({@code hidden_size})
 * @param hiddenDim         width of the feed-forward layer ({@code intermediate_size})
 * @param layers            transformer blocks
 * @param heads             query heads; they divide {@code dim}
 * @param kvHeads           key/value heads (grouped-query attention: each serves {@code heads / kvHeads} query heads)
 * @param vocabSize         tokens
 * @param contextLength     the longest sequence the model reads
 * @param rmsNormEps        the epsilon added to the mean square in RMSNorm
 * @param ropeTheta         the base of the rotary embedding's frequencies
 * @param ropeStyle         which coordinates of a head the rotary embedding rotates together
 * @param sharedClassifier  logits come from the token embedding itself (tied weights)
 */
public record LlamaConfig(int dim, int hiddenDim, int layers, int heads, int kvHeads, int vocabSize, int contextLength,
                          float rmsNormEps, double ropeTheta, RopeStyle ropeStyle, boolean sharedClassifier) {

    /**
     * How rotary position embedding pairs a head's coordinates. Both rotate pair {@code j} of a head
     * of size {@code d} by {@code pos * theta^(-2j/d)}; they differ in which coordinates form the pair.
     */
    public enum RopeStyle {
        /**
         * Adjacent pairs {@code (x0, x1), (x2, x3), ...}: llama2.c, Meta's original Llama code and
         * llama.cpp's {@code LLAMA_ROPE_TYPE_NORM} (GGUF files of Llama hold weights permuted for it).
         */
        NORM,
        /**
         * The two halves {@code (x0, x[d/2]), (x1, x[d/2+1]), ...}: HuggingFace's {@code rotate_half}
         * (the weights of a HuggingFace Llama checkpoint), GPT-NeoX, llama.cpp's {@code LLAMA_ROPE_TYPE_NEOX}.
         */
        NEOX
    }

    /** @throws IllegalArgumentException naming the size that is out of range or a width its heads do not divide */
    public LlamaConfig {
        positive("dim", dim);
        positive("hidden_dim", hiddenDim);
        positive("layers", layers);
        positive("heads", heads);
        positive("kv_heads", kvHeads);
        positive("vocab_size", vocabSize);
        positive("context_length", contextLength);
        if (dim % heads != 0) throw new IllegalArgumentException("dim " + dim + " is not a multiple of heads " + heads);
        if (kvHeads > heads || heads % kvHeads != 0)
            throw new IllegalArgumentException("heads " + heads + " is not a multiple of kv_heads " + kvHeads);
        if ((dim / heads) % 2 != 0) throw new IllegalArgumentException("head size " + dim / heads + " is odd: rotary embedding rotates pairs");
        if (!(rmsNormEps > 0) || Float.isInfinite(rmsNormEps)) throw new IllegalArgumentException("rms_norm_eps must be positive, got " + rmsNormEps);
        if (!(ropeTheta > 1) || Double.isInfinite(ropeTheta)) throw new IllegalArgumentException("rope_theta must be a finite number above 1, got " + ropeTheta);
        if (ropeStyle == null) throw new IllegalArgumentException("rope style is missing");
    }

    private static void positive(String name, int value) {
        if (value <= 0) throw new IllegalArgumentException(name + " must be positive, got " + value);
    }

    /** Width of one attention head. */
    public int headSize() {
        return dim / heads;
    }

    /** Width of the keys (and of the values) of one position: {@code kvHeads * headSize}. */
    public int kvDim() {
        return kvHeads * headSize();
    }

    /**
     * Reads a HuggingFace {@code config.json} of a {@code LlamaForCausalLM} ({@code model_type}
     * {@code "llama"}), with HuggingFace's defaults for the keys it may omit
     * ({@code num_key_value_heads} = heads, {@code rms_norm_eps} 1e-6, {@code rope_theta} 10000,
     * {@code max_position_embeddings} 2048, {@code tie_word_embeddings} false). Rotary embedding is
     * {@link RopeStyle#NEOX}, as HuggingFace applies it to its weights.
     *
     * @throws FormatException naming the file and the key that is missing, mistyped, out of range
     *     or asks for something this runtime does not do (rope scaling, biases, another activation)
     */
    public static LlamaConfig read(Path configJson) throws IOException {
        Map<?, ?> c = Json.readObject(configJson);
        if (c.get("model_type") instanceof String type && !type.equals("llama"))
            throw new FormatException(configJson, "model_type is '" + type + "', not 'llama'");
        if (c.get("rope_scaling") != null)
            throw new FormatException(configJson, "rope_scaling " + c.get("rope_scaling") + " is not supported yet");
        if (c.get("hidden_act") instanceof String act && !act.equals("silu"))
            throw new FormatException(configJson, "hidden_act '" + act + "' is not supported (Llama uses silu)");
        for (String bias : List.of("attention_bias", "mlp_bias"))
            if (Boolean.TRUE.equals(c.get(bias))) throw new FormatException(configJson, bias + " is true; biased projections are not supported");
        int dim = integer(configJson, c, "hidden_size", -1), heads = integer(configJson, c, "num_attention_heads", -1);
        if (c.get("head_dim") != null && heads > 0 && integer(configJson, c, "head_dim", -1) * heads != dim)
            throw new FormatException(configJson, "head_dim " + c.get("head_dim") + " is not hidden_size / num_attention_heads (" + dim + " / " + heads + "); not supported");
        try {
            return new LlamaConfig(dim, integer(configJson, c, "intermediate_size", -1), integer(configJson, c, "num_hidden_layers", -1),
                    heads, integer(configJson, c, "num_key_value_heads", heads), integer(configJson, c, "vocab_size", -1),
                    integer(configJson, c, "max_position_embeddings", 2048), (float) number(configJson, c, "rms_norm_eps", 1e-6),
                    number(configJson, c, "rope_theta", 10000), RopeStyle.NEOX, Boolean.TRUE.equals(c.get("tie_word_embeddings")));
        } catch (IllegalArgumentException e) {
            throw new FormatException(configJson, e.getMessage());
        }
    }

    private static int integer(Path file, Map<?, ?> c, String key, int fallback) throws FormatException {
        Object v = c.get(key);
        if (v == null && fallback >= 0) return fallback;
        if (!(v instanceof Long n)) throw new FormatException(file, "\"" + key + "\" is missing or not an integer");
        if (n > Integer.MAX_VALUE || n < Integer.MIN_VALUE) throw new FormatException(file, "\"" + key + "\" is out of range: " + n);
        return n.intValue();
    }

    private static double number(Path file, Map<?, ?> c, String key, double fallback) throws FormatException {
        Object v = c.get(key);
        if (v == null) return fallback;
        if (!(v instanceof Number n)) throw new FormatException(file, "\"" + key + "\" is not a number");
        return n.doubleValue();
    }
}
