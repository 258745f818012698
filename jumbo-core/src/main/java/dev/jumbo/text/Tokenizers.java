package dev.jumbo.text;

import dev.jumbo.io.FormatException;
import dev.jumbo.io.GgufFile;
import dev.jumbo.io.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;

/**
 * The tokenizer of a model folder, by what its files say: {@code tokenizer.json}'s model type
 * (BPE: {@link ByteLevelBpe}, or {@link SentencePieceBpe} when it falls back to bytes; WordPiece: {@link WordPiece}; WordLevel of single characters:
 * {@link CharTokenizer}), else {@code vocab.json} + {@code merges.txt} (GPT-2) or {@code vocab.txt} (BERT, uncased).
 * The tokenizer of a GGUF file, by its {@code tokenizer.ggml.model}: {@link #fromGguf}.
 *
 * <pre>{@code
 * Tokenizer t = Tokenizers.load(Path.of("models/gpt2"));
 * try (GgufFile gguf = Gguf.open(Path.of("all-minilm-l6-v2-q8_0.gguf"))) {
 *     Tokenizer bert = Tokenizers.fromGguf(gguf);   // a WordPiece
 *     bert.encode("Hello world");                    // [7592, 2088]
 * }
 * }</pre>
 */
public final class Tokenizers {
    // the GGUF keys of a vocabulary, as llama.cpp names them (src/llama-arch.cpp)
    private static final String MODEL = "tokenizer.ggml.model", PRE = "tokenizer.ggml.pre", TOKENS = "tokenizer.ggml.tokens",
            SCORES = "tokenizer.ggml.scores", TOKEN_TYPE = "tokenizer.ggml.token_type", MERGES = "tokenizer.ggml.merges",
            ADD_SPACE_PREFIX = "tokenizer.ggml.add_space_prefix", BOS = "tokenizer.ggml.bos_token_id", EOS = "tokenizer.ggml.eos_token_id",
            UNK = "tokenizer.ggml.unknown_token_id", SEP = "tokenizer.ggml.seperator_token_id", PAD = "tokenizer.ggml.padding_token_id",
            CLS = "tokenizer.ggml.cls_token_id", MASK = "tokenizer.ggml.mask_token_id",
            LOWERCASE = "tokenizer.ggml.normalizer.lowercase", STRIP_ACCENTS = "tokenizer.ggml.normalizer.strip_accents";
    /**
     * The {@code tokenizer.ggml.pre} names that llama.cpp splits with GPT-2's own pattern
     * ({@code LLAMA_VOCAB_PRE_TYPE_GPT2} and the types that share its expression), the one
     * {@link ByteLevelBpe} implements. Others (Llama 3's, Qwen's ...) split text differently.
     */
    private static final Set<String> GPT2_PRE = Set.of("gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de",
            "a.x-4.0", "mellum", "modern-bert", "exaone4", "jina-v1-en", "jina-v2-code", "roberta-bpe", "mpt", "olmo", "jais", "trillion",
            "granite-docling");

    private Tokenizers() {}

