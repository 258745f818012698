package dev.jumbo.text;

import dev.jumbo.io.FormatException;
import dev.jumbo.io.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.PriorityQueue;

/**
 * SentencePiece's BPE, as Llama (1 and 2), llama2.c and llama.cpp's SPM vocabularies use it.
 * Spaces are written {@code ▁} (U+2581), and one is put before the text when
 * {@link #addSpacePrefix()} (sentencepiece's {@code add_dummy_prefix}). The text starts as one
 * piece per character; the adjacent pair whose joined piece is in the vocabulary with the highest
 * score is merged (the leftmost on ties), again and again until no pair joins into a piece. A
 * piece left outside the vocabulary (a character the vocabulary lacks) is written as its UTF-8
 * bytes through the byte tokens {@code <0x00>} .. {@code <0xFF>} (byte fallback), or as the unknown
 * token when there are none. User-defined tokens are matched whole in the text first.
 *
 * <pre>{@code
 * SentencePieceBpe t = Llama2c.loadTokenizer(Path.of("tok512.bin"), 512);
 * int[] ids = t.encode("Once upon a time");   // [403, 407, 261, 378]: ▁Once ▁upon ▁a ▁time
 * t.decode(ids);                               // "Once upon a time"
 * }</pre>
 *
 * <p>Decoding writes {@code ▁} back as a space and byte tokens as their bytes (assembled into
 * UTF-8 across tokens); control, unknown and unused tokens write nothing. When
 * {@link #addSpacePrefix()}, the first token that writes text loses one leading space (the one
 * encoding added), as sentencepiece's and llama.cpp's decoders and llama2.c's after BOS do.
 * {@link #encode} adds no BOS; a model that expects one gets it from its caller ({@link #bosId()}).
 *
 * <p>The vocabulary is what GGUF's {@code tokenizer.ggml.tokens}, {@code .scores} and
 * {@code .token_type} hold; see {@link TokenType}.
 */
public final class SentencePieceBpe implements Tokenizer {
    /** The space symbol: sentencepiece writes every space as this character. */
    public static final char SPACE = '\u2581';

    /** What a token is, with GGUF's codes ({@code tokenizer.ggml.token_type}: the ordinal). */
    public enum TokenType {
        /** 0: unset; decodes to nothing (as llama.cpp). */
        UNDEFINED,
        /** 1: a piece of text. */
        NORMAL,
        /** 2: the unknown token ({@code <unk>}). */
        UNKNOWN,
        /** 3: a control token such as {@code <s>}, {@code </s>}: never produced from text, decoded as nothing. */
        CONTROL,
        /** 4: a piece matched whole in the text before anything else, decoded as written. */
        USER_DEFINED,
        /** 5: reserved, decoded as nothing. */
        UNUSED,
        /** 6: one byte, written {@code <0xXX>} (byte fallback). */
        BYTE;

        /** The type of GGUF code {@code code}. */
        public static TokenType ofGguf(int code) {
            if (code < 0 || code >= values().length) throw new IllegalArgumentException("token type " + code + " is not one of GGUF's 0..6");
            return values()[code];
        }
    }

    private final String[] tokens;
    private final float[] scores;
    private final TokenType[] types;
    private final Map<String, Integer> ids;
    /** The UTF-8 bytes each token decodes to; null for tokens that write nothing. */
    private final byte[][] text;
    /** The token of each byte value, -1 if the vocabulary has none. */
    private final int[] byteIds = new int[256];
    private final int bos, eos, unk;
    private final boolean addSpacePrefix;
    /** User-defined tokens, longest first: the first that matches at a position is taken. */
    private final int[] userDefined;

