package dev.jumbo.text;

/**
 * Text to token ids and back.
 *
 * <pre>{@code
 * Tokenizer t = ByteLevelBpe.load(Path.of("gpt2"));   // vocab.json + merges.txt, or tokenizer.json
 * int[] ids = t.encode("Hello world");                 // [15496, 995]
 * String s = t.decode(ids);                            // "Hello world"
 * }</pre>
 */
public interface Tokenizer {
    /** The ids of {@code text}, without any special tokens added. */
    int[] encode(String text);

    /** The text of {@code ids}; ids outside the vocabulary are an error. */
    String decode(int[] ids);

    /** Number of ids: every id is in {@code [0, vocabSize())}. */
    int vocabSize();

    /** The id of a whole token such as {@code "<|endoftext|>"} or {@code "[MASK]"}, or -1 if there is none. */
    default int id(String token) {
        return -1;
    }
}
