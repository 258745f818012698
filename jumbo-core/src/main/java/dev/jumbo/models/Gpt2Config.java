package dev.jumbo.models;

import dev.jumbo.io.FormatException;
import dev.jumbo.io.Json;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * The shape of a GPT-2 model, as HuggingFace's {@code config.json} names it.
 *
 * <pre>{@code
 * Gpt2Config small = new Gpt2Config(50257, 1024, 768, 12, 12, 1e-5);   // GPT-2 small (124M)
 * }</pre>
 *
 * @param vocabSize         {@code vocab_size}
 * @param nPositions        {@code n_positions}: the longest context
 * @param nEmbd             {@code n_embd}: the width, a multiple of {@code nHead}
 * @param nLayer            {@code n_layer}: transformer blocks
 * @param nHead             {@code n_head}: attention heads
 * @param layerNormEpsilon  {@code layer_norm_epsilon}
 */
public record Gpt2Config(int vocabSize, int nPositions, int nEmbd, int nLayer, int nHead, double layerNormEpsilon) {
    /** @throws IllegalArgumentException naming a size that is not positive or a width the heads do not divide */
    public Gpt2Config {
        positive("vocab_size", vocabSize);
        positive("n_positions", nPositions);
        positive("n_embd", nEmbd);
        positive("n_layer", nLayer);
        positive("n_head", nHead);
        if (nEmbd % nHead != 0) throw new IllegalArgumentException("n_embd " + nEmbd + " is not a multiple of n_head " + nHead);
        if (!(layerNormEpsilon > 0)) throw new IllegalArgumentException("layer_norm_epsilon must be positive, got " + layerNormEpsilon);
    }

    private static void positive(String name, int value) {
        if (value <= 0) throw new IllegalArgumentException(name + " must be positive, got " + value);
    }

    /** Width of one attention head. */
    public int headDim() {
        return nEmbd / nHead;
    }

    /**
     * Reads {@code config.json}; a missing {@code layer_norm_epsilon} means GPT-2's 1e-5.
     *
     * @throws FormatException naming the file and the key that is missing, mistyped or out of range
     */
    public static Gpt2Config read(Path configJson) throws IOException {
        Map<?, ?> c = Json.readObject(configJson);
        try {
            double eps = c.get("layer_norm_epsilon") instanceof Number n ? n.doubleValue() : 1e-5;
            return new Gpt2Config(integer(configJson, c, "vocab_size"), integer(configJson, c, "n_positions"),
                    integer(configJson, c, "n_embd"), integer(configJson, c, "n_layer"), integer(configJson, c, "n_head"), eps);
        } catch (IllegalArgumentException e) {
            throw new FormatException(configJson, e.getMessage());
        }
    }

    private static int integer(Path file, Map<?, ?> c, String key) throws FormatException {
        if (!(c.get(key) instanceof Long v)) throw new FormatException(file, "\"" + key + "\" is missing or not an integer");
        if (v > Integer.MAX_VALUE || v < Integer.MIN_VALUE) throw new FormatException(file, "\"" + key + "\" is out of range: " + v);
        return v.intValue();
    }
}