    /**
     * A tokenizer over a vocabulary as GGUF stores it.
     *
     * @param tokens         the pieces, by id; spaces written {@code ▁}
     * @param scores         each piece's score: merges into higher-scoring pieces are made first
     * @param types          each piece's GGUF {@link TokenType} code; null for all {@link TokenType#NORMAL}
     * @param bos            the beginning-of-sequence id, or -1
     * @param eos            the end-of-sequence id, or -1
     * @param unk            the unknown id, or -1
     * @param addSpacePrefix put a space before the text (and drop it again when decoding)
     * @throws IllegalArgumentException if the arrays differ in length, an id is outside the
     *     vocabulary, a code is not a type, or a byte token is not written {@code <0xXX>}
     */
    public SentencePieceBpe(String[] tokens, float[] scores, int[] types, int bos, int eos, int unk, boolean addSpacePrefix) {
        int n = tokens.length;
        if (scores.length != n) throw new IllegalArgumentException(n + " tokens but " + scores.length + " scores");
        if (types != null && types.length != n) throw new IllegalArgumentException(n + " tokens but " + types.length + " token types");
        for (int id : new int[] {bos, eos, unk})
            if (id < -1 || id >= n) throw new IllegalArgumentException("special token id " + id + " is outside the vocabulary of " + n);
        this.tokens = tokens.clone();
        this.scores = scores.clone();
        this.types = new TokenType[n];
        this.bos = bos;
        this.eos = eos;
        this.unk = unk;
        this.addSpacePrefix = addSpacePrefix;
        ids = new HashMap<>(2 * n);
        text = new byte[n][];
        List<Integer> user = new ArrayList<>();
        for (int id = 0; id < n; id++) {
            String piece = Objects.requireNonNull(this.tokens[id], "token " + id);
            TokenType type = types == null ? TokenType.NORMAL : TokenType.ofGguf(types[id]);
            this.types[id] = type;
            ids.put(piece, id); // a repeated piece: the last id wins, as in llama.cpp's token_to_id
            text[id] = switch (type) {
                case NORMAL -> piece.replace(SPACE, ' ').getBytes(StandardCharsets.UTF_8);
                case USER_DEFINED -> piece.getBytes(StandardCharsets.UTF_8);
                case BYTE -> new byte[] {(byte) byteOf(id, piece)};
                default -> null;
            };
            if (type == TokenType.USER_DEFINED && !piece.isEmpty()) user.add(id);
        }
        for (int b = 0; b < 256; b++) {
            // llama.cpp looks the byte up as "<0xXX>", then as the one-character piece
            Integer id = ids.get(String.format("<0x%02X>", b));
            if (id == null && b < 0x80) id = ids.get(String.valueOf((char) b));
            byteIds[b] = id == null ? -1 : id;
        }
        user.sort(Comparator.comparingInt((Integer id) -> -this.tokens[id].length()).thenComparingInt(id -> id));
        userDefined = user.stream().mapToInt(Integer::intValue).toArray();
    }

    private static int byteOf(int id, String piece) {
        if (piece.length() == 6 && piece.startsWith("<0x") && piece.endsWith(">")) {
            int hi = Character.digit(piece.charAt(3), 16), lo = Character.digit(piece.charAt(4), 16);
            if (hi >= 0 && lo >= 0) return hi << 4 | lo;
        }
        throw new IllegalArgumentException("token " + id + " '" + piece + "' is a byte token but not written <0xXX>");
    }

