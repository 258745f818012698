package dev.jumbo.explain;

import dev.jumbo.models.Bert;
import dev.jumbo.models.Gpt2;
import dev.jumbo.models.LlamaGraph;
import dev.jumbo.tensor.AttentionProbe;
import dev.jumbo.tensor.GradMode;
import dev.jumbo.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * The attention weights of one sequence through a transformer: for each layer and head, how much
 * each query token attends to each key token ({@code weights[layer][head][query][key]}, each row
 * summing to 1), recorded by an {@link AttentionProbe} during one forward pass. Read a head's map
 * as it is, average the heads of a layer ({@link #headAverage}), or trace attention through the
 * layers with {@link AttentionRollout}.
 *
 * <pre>{@code
 * int[] ids = tokenizer.encode("The cat sat on the mat");
 * List<String> text = Arrays.stream(ids).mapToObj(id -> tokenizer.decode(new int[] {id})).toList();
 * AttentionMaps maps = AttentionMaps.of(gpt2, ids, text);
 * float[][] lastLayer = maps.headAverage(maps.layers() - 1);
 * float[][] rollout = AttentionRollout.rollout(maps);
 * }</pre>
 *
 * @param tokens  the text of each token, in order (what a picture labels the rows and columns with)
 * @param layers  the attention layers, first to last
 * @param heads   heads per layer
 * @param weights {@code [layer][head][query][key]} attention probabilities
 */
public record AttentionMaps(List<String> tokens, int layers, int heads, float[][][][] weights) {
    /** @throws IllegalArgumentException naming the layer, head or row whose shape does not fit {@code layers x heads x t x t} */
    public AttentionMaps {
        tokens = List.copyOf(tokens);
        int t = tokens.size();
        if (layers < 1 || heads < 1 || t < 1)
            throw new IllegalArgumentException("attention maps need at least one layer, head and token, got " + layers + ", " + heads + " and " + t);
        if (weights.length != layers) throw new IllegalArgumentException(weights.length + " layers of weights, expected " + layers);
        for (int l = 0; l < layers; l++) {
            if (weights[l].length != heads) throw new IllegalArgumentException("layer " + l + " has " + weights[l].length + " heads, expected " + heads);
            for (int h = 0; h < heads; h++) {
                if (weights[l][h].length != t)
                    throw new IllegalArgumentException("layer " + l + " head " + h + " has " + weights[l][h].length + " query rows for " + t + " tokens");
                for (int i = 0; i < t; i++)
                    if (weights[l][h][i].length != t)
                        throw new IllegalArgumentException("layer " + l + " head " + h + " row " + i + " has " + weights[l][h][i].length + " keys for " + t + " tokens");
            }
        }
    }

    /** GPT-2's attention maps for one sequence of token ids (no gradients are recorded). */
    public static AttentionMaps of(Gpt2 model, int[] tokens, List<String> tokenText) {
        Objects.requireNonNull(model, "model");
        return record(() -> model.forward(ids(tokens)), tokens, tokenText, "GPT-2");
    }

    /** BERT's attention maps for one sequence of token ids, without padding (no gradients are recorded). */
    public static AttentionMaps of(Bert model, int[] tokens, List<String> tokenText) {
        Objects.requireNonNull(model, "model");
        return record(() -> model.forward(ids(tokens)), tokens, tokenText, "BERT");
    }

    /** Llama's attention maps for one sequence of token ids, through its {@link LlamaGraph} (no gradients are recorded). */
    public static AttentionMaps of(LlamaGraph model, int[] tokens, List<String> tokenText) {
        Objects.requireNonNull(model, "model");
        return record(() -> model.forward(tokens), tokens, tokenText, "Llama");
    }

    /**
     * The maps of one sequence (batch 1) from what a probe recorded: one {@link AttentionProbe.Map}
     * per layer, in order, each with the same heads and {@code t} queries and keys.
     *
     * @param tokenText the tokens' text, or null to label them by position
     * @throws IllegalArgumentException if there are no maps, or one is not {@code [1, heads, t, t]} for the others' heads and {@code t} tokens
     */
    public static AttentionMaps of(List<AttentionProbe.Map> maps, List<String> tokenText) {
        if (maps.isEmpty()) throw new IllegalArgumentException("no attention was recorded: the model ran no attention layer");
        AttentionProbe.Map first = maps.getFirst();
        int t = first.queries(), heads = first.heads();
        List<String> text = labels(tokenText, t);
        float[][][][] w = new float[maps.size()][heads][t][t];
        for (int l = 0; l < maps.size(); l++) {
            AttentionProbe.Map m = maps.get(l);
            if (m.batch() != 1 || m.heads() != heads || m.queries() != t || m.keys() != t)
                throw new IllegalArgumentException("attention call " + l + " is [" + m.batch() + ", " + m.heads() + ", " + m.queries() + ", " + m.keys()
                        + "], not [1, " + heads + ", " + t + ", " + t + "] like the first: maps are of one sequence's self-attention");
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < t; i++) System.arraycopy(m.probabilities(), (h * t + i) * t, w[l][h][i], 0, t);
        }
        return new AttentionMaps(text, maps.size(), heads, w);
    }

    private static AttentionMaps record(Runnable forward, int[] tokens, List<String> tokenText, String model) {
        if (tokens.length == 0) throw new IllegalArgumentException("no tokens: attention maps need a sequence");
        labels(tokenText, tokens.length);
        List<AttentionProbe.Map> maps;
        try (var scope = GradMode.noGrad(); AttentionProbe probe = AttentionProbe.record()) {
            forward.run();
            maps = probe.maps();
        }
        if (maps.isEmpty()) throw new IllegalStateException(model + " ran no attention layer through Tensor.attention");
        return of(maps, tokenText);
    }

    private static List<String> labels(List<String> tokenText, int t) {
        if (tokenText == null) {
            List<String> positions = new ArrayList<>(t);
            for (int i = 0; i < t; i++) positions.add(Integer.toString(i));
            return positions;
        }
        if (tokenText.size() != t)
            throw new IllegalArgumentException(tokenText.size() + " token texts for " + t + " tokens");
        return tokenText;
    }

    private static Tensor ids(int[] tokens) {
        float[] f = new float[tokens.length];
        for (int i = 0; i < tokens.length; i++) f[i] = tokens[i];
        return Tensor.of(f, 1, tokens.length);
    }

    /** The number of tokens. */
    public int length() {
        return tokens.size();
    }

    /**
     * The mean over the heads of {@code layer}: {@code [query][key]}, rows summing to 1.
     *
     * @throws IndexOutOfBoundsException naming the layers there are
     */
    public float[][] headAverage(int layer) {
        if (layer < 0 || layer >= layers) throw new IndexOutOfBoundsException("layer " + layer + " of " + layers + " (0 to " + (layers - 1) + ")");
        int t = length();
        float[][] mean = new float[t][t];
        for (int i = 0; i < t; i++)
            for (int j = 0; j < t; j++) {
                double s = 0;
                for (int h = 0; h < heads; h++) s += weights[layer][h][i][j];
                mean[i][j] = (float) (s / heads);
            }
        return mean;
    }

    /**
     * True when no token attends to a later one in any layer or head: a causal (decoder) model's
     * maps, whose masked weights are exactly 0. A bidirectional encoder's softmax leaves no weight
     * exactly 0.
     */
    public boolean causal() {
        for (float[][][] layer : weights)
            for (float[][] head : layer)
                for (int i = 0; i < head.length; i++)
                    for (int j = i + 1; j < head.length; j++)
                        if (head[i][j] != 0) return false;
        return true;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AttentionMaps m && tokens.equals(m.tokens) && layers == m.layers && heads == m.heads
                && Arrays.deepEquals(weights, m.weights);
    }

    @Override
    public int hashCode() {
        return Objects.hash(tokens, layers, heads, Arrays.deepHashCode(weights));
    }

    @Override
    public String toString() {
        return "AttentionMaps[" + length() + " tokens, " + layers + " layers, " + heads + " heads]";
    }
}
