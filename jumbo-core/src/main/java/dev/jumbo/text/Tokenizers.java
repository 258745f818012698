package dev.jumbo.text;

import dev.jumbo.io.FormatException;
import dev.jumbo.io.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The tokenizer of a model folder, by what its files say: {@code tokenizer.json}'s model type
 * (BPE: {@link ByteLevelBpe}, or {@link SentencePieceBpe} when it falls back to bytes; WordPiece: {@link WordPiece}; WordLevel of single characters:
 * {@link CharTokenizer}), else {@code vocab.json} + {@code merges.txt} (GPT-2) or {@code vocab.txt} (BERT, uncased).
 *
 * <pre>{@code
 * Tokenizer t = Tokenizers.load(Path.of("models/gpt2"));
 * }</pre>
 */
public final class Tokenizers {
    private Tokenizers() {}

    /** @throws FormatException naming the file and what it lacks or gets wrong */
    public static Tokenizer load(Path dir) throws IOException {
        Path json = dir.resolve("tokenizer.json");
        if (Files.exists(json)) {
            Object parsed;
            try {
                parsed = Json.parse(Files.readString(json, StandardCharsets.UTF_8));
            } catch (Json.ParseException e) {
                throw new FormatException(json, "not valid JSON: " + e.getMessage(), e);
            }
            if (!(parsed instanceof Map<?, ?> root) || !(root.get("model") instanceof Map<?, ?> model))
                throw new FormatException(json, "no \"model\" object");
            return switch (String.valueOf(model.get("type"))) {
                // SentencePiece models converted by HuggingFace (Llama 2, Mistral) fall back to bytes; GPT-2's BPE is byte-level throughout
                case "BPE" -> Boolean.TRUE.equals(model.get("byte_fallback")) ? SentencePieceBpe.fromTokenizerJson(json) : ByteLevelBpe.fromTokenizerJson(json);
                case "WordPiece" -> WordPiece.fromTokenizerJson(json);
                case "WordLevel" -> chars(json, model);
                default -> throw new FormatException(json, "tokenizer model '" + model.get("type") + "' is not supported (BPE, WordPiece, WordLevel of characters)");
            };
        }
        if (Files.exists(dir.resolve("vocab.json"))) return ByteLevelBpe.load(dir);
        if (Files.exists(dir.resolve("vocab.txt"))) return WordPiece.fromVocabTxt(dir.resolve("vocab.txt"), true);
        throw new FormatException(dir, "no tokenizer.json, vocab.json + merges.txt or vocab.txt");
    }

    private static CharTokenizer chars(Path file, Map<?, ?> model) throws FormatException {
        if (!(model.get("vocab") instanceof Map<?, ?> vocab) || vocab.isEmpty()) throw new FormatException(file, "\"model.vocab\" is missing or empty");
        int[] alphabet = new int[vocab.size()];
        java.util.Arrays.fill(alphabet, -1);
        for (Map.Entry<?, ?> e : vocab.entrySet()) {
            String token = (String) e.getKey();
            if (token.codePointCount(0, token.length()) != 1)
                throw new FormatException(file, "WordLevel token '" + token + "' is not one character (only character vocabularies are supported)");
            if (!(e.getValue() instanceof Long id) || id < 0 || id >= alphabet.length || alphabet[id.intValue()] != -1)
                throw new FormatException(file, "token '" + token + "' has id " + e.getValue() + ": ids must be 0.." + (alphabet.length - 1) + ", each once");
            alphabet[id.intValue()] = token.codePointAt(0);
        }
        try {
            return CharTokenizer.ofAlphabet(alphabet);
        } catch (IllegalArgumentException e) {
            throw new FormatException(file, e.getMessage());
        }
    }
}