    /**
     * From a HuggingFace {@code tokenizer.json} converted from a SentencePiece model (Llama 2,
     * Mistral: a BPE model with {@code "byte_fallback": true}, spaces written {@code ▁}). Its merges
     * become scores: a piece scores minus the rank of the first merge that makes it, so the merge
     * made first is the one HuggingFace ranks first (HuggingFace's converter lists a piece's merges
     * together, in the order of the SentencePiece scores). Added tokens are control tokens when
     * special, user-defined otherwise; {@code <0xXX>} pieces are bytes. The space prefix comes from
     * the normalizer's {@code Prepend("▁")} or a {@code Metaspace} pre-tokenizer that prepends;
     * BOS and EOS from {@code tokenizer_config.json} beside the file, else {@code <s>} and {@code </s>}.
     *
     * @throws FormatException naming the file and what is missing or inconsistent
     */
    public static SentencePieceBpe fromTokenizerJson(Path file) throws IOException {
        Map<?, ?> root = object(parse(file), file, "the file");
        Map<?, ?> model = object(root.get("model"), file, "\"model\"");
        if (!"BPE".equals(model.get("type")) || !Boolean.TRUE.equals(model.get("byte_fallback")))
            throw new FormatException(file, "not a SentencePiece-style BPE (model type BPE with byte_fallback)");
        Map<String, Integer> vocab = new HashMap<>();
        for (Map.Entry<?, ?> e : object(model.get("vocab"), file, "\"model.vocab\"").entrySet())
            vocab.put((String) e.getKey(), id(file, e.getValue(), "token '" + e.getKey() + "'"));
        Map<Integer, Boolean> added = new HashMap<>(); // id -> special
        if (root.get("added_tokens") instanceof List<?> list)
            for (Object o : list) {
                Map<?, ?> t = object(o, file, "an added token");
                if (!(t.get("content") instanceof String content)) throw new FormatException(file, "an added token has no \"content\"");
                int id = id(file, t.get("id"), "added token '" + content + "'");
                vocab.put(content, id);
                added.put(id, Boolean.TRUE.equals(t.get("special")));
            }
        int n = vocab.values().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1;
        if (n == 0) throw new FormatException(file, "the vocabulary is empty");
        String[] tokens = new String[n];
        for (Map.Entry<String, Integer> e : vocab.entrySet()) {
            int id = e.getValue();
            if (tokens[id] != null && !tokens[id].equals(e.getKey()))
                throw new FormatException(file, "id " + id + " is given to both '" + tokens[id] + "' and '" + e.getKey() + "'");
            tokens[id] = e.getKey();
        }
        for (int id = 0; id < n; id++) if (tokens[id] == null) throw new FormatException(file, "id " + id + " has no token");
        float[] scores = new float[n];
        Arrays.fill(scores, Float.NaN);
        if (!(model.get("merges") instanceof List<?> merges)) throw new FormatException(file, "\"model.merges\" is not a list");
        for (int r = 0; r < merges.size(); r++) {
            Object m = merges.get(r);
            String joined = m instanceof String str && str.indexOf(' ') > 0 ? str.replaceFirst(" ", "")
                    : m instanceof List<?> pair && pair.size() == 2 && pair.get(0) instanceof String a && pair.get(1) instanceof String b ? a + b : null;
            Integer id = joined == null ? null : vocab.get(joined);
            if (id == null) throw new FormatException(file, "merge " + r + " (" + m + ") does not make a token of the vocabulary");
            if (Float.isNaN(scores[id])) scores[id] = -r;
        }
        int[] types = new int[n];
        String unkToken = model.get("unk_token") instanceof String u ? u : null;
        for (int id = 0; id < n; id++) {
            // pieces no merge makes are never merged into: they score below every merge
            if (Float.isNaN(scores[id])) scores[id] = tokens[id].codePointCount(0, tokens[id].length()) == 1 ? 0 : -merges.size() - 1;
            TokenType type = tokens[id].equals(unkToken) ? TokenType.UNKNOWN
                    : added.containsKey(id) ? (added.get(id) ? TokenType.CONTROL : TokenType.USER_DEFINED)
                    : tokens[id].matches("<0x[0-9A-F]{2}>") ? TokenType.BYTE : TokenType.NORMAL;
            types[id] = type.ordinal();
        }
        Map<?, ?> config = Map.of();
        Path configFile = file.resolveSibling("tokenizer_config.json");
        if (Files.exists(configFile)) config = object(parse(configFile), configFile, "the file");
        int bos = special(config.get("bos_token"), "<s>", vocab), eos = special(config.get("eos_token"), "</s>", vocab);
        int unk = unkToken == null ? -1 : vocab.getOrDefault(unkToken, -1);
        try {
            return new SentencePieceBpe(tokens, scores, types, bos, eos, unk, prependsSpace(root));
        } catch (IllegalArgumentException e) {
            throw new FormatException(file, e.getMessage());
        }
    }

