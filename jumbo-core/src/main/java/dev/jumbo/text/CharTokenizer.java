package dev.jumbo.text;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * One id per distinct Unicode code point of a corpus, in code-point order (as nanoGPT's
 * character-level Shakespeare): small vocabularies for training a GPT from scratch.
 *
 * <pre>{@code
 * CharTokenizer t = CharTokenizer.of(corpus);
 * int[] ids = t.encode("To be");
 * }</pre>
 */
public final class CharTokenizer implements Tokenizer {
    private final int[] codePoints;
    private final Map<Integer, Integer> ids = new HashMap<>();

    private CharTokenizer(int[] codePoints) {
        this.codePoints = codePoints;
        for (int i = 0; i < codePoints.length; i++) ids.put(codePoints[i], i);
    }

    /** The tokenizer of every distinct code point in {@code corpus}, sorted. */
    public static CharTokenizer of(String corpus) {
        if (corpus.isEmpty()) throw new IllegalArgumentException("a character tokenizer needs a non-empty corpus");
        return new CharTokenizer(corpus.codePoints().distinct().sorted().toArray());
    }

    /** The tokenizer whose id i is {@code alphabet[i]} (as saved by {@link #alphabet()}). */
    public static CharTokenizer ofAlphabet(int[] alphabet) {
        int[] sorted = alphabet.clone();
        Arrays.sort(sorted);
        for (int i = 1; i < sorted.length; i++)
            if (sorted[i] == sorted[i - 1])
                throw new IllegalArgumentException("character " + new String(Character.toChars(sorted[i])) + " appears twice in the alphabet");
        if (alphabet.length == 0) throw new IllegalArgumentException("empty alphabet");
        return new CharTokenizer(alphabet.clone());
    }

    /** The code point of each id. */
    public int[] alphabet() {
        return codePoints.clone();
    }

    /** @throws IllegalArgumentException naming the first character not in the alphabet */
    @Override
    public int[] encode(String text) {
        return text.codePoints().map(cp -> {
            Integer id = ids.get(cp);
            if (id == null)
                throw new IllegalArgumentException("character '" + new String(Character.toChars(cp)) + "' (U+"
                        + Integer.toHexString(cp).toUpperCase() + ") is not in this tokenizer's alphabet");
            return id;
        }).toArray();
    }

    @Override
    public String decode(int[] tokenIds) {
        StringBuilder sb = new StringBuilder();
        for (int id : tokenIds) {
            if (id < 0 || id >= codePoints.length)
                throw new IllegalArgumentException("token id " + id + " is outside the vocabulary of " + codePoints.length);
            sb.appendCodePoint(codePoints[id]);
        }
        return sb.toString();
    }

    /**
     * Writes {@code dir/tokenizer.json}: a HuggingFace WordLevel model whose tokens are the
     * characters, with a pre-tokenizer that isolates every character ({@link Tokenizers#load} reads it back).
     */
    public void save(java.nio.file.Path dir) throws java.io.IOException {
        java.util.Map<String, Object> vocab = new java.util.LinkedHashMap<>();
        for (int i = 0; i < codePoints.length; i++) vocab.put(new String(Character.toChars(codePoints[i])), i);
        java.util.Map<String, Object> model = new java.util.LinkedHashMap<>();
        model.put("type", "WordLevel");
        model.put("vocab", vocab);
        model.put("unk_token", new String(Character.toChars(codePoints[0])));
        java.util.Map<String, Object> root = new java.util.LinkedHashMap<>();
        root.put("version", "1.0");
        root.put("pre_tokenizer", java.util.Map.of("type", "Split", "pattern", java.util.Map.of("Regex", "(?s)."), "behavior", "Isolated", "invert", false));
        root.put("model", model);
        java.nio.file.Files.createDirectories(dir);
        dev.jumbo.io.AtomicFiles.writeString(dir.resolve("tokenizer.json"), dev.jumbo.io.Json.write(root, false));
    }

    @Override
    public int vocabSize() {
        return codePoints.length;
    }
}
