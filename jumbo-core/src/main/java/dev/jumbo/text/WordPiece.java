package dev.jumbo.text;

import dev.jumbo.io.FormatException;
import dev.jumbo.io.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * BERT's WordPiece tokenizer with its basic pre-tokenizer.
 *
 * <ol>
 *   <li>Normalize: drop NUL, U+FFFD and control characters, turn whitespace into spaces, put
 *       spaces around CJK ideographs, and for uncased models lower-case and strip accents
 *       (NFD, then drop combining marks).</li>
 *   <li>Split on whitespace, and make every punctuation character a word of its own.</li>
 *   <li>Cut each word into the longest vocabulary pieces from the left, later pieces spelled
 *       with a {@code ##} prefix; a word that cannot be cut, or is longer than 100 characters,
 *       becomes {@code [UNK]}.</li>
 * </ol>
 *
 * <pre>{@code
 * WordPiece bert = WordPiece.load(Path.of("models/all-MiniLM-L6-v2"));  // tokenizer.json or vocab.txt
 * bert.encodeWithSpecialTokens("Hello world");                           // [101, 7592, 2088, 102]
 * }</pre>
 *
 * <p>A GGUF file's BERT vocabulary, spelled llama.cpp's way, is read by {@link Tokenizers#fromGguf}.
 */
public final class WordPiece implements Tokenizer {
    private static final String PREFIX = "##";
    private static final int MAX_WORD_CHARS = 100;

    private final Map<String, Integer> ids;
    private final String[] tokens;
    private final boolean lowercase;
    private final boolean stripAccents;
    private final int unk;
    private final int cls;
    private final int sep;
    private final int pad;
    /** The special tokens kept whole when written in a text. */
    private final Pattern specials;

    /** {@code tokens} by id (null for unused ids), {@code ids} its inverse; special ids are checked by the callers. */
    private WordPiece(String[] tokens, Map<String, Integer> ids, int unk, int cls, int sep, int pad, int[] specialIds,
            boolean lowercase, boolean stripAccents) {
        this.tokens = tokens;
        this.ids = ids;
        this.unk = unk;
        this.cls = cls;
        this.sep = sep;
        this.pad = pad;
        this.lowercase = lowercase;
        this.stripAccents = stripAccents;
        // longest first, so that a special token which starts another cannot cut it short
        String alternatives = Arrays.stream(specialIds).filter(id -> id >= 0).mapToObj(id -> tokens[id]).distinct()
                .sorted(Comparator.comparingInt(String::length).reversed()).map(Pattern::quote).collect(Collectors.joining("|"));
        specials = Pattern.compile(alternatives); // never empty: unk, cls and sep are required
    }

    /** A vocabulary in HuggingFace's spelling, its special tokens found by name ({@code [UNK]}, {@code [CLS]}, ...). */
    private static WordPiece byName(Path source, Map<String, Integer> ids, boolean lowercase, boolean stripAccents) throws FormatException {
        int max = ids.values().stream().mapToInt(Integer::intValue).max().orElse(-1);
        String[] tokens = new String[max + 1];
        for (Map.Entry<String, Integer> e : ids.entrySet()) {
            if (tokens[e.getValue()] != null)
                throw new FormatException(source, "id " + e.getValue() + " is given to both '" + tokens[e.getValue()] + "' and '" + e.getKey() + "'");
            tokens[e.getValue()] = e.getKey();
        }
        int unk = required(source, ids, "[UNK]"), cls = required(source, ids, "[CLS]"), sep = required(source, ids, "[SEP]");
        int pad = ids.getOrDefault("[PAD]", -1), mask = ids.getOrDefault("[MASK]", -1);
        return new WordPiece(tokens, ids, unk, cls, sep, pad, new int[] {unk, cls, sep, pad, mask}, lowercase, stripAccents);
    }

    private static int required(Path source, Map<String, Integer> ids, String token) throws FormatException {
        Integer id = ids.get(token);
        if (id == null) throw new FormatException(source, "the vocabulary has no " + token + " token");
        return id;
    }

    /**
     * A tokenizer over {@code tokens} by id, spelled as HuggingFace spells them (a piece that
     * continues a word starts with {@code ##}), with its special tokens given by id ({@code pad} and
     * {@code mask} may be -1) and {@code userDefined} more tokens kept whole when a text contains
     * them. GGUF files hold such a vocabulary in llama.cpp's spelling, which
     * {@link Tokenizers#fromGguf} turns back into this one.
     *
     * @throws IllegalArgumentException if a token appears twice or a special id is outside the vocabulary
     */
    static WordPiece of(String[] tokens, int unk, int cls, int sep, int pad, int mask, int[] userDefined, boolean lowercase, boolean stripAccents) {
        tokens = tokens.clone();
        Map<String, Integer> ids = new HashMap<>(2 * tokens.length);
        for (int id = 0; id < tokens.length; id++) {
            Integer before = ids.putIfAbsent(Objects.requireNonNull(tokens[id], "token " + id), id);
            if (before != null) throw new IllegalArgumentException("token '" + tokens[id] + "' has ids " + before + " and " + id);
        }
        for (int id : new int[] {unk, cls, sep})
            if (id < 0 || id >= tokens.length) throw new IllegalArgumentException("special token id " + id + " is outside the vocabulary of " + tokens.length);
        for (int id : new int[] {pad, mask})
            if (id < -1 || id >= tokens.length) throw new IllegalArgumentException("special token id " + id + " is outside the vocabulary of " + tokens.length);
        for (int id : userDefined)
            if (id < 0 || id >= tokens.length || tokens[id].isEmpty()) throw new IllegalArgumentException("user-defined token id " + id + " is outside the vocabulary of " + tokens.length + " or empty");
        int[] whole = IntStream.concat(IntStream.of(unk, cls, sep, pad, mask), IntStream.of(userDefined)).toArray();
        return new WordPiece(tokens, ids, unk, cls, sep, pad, whole, lowercase, stripAccents);
    }

    /** Loads {@code dir/tokenizer.json} if it exists, else {@code dir/vocab.txt} as an uncased model. */
    public static WordPiece load(Path dir) throws IOException {
        Path json = dir.resolve("tokenizer.json");
        return Files.exists(json) ? fromTokenizerJson(json) : fromVocabTxt(dir.resolve("vocab.txt"), true);
    }

    /** One token per line, the id being the line number from 0; {@code lowercase} for uncased models (accents are stripped too). */
    public static WordPiece fromVocabTxt(Path vocabTxt, boolean lowercase) throws IOException {
        List<String> lines = Files.readAllLines(vocabTxt, StandardCharsets.UTF_8);
        Map<String, Integer> ids = new HashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            String t = lines.get(i).strip();
            if (t.isEmpty()) continue;
            Integer before = ids.putIfAbsent(t, i);
            if (before != null) throw new FormatException(vocabTxt, "token '" + t + "' appears on lines " + (before + 1) + " and " + (i + 1));
        }
        if (ids.isEmpty()) throw new FormatException(vocabTxt, "the vocabulary is empty");
        return byName(vocabTxt, ids, lowercase, lowercase);
    }

    /** From a HuggingFace {@code tokenizer.json} with a WordPiece model and a BertNormalizer (or none). */
    public static WordPiece fromTokenizerJson(Path file) throws IOException {
        Object parsed = Json.read(file);
        if (!(parsed instanceof Map<?, ?> root) || !(root.get("model") instanceof Map<?, ?> model))
            throw new FormatException(file, "no \"model\" object");
        if (!"WordPiece".equals(model.get("type")))
            throw new FormatException(file, "model type is '" + model.get("type") + "', expected \"WordPiece\"");
        if (!(model.get("vocab") instanceof Map<?, ?> vocab)) throw new FormatException(file, "\"model.vocab\" is not an object");
        Map<String, Integer> ids = new HashMap<>();
        for (Map.Entry<?, ?> e : vocab.entrySet()) {
            if (!(e.getValue() instanceof Long id) || id < 0 || id >= 16L * vocab.size() + 1024)
                throw new FormatException(file, "token '" + e.getKey() + "' has id " + e.getValue() + ", expected a small non-negative integer");
            ids.put((String) e.getKey(), id.intValue());
        }
        boolean lowercase = true;
        Boolean strip = null;
        if (root.get("normalizer") instanceof Map<?, ?> n) {
            if (!"BertNormalizer".equals(n.get("type")))
                throw new FormatException(file, "normalizer '" + n.get("type") + "' is not supported (only BertNormalizer)");
            lowercase = !Boolean.FALSE.equals(n.get("lowercase"));
            if (n.get("strip_accents") instanceof Boolean b) strip = b;
        }
        // strip_accents null means "as lowercase", as in BERT's original tokenizer
        return byName(file, ids, lowercase, strip != null ? strip : lowercase);
    }

    /**
     * The ids of {@code text}. Special tokens written in it ({@code [MASK]}, {@code [SEP]} ... as the
     * vocabulary spells them) stay whole, as in HuggingFace's tokenizers, so a fill-mask prompt works.
     */
    @Override
    public int[] encode(String text) {
        List<Integer> out = new ArrayList<>();
        Matcher m = specials.matcher(text);
        int from = 0;
        while (m.find()) {
            for (String word : words(normalize(text.substring(from, m.start())))) pieces(word, out);
            out.add(ids.get(m.group()));
            from = m.end();
        }
        for (String word : words(normalize(text.substring(from)))) pieces(word, out);
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    /** {@code [CLS]} + {@link #encode} + {@code [SEP]}: what a BERT model reads. */
    public int[] encodeWithSpecialTokens(String text) {
        int[] body = encode(text);
        int[] out = new int[body.length + 2];
        out[0] = cls;
        System.arraycopy(body, 0, out, 1, body.length);
        out[out.length - 1] = sep;
        return out;
    }

    /**
     * {@link #encodeWithSpecialTokens} of each text, cut to {@code maxLength} (keeping the final
     * {@code [SEP]}) and padded with {@code [PAD]} (id 0 if the vocabulary has none) to the longest.
     */
    public EncodedBatch encodeBatch(List<String> texts, int maxLength) {
        int[][] seqs = new int[texts.size()][];
        for (int i = 0; i < seqs.length; i++) seqs[i] = encodeWithSpecialTokens(texts.get(i));
        return pad(seqs, maxLength);
    }

    /** Sequences of {@link #encodeWithSpecialTokens} as one batch, padded with [PAD] and cut to {@code maxLength} as {@link #encodeBatch} does. */
    public EncodedBatch pad(int[][] sequences, int maxLength) {
        return EncodedBatch.pad(sequences, maxLength, pad >= 0 ? pad : 0, true);
    }

    /** The token strings of {@code ids}. */
    public List<String> tokens(int[] tokenIds) {
        List<String> out = new ArrayList<>();
        for (int id : tokenIds) out.add(token(id));
        return out;
    }

    /** Pieces joined back into words ({@code ##} pieces onto the word before), words by spaces. */
    @Override
    public String decode(int[] tokenIds) {
        StringBuilder sb = new StringBuilder();
        for (int id : tokenIds) {
            String t = token(id);
            if (t.startsWith(PREFIX)) sb.append(t, PREFIX.length(), t.length());
            else sb.append(sb.isEmpty() ? "" : " ").append(t);
        }
        return sb.toString();
    }

    @Override
    public int vocabSize() {
        return tokens.length;
    }

    /** The id of a token such as {@code "[MASK]"}, or -1. */
    @Override
    public int id(String token) {
        return ids.getOrDefault(token, -1);
    }

    private String token(int id) {
        if (id < 0 || id >= tokens.length || tokens[id] == null)
            throw new IllegalArgumentException("token id " + id + " is not in the vocabulary (" + tokens.length + " ids)");
        return tokens[id];
    }

    private String normalize(String text) {
        StringBuilder sb = new StringBuilder(text.length() + 16);
        text.codePoints().forEach(cp -> {
            if (cp == 0 || cp == 0xFFFD || isControl(cp)) return;
            if (isWhitespace(cp)) sb.append(' ');
            else if (isCjk(cp)) sb.append(' ').appendCodePoint(cp).append(' ');
            else sb.appendCodePoint(cp);
        });
        String s = sb.toString();
        if (stripAccents) {
            s = Normalizer.normalize(s, Normalizer.Form.NFD);
            StringBuilder kept = new StringBuilder(s.length());
            s.codePoints().filter(cp -> Character.getType(cp) != Character.NON_SPACING_MARK).forEach(kept::appendCodePoint);
            s = kept.toString();
        }
        return lowercase ? s.toLowerCase(Locale.ROOT) : s;
    }

    /** Whitespace-separated words, with each punctuation character a word of its own. */
    private static List<String> words(String text) {
        List<String> out = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        text.codePoints().forEach(cp -> {
            if (cp == ' ' || isPunctuation(cp)) {
                if (!word.isEmpty()) out.add(word.toString());
                word.setLength(0);
                if (cp != ' ') out.add(new String(Character.toChars(cp)));
            } else {
                word.appendCodePoint(cp);
            }
        });
        if (!word.isEmpty()) out.add(word.toString());
        return out;
    }

    /** Greedy longest-match-first pieces of one word, or [UNK] when some part matches nothing. */
    private void pieces(String word, List<Integer> out) {
        if (word.codePointCount(0, word.length()) > MAX_WORD_CHARS) {
            out.add(unk);
            return;
        }
        List<Integer> found = new ArrayList<>();
        int start = 0;
        while (start < word.length()) {
            int end = word.length();
            Integer id = null;
            while (end > start) {
                String piece = (start > 0 ? PREFIX : "") + word.substring(start, end);
                id = ids.get(piece);
                if (id != null) break;
                end = Character.isLowSurrogate(word.charAt(end - 1)) && end - 2 >= start ? end - 2 : end - 1;
            }
            if (id == null) {
                out.add(unk);
                return;
            }
            found.add(id);
            start = end;
        }
        out.addAll(found);
    }

    private static boolean isWhitespace(int cp) {
        return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || Character.getType(cp) == Character.SPACE_SEPARATOR;
    }

    private static boolean isControl(int cp) {
        if (cp == '\t' || cp == '\n' || cp == '\r') return false;
        int t = Character.getType(cp);
        return t == Character.CONTROL || t == Character.FORMAT;
    }

    /** ASCII symbols count as punctuation (as in BERT), and so does every Unicode P* category. */
    private static boolean isPunctuation(int cp) {
        if (cp >= 33 && cp <= 47 || cp >= 58 && cp <= 64 || cp >= 91 && cp <= 96 || cp >= 123 && cp <= 126) return true;
        int t = Character.getType(cp);
        return t == Character.CONNECTOR_PUNCTUATION || t == Character.DASH_PUNCTUATION || t == Character.START_PUNCTUATION
                || t == Character.END_PUNCTUATION || t == Character.INITIAL_QUOTE_PUNCTUATION
                || t == Character.FINAL_QUOTE_PUNCTUATION || t == Character.OTHER_PUNCTUATION;
    }

    /** The CJK Unified Ideographs blocks BERT puts spaces around. */
    private static boolean isCjk(int cp) {
        return cp >= 0x4E00 && cp <= 0x9FFF || cp >= 0x3400 && cp <= 0x4DBF || cp >= 0x20000 && cp <= 0x2A6DF
                || cp >= 0x2A700 && cp <= 0x2B73F || cp >= 0x2B740 && cp <= 0x2B81F || cp >= 0x2B820 && cp <= 0x2CEAF
                || cp >= 0xF900 && cp <= 0xFAFF || cp >= 0x2F800 && cp <= 0x2FA1F;
    }
}