    /** Whether the normalizer prepends ▁ (Llama 2's tokenizer.json) or a Metaspace pre-tokenizer does (newer conversions). */
    private static boolean prependsSpace(Map<?, ?> root) {
        List<Object> parts = new ArrayList<>();
        for (String key : new String[] {"normalizer", "pre_tokenizer"}) {
            Object o = root.get(key);
            if (o instanceof Map<?, ?> m && m.get("normalizers") instanceof List<?> l) parts.addAll(l);
            else if (o instanceof Map<?, ?> m && m.get("pretokenizers") instanceof List<?> l) parts.addAll(l);
            else if (o != null) parts.add(o);
        }
        for (Object o : parts)
            if (o instanceof Map<?, ?> m) {
                if ("Prepend".equals(m.get("type")) && String.valueOf(SPACE).equals(m.get("prepend"))) return true;
                if ("Metaspace".equals(m.get("type"))
                        && ("first".equals(m.get("prepend_scheme")) || "always".equals(m.get("prepend_scheme")) || Boolean.TRUE.equals(m.get("add_prefix_space"))))
                    return true;
            }
        return false;
    }

    /** A special token named in tokenizer_config.json (a string or {"content": ...}), else the default, else -1. */
    private static int special(Object named, String fallback, Map<String, Integer> vocab) {
        Object content = named instanceof Map<?, ?> m ? m.get("content") : named;
        if (content instanceof String s && vocab.containsKey(s)) return vocab.get(s);
        return named == null ? vocab.getOrDefault(fallback, -1) : -1;
    }

    private static Object parse(Path file) throws IOException {
        return Json.read(file);
    }

    private static Map<?, ?> object(Object o, Path file, String what) throws FormatException {
        if (!(o instanceof Map<?, ?> m)) throw new FormatException(file, what + " is not a JSON object");
        return m;
    }

    private static int id(Path file, Object v, String what) throws FormatException {
        if (!(v instanceof Long id) || id < 0 || id >= 16_000_000) throw new FormatException(file, what + " has id " + v + ", not a token id");
        return id.intValue();
    }

    @Override
    public int[] encode(String text) {
        IntList out = new IntList();
        boolean afterSpecial = true; // the start of the text counts as after a special token
        int fragment = 0;
        for (int at = 0; at < text.length() && userDefined.length > 0; ) {
            int match = userDefinedAt(text, at);
            if (match < 0) {
                at++;
                continue;
            }
            if (fragment < at) encodeFragment(text.substring(fragment, at), afterSpecial, out);
            out.add(match);
            afterSpecial = true; // llama.cpp puts the space prefix after a matched token too
            at += tokens[match].length();
            fragment = at;
        }
        if (fragment < text.length()) encodeFragment(text.substring(fragment), afterSpecial, out);
        return out.toArray();
    }

    private int userDefinedAt(String text, int at) {
        for (int id : userDefined) if (text.startsWith(tokens[id], at)) return id;
        return -1;
    }

    /** A pair of adjacent symbols whose joined piece is in the vocabulary, with that piece's score. */
    private record Bigram(int left, int right, float score, int length) {}

    /** Best first: the higher score, then the leftmost (llama.cpp's llm_bigram_spm order). */
    private static final Comparator<Bigram> BEST_FIRST =
            Comparator.comparingDouble((Bigram b) -> -b.score()).thenComparingInt(Bigram::left);

