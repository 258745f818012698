package dev.jumbo.models;

import dev.jumbo.text.Tokenizer;
import java.util.Arrays;
import java.util.List;

/**
 * The text a sequence's generated tokens add after its prompt, handed out piece by piece as they
 * come: a character whose bytes are not all out yet is held back, and so is text that may be the
 * start of a stop string; the text ends before the first stop string. The pieces, then
 * {@link #rest()}, add up to {@link #text()}. {@link Generator} streams through it, and so does a
 * server, so both give the same text for the same tokens.
 *
 * <pre>{@code
 * TextStream text = new TextStream(tokenizer, promptIds, List.of("\n\n"));
 * System.out.print(text.add(id));        // for each generated token, until text.stopped()
 * System.out.print(text.rest());         // when generation ends
 * String all = text.text();
 * }</pre>
 */
public final class TextStream {
    private final Tokenizer tokenizer;
    private final int[] promptIds;
    private final String promptText;
    private final List<String> stopStrings;
    private int[] ids = new int[16];
    private int count;
    private String text = "";
    private int emitted;
    private boolean stopped;

    public TextStream(Tokenizer tokenizer, int[] promptIds, List<String> stopStrings) {
        this.tokenizer = tokenizer;
        this.promptIds = promptIds.clone();
        this.stopStrings = List.copyOf(stopStrings);
        // New text is decoded after the prompt, not alone: a SentencePiece decoder drops the space
        // of a text's first word, which a continuation must keep (as streaming decoders do).
        this.promptText = tokenizer.decode(promptIds);
    }

    /**
     * Takes the next generated token and returns the text that is now ready: empty while a
     * character is incomplete, and cut before a stop string that the token completed (after
     * which {@link #stopped()} is true and no more tokens are taken).
     *
     * @throws IllegalStateException after a stop string
     */
    public String add(int tokenId) {
        if (stopped) throw new IllegalStateException("the text already ended at a stop string");
        if (count == ids.length) ids = Arrays.copyOf(ids, ids.length * 2);
        ids[count++] = tokenId;
        text = continuation();
        int stop = stopAt(text);
        if (stop >= 0) {
            stopped = true;
            text = text.substring(0, stop);
            String piece = stop > emitted ? text.substring(emitted) : "";
            emitted = Math.max(emitted, stop);
            return piece;
        }
        // hold back a character whose bytes are not all out yet, and the start of a stop string
        // that the next tokens may complete (the text would then end before it)
        int ready = text.endsWith("\uFFFD") ? emitted : text.length() - stopPrefixAtEnd(text);
        if (ready <= emitted) return "";
        String piece = text.substring(emitted, ready);
        emitted = ready;
        return piece;
    }

    /** Whether a stop string ended the text. */
    public boolean stopped() {
        return stopped;
    }

    /** The whole text so far (cut before a stop string), including a character held back. */
    public String text() {
        return text;
    }

    /** The text {@link #add} has not handed out yet (a character still incomplete when generation ends). */
    public String rest() {
        return text.length() > emitted ? text.substring(emitted) : "";
    }

    /** The generated ids taken so far (the one that completed a stop string included). */
    public int[] tokenIds() {
        return Arrays.copyOf(ids, count);
    }

    /** Number of generated ids taken so far. */
    public int size() {
        return count;
    }

    /** The text the generated ids add after the prompt: the whole decoded, less the prompt's own text. */
    private String continuation() {
        int[] all = Arrays.copyOf(promptIds, promptIds.length + count);
        System.arraycopy(ids, 0, all, promptIds.length, count);
        String whole = tokenizer.decode(all);
        // a prompt whose text changes once more tokens follow it (bytes of a cut character) falls back to decoding alone
        return whole.startsWith(promptText) ? whole.substring(promptText.length()) : tokenizer.decode(tokenIds());
    }

    /** Length of the longest end of {@code text} that begins a stop string (without being all of it). */
    private int stopPrefixAtEnd(String text) {
        int longest = 0;
        for (String s : stopStrings)
            for (int k = Math.min(s.length() - 1, text.length()); k > longest; k--)
                if (text.regionMatches(text.length() - k, s, 0, k)) {
                    longest = k;
                    break;
                }
        return longest;
    }

    /** Where the first stop string begins in {@code text}, or -1. */
    private int stopAt(String text) {
        int at = -1;
        for (String s : stopStrings) {
            int i = text.indexOf(s);
            if (i >= 0 && (at < 0 || i < at)) at = i;
        }
        return at;
    }
}