    /** @throws FormatException naming the file and what it lacks or gets wrong */
    public static Tokenizer load(Path dir) throws IOException {
        Path json = dir.resolve("tokenizer.json");
        if (Files.exists(json)) {
            Object parsed = Json.read(json);
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

    /**
     * The tokenizer of a GGUF file's vocabulary, by {@code tokenizer.ggml.model}, giving the ids
     * llama.cpp gives without special tokens added ({@code llama_tokenize} with {@code add_special}
     * and {@code parse_special} false, as its {@code tests/test-tokenizer-0} checks them):
     * <ul>
     *   <li>{@code "llama"}: a {@link SentencePieceBpe} from {@code tokens}, {@code scores} and
     *       {@code token_type}, with {@code bos_token_id}, {@code eos_token_id},
     *       {@code unknown_token_id} and {@code add_space_prefix} (true if absent);</li>
     *   <li>{@code "gpt2"}: a {@link ByteLevelBpe} from {@code tokens} and {@code merges}, for the
     *       pre-tokenizers ({@code tokenizer.ggml.pre}) that split text as GPT-2 does and
     *       vocabularies without user-defined tokens;</li>
     *   <li>{@code "bert"}: a {@link WordPiece} from {@code tokens}, written back from llama.cpp's
     *       spelling into BERT's (see below), with {@code unknown_token_id},
     *       {@code seperator_token_id} (sic), {@code cls_token_id}, {@code padding_token_id},
     *       {@code mask_token_id}, and {@code normalizer.lowercase} and
     *       {@code normalizer.strip_accents} (both true if absent: uncased models).</li>
     * </ul>
     * A special token id that is absent, or u32 -1 ("none"), takes llama.cpp's default for the
     * model (Llama's BOS 1, EOS 2, unknown 0; BERT's unknown 100, CLS 101, SEP 102, MASK 103, PAD 0)
     * if the vocabulary has that id, and is none otherwise.
     *
     * <p>llama.cpp's converter spells BERT's vocabulary with a "phantom space": a word-initial piece
     * is written {@code ▁word}, a continuation {@code ##ing} is written {@code ing}, and control tokens
     * such as {@code [CLS]} (bracketed ones in older conversions) as they are. Its tokenizer then
     * matches the longest pieces of {@code ▁} + word, which is BERT's rule in that spelling; so the
     * pieces are spelled back ({@code ▁word} to {@code word}, {@code ing} to {@code ##ing}) and
     * BERT's WordPiece runs on them. Where llama.cpp's WordPiece departs from BERT's, this one
     * follows BERT (HuggingFace's tokenizer, which the model was trained with): a word of over 100
     * characters is {@code [UNK]} (llama.cpp cuts it into pieces), a vertical tab or form feed is
     * dropped (llama.cpp splits words there), and {@code [MASK]} written in a text stays whole
     * (llama.cpp, not parsing special tokens, reads it as {@code [}, {@code mask}, {@code ]}).
     * llama.cpp's BERT test vectors contain none of these.
     *
     * @throws FormatException naming the file and the key that is missing, of the wrong type or
     *     inconsistent: a model other than these three, arrays of different lengths, a merge of a
     *     token that is not in the vocabulary, a special token id outside it, a token twice
     */
    public static Tokenizer fromGguf(GgufFile gguf) throws FormatException {
        if (!gguf.has(MODEL)) throw new FormatException(gguf.file(), "no metadata key '" + MODEL + "': the file holds no tokenizer");
        String model = gguf.string(MODEL);
        try {
            return switch (model) {
                case "llama" -> sentencePieceOf(gguf);
                case "gpt2" -> byteLevelOf(gguf);
                case "bert" -> wordPieceOf(gguf);
                default -> throw new FormatException(gguf.file(), MODEL + " is '" + model
                        + "', not one Jumbo reads: 'llama' (SentencePiece BPE), 'gpt2' (byte-level BPE) or 'bert' (WordPiece)");
            };
        } catch (IllegalArgumentException e) {
            // a constructor found the arrays inconsistent (a duplicate token, a bad byte token ...)
            throw new FormatException(gguf.file(), "the vocabulary in " + TOKENS + " is inconsistent: " + e.getMessage(), e);
        }
    }

    private static SentencePieceBpe sentencePieceOf(GgufFile gguf) throws FormatException {
        String[] tokens = gguf.strings(TOKENS);
        // llama.cpp refuses a token listed twice; SentencePieceBpe would let the later id win
        Map<String, Integer> seen = new HashMap<>(2 * tokens.length);
        for (int id = 0; id < tokens.length; id++) {
            Integer before = seen.putIfAbsent(tokens[id], id);
            if (before != null) throw new FormatException(gguf.file(), "token '" + tokens[id] + "' is listed twice in " + TOKENS + ", as ids " + before + " and " + id);
        }
        float[] scores = gguf.floats(SCORES);
        sameLength(gguf, SCORES, scores.length, tokens.length);
        int[] types = tokenTypes(gguf, tokens.length);
        int bos = specialId(gguf, BOS, 1, tokens.length), eos = specialId(gguf, EOS, 2, tokens.length), unk = specialId(gguf, UNK, 0, tokens.length);
        // llama.cpp sets add_space_prefix for every SPM vocabulary, then lets the key override it
        return new SentencePieceBpe(tokens, scores, types, bos, eos, unk, gguf.bool(ADD_SPACE_PREFIX, true));
    }

    private static ByteLevelBpe byteLevelOf(GgufFile gguf) throws FormatException {
        if (!gguf.has(PRE))
            throw new FormatException(gguf.file(), "no metadata key '" + PRE + "': without it llama.cpp splits text by a default pattern, not GPT-2's");
        String pre = gguf.string(PRE);
        if (!GPT2_PRE.contains(pre))
            throw new FormatException(gguf.file(), PRE + " is '" + pre + "': only pre-tokenizers that split text as GPT-2 does are supported (" + String.join(", ", GPT2_PRE.stream().sorted().toList()) + ")");
        String[] tokens = gguf.strings(TOKENS);
        int[] types = tokenTypes(gguf, tokens.length);
        for (int id = 0; types != null && id < types.length; id++)
            // llama.cpp matches them whole before splitting the text; ByteLevelBpe does not
            if (types[id] == SentencePieceBpe.TokenType.USER_DEFINED.ordinal())
                throw new FormatException(gguf.file(), "token " + id + " '" + tokens[id] + "' is user-defined (" + TOKEN_TYPE + " 4): byte-level vocabularies with user-defined tokens are not supported");
        String[] stored = gguf.strings(MERGES);
        List<String[]> merges = new ArrayList<>(stored.length);
        for (int i = 0; i < stored.length; i++) {
            // "left right": llama.cpp cuts at the first space after the first byte (a byte-level token holds no space)
            int space = stored[i].indexOf(' ', 1);
            if (space < 0 || space == stored[i].length() - 1)
                throw new FormatException(gguf.file(), "item " + i + " of " + MERGES + " ('" + stored[i] + "') is not two tokens separated by a space");
            merges.add(new String[] {stored[i].substring(0, space), stored[i].substring(space + 1)});
        }
        try {
            return ByteLevelBpe.of(tokens, merges);
        } catch (IllegalArgumentException e) {
            throw new FormatException(gguf.file(), MERGES + " does not fit " + TOKENS + ": " + e.getMessage(), e);
        }
    }

    private static WordPiece wordPieceOf(GgufFile gguf) throws FormatException {
        String[] stored = gguf.strings(TOKENS);
        int[] types = tokenTypes(gguf, stored.length);
        String[] tokens = new String[stored.length];
        for (int id = 0; id < tokens.length; id++) tokens[id] = bertSpelling(stored[id], types == null ? 1 : types[id]);
        int n = tokens.length;
        int unk = requiredSpecialId(gguf, UNK, 100, n), cls = requiredSpecialId(gguf, CLS, 101, n), sep = requiredSpecialId(gguf, SEP, 102, n);
        int[] userDefined = types == null ? new int[0]
                : IntStream.range(0, n).filter(id -> types[id] == SentencePieceBpe.TokenType.USER_DEFINED.ordinal()).toArray();
        boolean lowercase = gguf.bool(LOWERCASE, true);
        // as in HuggingFace's BertNormalizer, accents are stripped when lower-casing unless the file says otherwise
        boolean stripAccents = gguf.bool(STRIP_ACCENTS, lowercase);
        return WordPiece.of(tokens, unk, cls, sep, specialId(gguf, PAD, 0, n), specialId(gguf, MASK, 103, n), userDefined, lowercase, stripAccents);
    }

    /** A token in llama.cpp's phantom-space spelling, written back as BERT's vocab.txt writes it. */
    private static String bertSpelling(String stored, int type) {
        if (type == SentencePieceBpe.TokenType.CONTROL.ordinal() || type == SentencePieceBpe.TokenType.USER_DEFINED.ordinal()) return stored;
        if (!stored.isEmpty() && stored.charAt(0) == SentencePieceBpe.SPACE) return stored.substring(1);
        if (stored.startsWith("[") && stored.endsWith("]")) return stored; // older converters kept every [...] token as it was
        return "##" + stored;
    }

    /** {@code tokenizer.ggml.token_type}, checked against GGUF's codes, or null if the file has none. */
    private static int[] tokenTypes(GgufFile gguf, int tokens) throws FormatException {
        if (!gguf.has(TOKEN_TYPE)) return null;
        int[] types = gguf.ints(TOKEN_TYPE);
        sameLength(gguf, TOKEN_TYPE, types.length, tokens);
        int codes = SentencePieceBpe.TokenType.values().length;
        for (int id = 0; id < types.length; id++)
            if (types[id] < 0 || types[id] >= codes)
                throw new FormatException(gguf.file(), "item " + id + " of " + TOKEN_TYPE + " is " + types[id] + ", not one of GGUF's token types 0.." + (codes - 1));
        return types;
    }

    private static void sameLength(GgufFile gguf, String key, int length, int tokens) throws FormatException {
        if (length != tokens) throw new FormatException(gguf.file(), key + " has " + length + " items but " + TOKENS + " has " + tokens + ": one per token is needed");
    }

    /**
     * The special token id {@code key}: the file's, else llama.cpp's default for the model if the
     * vocabulary has that id, else -1. u32 -1 is how converters write "none" (llama.cpp then keeps its default too).
     */
    private static int specialId(GgufFile gguf, String key, int otherwise, int tokens) throws FormatException {
        long id = gguf.integer(key, -1);
        if (id == -1 || id == 0xFFFF_FFFFL) return otherwise < tokens ? otherwise : -1;
        if (id < 0 || id >= tokens)
            throw new FormatException(gguf.file(), key + " is " + id + ", outside the vocabulary of " + tokens + " tokens (" + TOKENS + ")");
        return (int) id;
    }

    private static int requiredSpecialId(GgufFile gguf, String key, int otherwise, int tokens) throws FormatException {
        int id = specialId(gguf, key, otherwise, tokens);
        if (id < 0) throw new FormatException(gguf.file(), key + " is absent or none, and the vocabulary of " + tokens + " tokens has no id " + otherwise + " to default to");
        return id;
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