    /** One run of text without user-defined tokens: characters, merged by score, then looked up. */
    private void encodeFragment(String raw, boolean prefix, IntList out) {
        String s = (addSpacePrefix && prefix ? " " + raw : raw).replace(' ', SPACE);
        // symbols: one per character (code point), linked so merged ones drop out; a merged-away symbol has length 0
        int n = s.codePointCount(0, s.length());
        int[] start = new int[n], length = new int[n], prev = new int[n], next = new int[n];
        for (int i = 0, at = 0; i < n; i++) {
            start[i] = at;
            length[i] = Character.charCount(s.codePointAt(at));
            at += length[i];
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        PriorityQueue<Bigram> queue = new PriorityQueue<>(BEST_FIRST);
        for (int i = 1; i < n; i++) offer(s, start, length, i - 1, i, queue);
        while (!queue.isEmpty()) {
            Bigram b = queue.poll();
            // stale: one side was merged into something else since this pair was offered
            if (length[b.left()] == 0 || length[b.right()] == 0 || length[b.left()] + length[b.right()] != b.length()) continue;
            length[b.left()] += length[b.right()];
            length[b.right()] = 0;
            next[b.left()] = next[b.right()];
            if (next[b.right()] >= 0) prev[next[b.right()]] = b.left();
            offer(s, start, length, prev[b.left()], b.left(), queue);
            offer(s, start, length, b.left(), next[b.left()], queue);
        }
        for (int i = 0; i != -1 && n > 0; i = next[i]) {
            String piece = s.substring(start[i], start[i] + length[i]);
            Integer id = ids.get(piece);
            if (id != null) out.add(id);
            else fallback(piece, out);
        }
    }

    private void offer(String s, int[] start, int[] length, int left, int right, PriorityQueue<Bigram> queue) {
        if (left < 0 || right < 0) return;
        int size = length[left] + length[right];
        Integer id = ids.get(s.substring(start[left], start[left] + size));
        if (id != null) queue.add(new Bigram(left, right, scores[id], size));
    }

    /** A piece outside the vocabulary: its UTF-8 bytes as byte tokens, else the unknown token. */
    private void fallback(String piece, IntList out) {
        byte[] bytes = piece.getBytes(StandardCharsets.UTF_8);
        boolean allBytes = true;
        for (byte b : bytes) allBytes &= byteIds[b & 0xFF] >= 0;
        if (allBytes) {
            for (byte b : bytes) out.add(byteIds[b & 0xFF]);
        } else if (unk >= 0) {
            out.add(unk);
        } else {
            throw new IllegalArgumentException("cannot encode '" + piece + "': the vocabulary has neither its bytes nor an unknown token");
        }
    }

    /** @throws IllegalArgumentException if an id is outside the vocabulary */
    @Override
    public String decode(int[] ids) {
        byte[] buf = new byte[Math.max(16, ids.length * 4)];
        int size = 0;
        boolean strip = addSpacePrefix;
        for (int id : ids) {
            if (id < 0 || id >= tokens.length) throw new IllegalArgumentException("token id " + id + " is outside the vocabulary of " + tokens.length);
            byte[] piece = text[id];
            if (piece == null) continue;
            int from = strip && piece.length > 0 && piece[0] == ' ' ? 1 : 0;
            strip = false;
            if (size + piece.length > buf.length) buf = Arrays.copyOf(buf, Math.max(2 * buf.length, size + piece.length));
            System.arraycopy(piece, from, buf, size, piece.length - from);
            size += piece.length - from;
        }
        // malformed or incomplete UTF-8 (a character cut between byte tokens) becomes U+FFFD
        return new String(buf, 0, size, StandardCharsets.UTF_8);
    }

    @Override
    public int vocabSize() {
        return tokens.length;
    }

    /** The id of the piece {@code token} exactly as the vocabulary writes it ({@code "<s>"}, {@code "▁the"}), or -1. */
    @Override
    public int id(String token) {
        return ids.getOrDefault(token, -1);
    }

    /** The piece of {@code id}, as the vocabulary writes it. */
    public String token(int id) {
        return tokens[id];
    }

    /** The score of {@code id}. */
    public float score(int id) {
        return scores[id];
    }

    /** The type of {@code id}. */
    public TokenType type(int id) {
        return types[id];
    }

    /** The beginning-of-sequence id, or -1. */
    public int bosId() {
        return bos;
    }

    /** The end-of-sequence id, or -1. */
    public int eosId() {
        return eos;
    }

    /** The unknown id, or -1. */
    public int unkId() {
        return unk;
    }

    /** Whether a space is put before the text (sentencepiece's {@code add_dummy_prefix}). */
    public boolean addSpacePrefix() {
        return addSpacePrefix;
    }

    /** A growable int array (token ids without boxing). */
    private static final class IntList {
        private int[] a = new int[16];
        private int n;

        void add(int v) {
            if (n == a.length) a = Arrays.copyOf(a, 2 * n);
            a[n++] = v;
        }

        int[] toArray() {
            return Arrays.copyOf(a, n);
        }
    }
}
