package dev.jumbo.text;

import dev.jumbo.io.AtomicFiles;
import dev.jumbo.io.FormatException;
import dev.jumbo.io.GgufValueType;
import dev.jumbo.io.GgufWriter;
import dev.jumbo.io.Json;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * GPT-2's byte-level BPE. Text is cut into words by GPT-2's pattern, each word's UTF-8 bytes are
 * written as printable stand-in characters (so every byte has a token and no text is unknown),
 * and the word's pieces are merged pairwise, the best-ranked merge first, until no listed merge
 * applies. Decoding joins the pieces and turns the stand-ins back into bytes.
 *
 * <pre>{@code
 * ByteLevelBpe gpt2 = ByteLevelBpe.load(Path.of("models/gpt2"));
 * gpt2.encode(" Hello world");   // [18435, 995]
 * }</pre>
 *
 * <p>Files: HuggingFace's {@code vocab.json} ({@code {"token": id}}) with {@code merges.txt}
 * (a {@code #version} line, then one {@code "left right"} merge per line, best first), or one
 * {@code tokenizer.json} whose {@code model} is {@code {"type": "BPE", "vocab": {...}, "merges":
 * [...]}} (merges as {@code "left right"} strings or {@code [left, right]} pairs); or a GGUF file's
 * {@code tokenizer.ggml.tokens} and {@code tokenizer.ggml.merges}, through {@link Tokenizers#fromGguf}.
 */
public final class ByteLevelBpe implements Tokenizer {
    /**
     * GPT-2's pre-tokenizer: contractions, letters, digits and other symbols, each optionally led by
     * one space, and runs of whitespace (all but the last space of a run before a word). Its
     * {@code \s} is Unicode whitespace, as in the Python {@code regex} module GPT-2 used.
     */
    private static final Pattern WORDS = Pattern.compile(
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
            Pattern.UNICODE_CHARACTER_CLASS);
    /** Words longer than this are not cached (they are rare and would only fill the cache). */
    private static final int CACHED_WORD_MAX = 64, CACHE_MAX = 100_000;

    /** Byte b is written as the character {@code BYTE_CHAR[b]}; see {@link #byteChars()}. */
    private static final char[] BYTE_CHAR = byteChars();
    private static final int[] CHAR_BYTE = new int[512];

    static {
        java.util.Arrays.fill(CHAR_BYTE, -1);
        for (int b = 0; b < 256; b++) CHAR_BYTE[BYTE_CHAR[b]] = b;
    }

    private final Map<String, Integer> ids;
    private final String[] tokens;
    /** Rank of each merge, keyed {@code left + " " + right} (a byte-level token never holds a space). */
    private final Map<String, Integer> ranks;
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();

    private ByteLevelBpe(Map<String, Integer> ids, String[] tokens, Map<String, Integer> ranks) {
        this.ids = ids;
        this.tokens = tokens;
        this.ranks = ranks;
    }

    /**
     * The stand-in of each byte, as GPT-2 chose them: printable Latin-1 characters stand for
     * themselves, the other 68 bytes (controls, space, soft hyphen ...) take 256, 257, ... in byte order.
     */
    private static char[] byteChars() {
        char[] map = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = b >= '!' && b <= '~' || b >= 0xA1 && b <= 0xAC || b >= 0xAE && b <= 0xFF;
            map[b] = (char) (printable ? b : next++);
        }
        return map;
    }

    /**
     * Loads {@code dir/tokenizer.json} if it exists, else {@code dir/vocab.json} and
     * {@code dir/merges.txt}.
     *
     * @throws FormatException naming the file and the problem (bad JSON, a duplicate id, a merge of
     *     a token that is not in the vocabulary ...)
     */
    public static ByteLevelBpe load(Path dir) throws IOException {
        Path json = dir.resolve("tokenizer.json");
        if (Files.exists(json)) return fromTokenizerJson(json);
        return fromFiles(dir.resolve("vocab.json"), dir.resolve("merges.txt"));
    }

    /** From HuggingFace's {@code vocab.json} and {@code merges.txt}. */
    public static ByteLevelBpe fromFiles(Path vocabJson, Path mergesTxt) throws IOException {
        Map<?, ?> vocab = asObject(parse(vocabJson), vocabJson, "the file");
        List<String[]> merges = new ArrayList<>();
        List<String> lines = Files.readAllLines(mergesTxt, StandardCharsets.UTF_8);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank() || i == 0 && line.startsWith("#version")) continue;
            String[] pair = line.split(" ", -1);
            if (pair.length != 2 || pair[0].isEmpty() || pair[1].isEmpty())
                throw new FormatException(mergesTxt, "line " + (i + 1) + " is not a merge of two tokens separated by one space: " + quote(line));
            merges.add(pair);
        }
        return build(vocabJson, vocab, mergesTxt, merges);
    }

    /** From a HuggingFace {@code tokenizer.json} with a BPE model. */
    public static ByteLevelBpe fromTokenizerJson(Path file) throws IOException {
        Map<?, ?> root = asObject(parse(file), file, "the file");
        Map<?, ?> model = asObject(root.get("model"), file, "\"model\"");
        if (!"BPE".equals(model.get("type")))
            throw new FormatException(file, "model type is " + quote(String.valueOf(model.get("type"))) + ", expected \"BPE\"");
        Map<?, ?> vocab = asObject(model.get("vocab"), file, "\"model.vocab\"");
        if (!(model.get("merges") instanceof List<?> list)) throw new FormatException(file, "\"model.merges\" is not a list");
        List<String[]> merges = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            Object m = list.get(i);
            String[] pair = m instanceof String s ? s.split(" ", -1)
                    : m instanceof List<?> l && l.size() == 2 && l.get(0) instanceof String a && l.get(1) instanceof String b ? new String[] {a, b}
                    : null;
            if (pair == null || pair.length != 2 || pair[0].isEmpty() || pair[1].isEmpty())
                throw new FormatException(file, "merge " + i + " is not two tokens: " + quote(String.valueOf(m)));
            merges.add(pair);
        }
        return build(file, vocab, file, merges);
    }

    private static ByteLevelBpe build(Path vocabFile, Map<?, ?> vocab, Path mergeFile, List<String[]> merges) throws FormatException {
        int maxId = -1;
        for (Map.Entry<?, ?> e : vocab.entrySet()) {
            if (!(e.getValue() instanceof Long id) || id < 0 || id > Integer.MAX_VALUE - 1)
                throw new FormatException(vocabFile, "token " + quote(String.valueOf(e.getKey())) + " has id " + e.getValue() + ", expected a non-negative integer");
            maxId = Math.max(maxId, id.intValue());
        }
        if (vocab.isEmpty()) throw new FormatException(vocabFile, "the vocabulary is empty");
        if (maxId >= 16 * vocab.size() + 1024)
            throw new FormatException(vocabFile, "id " + maxId + " is far beyond the " + vocab.size() + " tokens of the vocabulary");
        String[] tokens = new String[maxId + 1];
        for (Map.Entry<?, ?> e : vocab.entrySet()) {
            int id = ((Long) e.getValue()).intValue();
            if (tokens[id] != null)
                throw new FormatException(vocabFile, "id " + id + " is given to both " + quote(tokens[id]) + " and " + quote((String) e.getKey()));
            tokens[id] = (String) e.getKey();
        }
        try {
            return of(tokens, merges);
        } catch (IllegalArgumentException e) {
            throw new FormatException(mergeFile, e.getMessage());
        }
    }

    /**
     * A tokenizer over {@code tokens} (by id, in GPT-2's byte stand-ins; null for an id nobody
     * uses) and {@code merges} ({@code [left, right]}, best first), as GGUF's
     * {@code tokenizer.ggml.tokens} and {@code tokenizer.ggml.merges} hold them.
     *
     * @throws IllegalArgumentException if a token appears twice, or a merge names, or makes, a token
     *     that is not in the vocabulary
     */
    static ByteLevelBpe of(String[] tokens, List<String[]> merges) {
        tokens = tokens.clone();
        Map<String, Integer> ids = new HashMap<>(2 * tokens.length);
        for (int id = 0; id < tokens.length; id++) {
            if (tokens[id] == null) continue;
            Integer before = ids.putIfAbsent(tokens[id], id);
            if (before != null) throw new IllegalArgumentException("token " + quote(tokens[id]) + " has ids " + before + " and " + id);
        }
        Map<String, Integer> ranks = new HashMap<>();
        for (int r = 0; r < merges.size(); r++) {
            String[] m = merges.get(r);
            for (String t : new String[] {m[0], m[1], m[0] + m[1]})
                if (!ids.containsKey(t))
                    throw new IllegalArgumentException("merge " + (r + 1) + " (" + quote(m[0] + " " + m[1]) + ") refers to " + quote(t) + ", which is not in the vocabulary");
            ranks.putIfAbsent(m[0] + " " + m[1], r);
        }
        return new ByteLevelBpe(ids, tokens, ranks);
    }

    /**
     * Writes {@code dir/tokenizer.json} as HuggingFace writes GPT-2's: a BPE model holding this
     * vocabulary and its merges best first, with the byte-level pre-tokenizer and decoder and
     * {@code <|endoftext|>} as the special token ({@link #load} and {@link Tokenizers#load} read it
     * back). The file is replaced atomically.
     */
    public void save(Path dir) throws IOException {
        Map<String, Object> vocab = new LinkedHashMap<>();
        for (int id = 0; id < tokens.length; id++) if (tokens[id] != null) vocab.put(tokens[id], id);
        List<String> merges = ranks.entrySet().stream().sorted(Map.Entry.comparingByValue()).map(Map.Entry::getKey).toList();
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("type", "BPE");
        model.put("dropout", null);
        model.put("unk_token", null);
        model.put("continuing_subword_prefix", "");
        model.put("end_of_word_suffix", "");
        model.put("fuse_unk", false);
        model.put("vocab", vocab);
        model.put("merges", merges);
        Map<String, Object> byteLevel = new LinkedHashMap<>();
        byteLevel.put("type", "ByteLevel");
        byteLevel.put("add_prefix_space", false);
        byteLevel.put("trim_offsets", true);
        byteLevel.put("use_regex", true);
        List<Object> added = new ArrayList<>();
        int eos = id("<|endoftext|>");
        if (eos >= 0) {
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("id", eos);
            t.put("content", "<|endoftext|>");
            t.put("single_word", false);
            t.put("lstrip", false);
            t.put("rstrip", false);
            t.put("normalized", true);
            t.put("special", true);
            added.add(t);
        }
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("version", "1.0");
        root.put("truncation", null);
        root.put("padding", null);
        root.put("added_tokens", added);
        root.put("normalizer", null);
        root.put("pre_tokenizer", byteLevel);
        root.put("post_processor", byteLevel);
        root.put("decoder", byteLevel);
        root.put("model", model);
        Files.createDirectories(dir);
        AtomicFiles.writeString(dir.resolve("tokenizer.json"), Json.write(root, false));
    }

    @Override
    public int[] encode(String text) {
        List<Integer> out = new ArrayList<>();
        Matcher m = WORDS.matcher(text);
        while (m.find()) {
            String word = m.group();
            int[] wordIds = word.length() <= CACHED_WORD_MAX ? cache.get(word) : null;
            if (wordIds == null) {
                wordIds = encodeWord(word);
                if (word.length() <= CACHED_WORD_MAX && cache.size() < CACHE_MAX) cache.put(word, wordIds);
            }
            for (int id : wordIds) out.add(id);
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    /** BPE over one word: merge the best-ranked adjacent pair (all its occurrences) until none is listed. */
    private int[] encodeWord(String word) {
        byte[] bytes = word.getBytes(StandardCharsets.UTF_8);
        List<String> parts = new ArrayList<>(bytes.length);
        for (byte b : bytes) parts.add(String.valueOf(BYTE_CHAR[b & 0xFF]));
        while (parts.size() > 1) {
            int bestRank = Integer.MAX_VALUE;
            String left = null, right = null;
            for (int i = 0; i + 1 < parts.size(); i++) {
                Integer r = ranks.get(parts.get(i) + " " + parts.get(i + 1));
                if (r != null && r < bestRank) {
                    bestRank = r;
                    left = parts.get(i);
                    right = parts.get(i + 1);
                }
            }
            if (left == null) break;
            List<String> merged = new ArrayList<>(parts.size());
            for (int i = 0; i < parts.size(); i++) {
                if (i + 1 < parts.size() && parts.get(i).equals(left) && parts.get(i + 1).equals(right)) {
                    merged.add(left + right);
                    i++;
                } else {
                    merged.add(parts.get(i));
                }
            }
            parts = merged;
        }
        int[] out = new int[parts.size()];
        for (int i = 0; i < out.length; i++) {
            Integer id = ids.get(parts.get(i));
            if (id == null) throw new IllegalStateException("the vocabulary has no token " + quote(parts.get(i)) + " (it lacks a byte's token)");
            out[i] = id;
        }
        return out;
    }

    /** Invalid UTF-8 (a character cut between tokens) decodes to U+FFFD, as HuggingFace's does. */
    @Override
    public String decode(int[] tokenIds) {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        for (int id : tokenIds) {
            if (id < 0 || id >= tokens.length || tokens[id] == null)
                throw new IllegalArgumentException("token id " + id + " is not in the vocabulary (" + tokens.length + " ids)");
            String t = tokens[id];
            for (int i = 0; i < t.length(); i++) {
                char c = t.charAt(i);
                int b = c < CHAR_BYTE.length ? CHAR_BYTE[c] : -1;
                if (b < 0) {
                    // not a byte stand-in (a special token such as <|endoftext|>): its text as it is
                    bytes.writeBytes(String.valueOf(c).getBytes(StandardCharsets.UTF_8));
                } else {
                    bytes.write(b);
                }
            }
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPLACE)
                    .onUnmappableCharacter(CodingErrorAction.REPLACE)
                    .decode(java.nio.ByteBuffer.wrap(bytes.toByteArray())).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalStateException(e); // cannot happen with REPLACE
        }
    }

    @Override
    public int vocabSize() {
        return tokens.length;
    }

    /**
     * Puts this vocabulary into a GGUF file as llama.cpp's converter writes GPT-2's, the keys
     * {@link Tokenizers#fromGguf} reads back: {@code tokenizer.ggml.model} "gpt2", {@code .pre}
     * "gpt-2" (llama.cpp's name), {@code .tokens} by id, {@code .merges} ("left right", best first), and
     * {@code <|endoftext|>} as {@code bos_token_id} and {@code eos_token_id} when the vocabulary has it.
     *
     * @throws IllegalArgumentException if an id has no token (GGUF lists every id)
     */
    public void putGguf(GgufWriter writer) {
        for (int id = 0; id < tokens.length; id++)
            if (tokens[id] == null) throw new IllegalArgumentException("token id " + id + " has no token; a GGUF vocabulary lists every id");
        List<String> merges = ranks.entrySet().stream().sorted(Map.Entry.comparingByValue()).map(Map.Entry::getKey).toList();
        writer.put("tokenizer.ggml.model", "gpt2")
                .put("tokenizer.ggml.pre", "gpt-2")
                .putArray("tokenizer.ggml.tokens", GgufValueType.STRING, List.of(tokens))
                .putArray("tokenizer.ggml.merges", GgufValueType.STRING, merges);
        int end = id("<|endoftext|>");
        if (end >= 0)
            writer.put("tokenizer.ggml.bos_token_id", GgufValueType.UINT32, end)
                    .put("tokenizer.ggml.eos_token_id", GgufValueType.UINT32, end);
    }

    /** The id of a token string (such as {@code "<|endoftext|>"}), or -1. */
    @Override
    public int id(String token) {
        return ids.getOrDefault(token, -1);
    }

    private static Object parse(Path file) throws IOException {
        return Json.read(file);
    }

    private static Map<?, ?> asObject(Object o, Path file, String what) throws FormatException {
        if (o instanceof Map<?, ?> m) return m;
        throw new FormatException(file, what + " is not a JSON object");
    }

    private static String quote(String s) {
        return "'" + (s.length() > 60 ? s.substring(0, 57) + "..." : s) + "'";
    }
}
