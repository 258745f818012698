package dev.jumbo.text;

/**
 * Token ids of several texts padded to one length, with the attention mask a model needs
 * (1 for a token, 0 for padding).
 *
 * <pre>{@code
 * EncodedBatch b = bert.encodeBatch(List.of("Hello world", "A longer second sentence"), 128);
 * b.ids()[0];            // [101, 7592, 2088, 102, 0, 0]
 * b.attentionMask()[0];  // [1, 1, 1, 1, 0, 0]
 * }</pre>
 *
 * @param ids           {@code [texts][length]}, padded with the tokenizer's padding id
 * @param attentionMask the same shape: 1 where {@code ids} holds a token
 * @param lengths       each text's token count before padding
 */
public record EncodedBatch(int[][] ids, int[][] attentionMask, int[] lengths) {
    /**
     * Pads {@code sequences} to the longest, after cutting any longer than {@code maxLength} to
     * {@code maxLength} (keeping its last token when {@code keepLast}, as a final [SEP]).
     */
    public static EncodedBatch pad(int[][] sequences, int maxLength, int padId, boolean keepLast) {
        if (maxLength < 1) throw new IllegalArgumentException("maxLength must be positive, got " + maxLength);
        int n = sequences.length, width = 0;
        int[][] cut = new int[n][];
        for (int i = 0; i < n; i++) {
            int[] s = sequences[i];
            if (s.length > maxLength) {
                int[] c = java.util.Arrays.copyOf(s, maxLength);
                if (keepLast) c[maxLength - 1] = s[s.length - 1];
                s = c;
            }
            cut[i] = s;
            width = Math.max(width, s.length);
        }
        int[][] ids = new int[n][width], mask = new int[n][width];
        int[] lengths = new int[n];
        for (int i = 0; i < n; i++) {
            java.util.Arrays.fill(ids[i], padId);
            System.arraycopy(cut[i], 0, ids[i], 0, cut[i].length);
            java.util.Arrays.fill(mask[i], 0, cut[i].length, 1);
            lengths[i] = cut[i].length;
        }
        return new EncodedBatch(ids, mask, lengths);
    }
}
