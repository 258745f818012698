package dev.jumbo.models;

import dev.jumbo.io.FormatException;
import dev.jumbo.io.Json;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * The shape of a BERT encoder, as HuggingFace's {@code config.json} names it.
 *
 * <pre>{@code
 * BertConfig miniLm = new BertConfig(30522, 384, 6, 12, 1536, 512, 2, 1e-12);   // all-MiniLM-L6-v2
 * }</pre>
 */
public record BertConfig(int vocabSize, int hiddenSize, int numHiddenLayers, int numAttentionHeads, int intermediateSize,
                         int maxPositionEmbeddings, int typeVocabSize, double layerNormEps) {
    /** @throws IllegalArgumentException naming a size that is not positive, or a width the heads do not divide */
    public BertConfig {
        positive("vocab_size", vocabSize);
        positive("hidden_size", hiddenSize);
        positive("num_hidden_layers", numHiddenLayers);
        positive("num_attention_heads", numAttentionHeads);
        positive("intermediate_size", intermediateSize);
        positive("max_position_embeddings", maxPositionEmbeddings);
        positive("type_vocab_size", typeVocabSize);
        if (hiddenSize % numAttentionHeads != 0)
            throw new IllegalArgumentException("hidden_size " + hiddenSize + " is not a multiple of num_attention_heads " + numAttentionHeads);
        if (!(layerNormEps > 0)) throw new IllegalArgumentException("layer_norm_eps must be positive, got " + layerNormEps);
    }

    private static void positive(String name, int v) {
        if (v <= 0) throw new IllegalArgumentException(name + " must be positive, got " + v);
    }

    /** Reads {@code config.json}; missing {@code type_vocab_size} and {@code layer_norm_eps} take BERT's 2 and 1e-12. */
    public static BertConfig read(Path configJson) throws IOException {
        Map<?, ?> c = Json.readObject(configJson);
        if (c.get("hidden_act") instanceof String act && !act.equals("gelu"))
            throw new FormatException(configJson, "hidden_act '" + act + "' is not supported (only gelu)");
        try {
            return new BertConfig(integer(configJson, c, "vocab_size"), integer(configJson, c, "hidden_size"),
                    integer(configJson, c, "num_hidden_layers"), integer(configJson, c, "num_attention_heads"),
                    integer(configJson, c, "intermediate_size"), integer(configJson, c, "max_position_embeddings"),
                    c.get("type_vocab_size") instanceof Long t ? t.intValue() : 2,
                    c.get("layer_norm_eps") instanceof Number n ? n.doubleValue() : 1e-12);
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
