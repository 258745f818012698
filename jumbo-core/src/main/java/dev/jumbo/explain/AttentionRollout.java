package dev.jumbo.explain;

import dev.jumbo.tensor.Shape;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Attention rollout (Abnar and Zuidema, "Quantifying Attention Flow in Transformers", 2020): how
 * much each input token reaches each position at the top of the network through the attention of
 * every layer. Each layer's map is averaged over its heads and mixed half and half with the
 * identity, for the residual connection that carries a token past the layer unchanged:
 * {@code A' = 0.5 mean_heads(A) + 0.5 I}, rows renormalised to sum to 1. The rollout is their
 * product from the first layer up, {@code R = A'_L ... A'_2 A'_1}: row {@code i} of {@code R} says
 * how position {@code i} of the last layer's output is made of the input tokens.
 *
 * <pre>{@code
 * AttentionMaps maps = AttentionMaps.of(bert, ids, text);
 * Explanation e = AttentionRollout.explain(maps);          // [CLS]'s row (a causal model's: the last token's)
 * float[] perToken = e.attributions();                     // sums to 1
 * }</pre>
 */
public final class AttentionRollout {
    private AttentionRollout() {}

    /** The rollout {@code [query][token]} of the maps' layers: each row is a distribution over the input tokens. */
    public static float[][] rollout(AttentionMaps maps) {
        int t = maps.length();
        double[][] r = identity(t);
        for (int l = 0; l < maps.layers(); l++) r = multiply(withResidual(maps.headAverage(l)), r);
        float[][] out = new float[t][t];
        for (int i = 0; i < t; i++)
            for (int j = 0; j < t; j++) out[i][j] = (float) r[i][j];
        return out;
    }

    /**
     * The rollout row of the position a model's prediction is read at: the last token for a causal
     * model (it predicts the next one), the first ({@code [CLS]}) for an encoder.
     */
    public static Explanation explain(AttentionMaps maps) {
        return explain(maps, maps.causal() ? maps.length() - 1 : 0);
    }

    /**
     * The rollout row of {@code query} as attributions over the tokens (shape {@code [t]}, summing
     * to 1). Attention explains a position, not a class: the target is the query position and the
     * prediction a one-hot over the positions marking it; {@link #explain(AttentionMaps, int, float[], int)}
     * carries a model's own output instead.
     *
     * @throws IllegalArgumentException if {@code query} is not a position of the sequence
     */
    public static Explanation explain(AttentionMaps maps, int query) {
        checkQuery(maps, query);
        float[] marker = new float[maps.length()];
        marker[query] = 1;
        return explain(maps, query, marker, query);
    }

    /**
     * The rollout row of {@code query} as attributions over the tokens, reported with the model's
     * output {@code prediction} and the {@code target} index of it that the caller explains.
     *
     * @throws IllegalArgumentException if {@code query} is not a position of the sequence or {@code target} not an index of the prediction
     */
    public static Explanation explain(AttentionMaps maps, int query, float[] prediction, int target) {
        checkQuery(maps, query);
        Gradients.checkTarget(target, prediction.length);
        float[] row = rollout(maps)[query];
        Map<String, Double> details = new LinkedHashMap<>();
        details.put("layers", (double) maps.layers());
        details.put("heads", (double) maps.heads());
        details.put("query", (double) query);
        return new Explanation("attention", target, prediction.clone(), Shape.of(maps.length()), row, Double.NaN, details);
    }

    private static void checkQuery(AttentionMaps maps, int query) {
        if (query < 0 || query >= maps.length())
            throw new IllegalArgumentException("query position " + query + " is not one of the " + maps.length() + " tokens (0 to " + (maps.length() - 1) + ")");
    }

    /** {@code 0.5 A + 0.5 I} with each row divided by its sum. */
    private static double[][] withResidual(float[][] a) {
        int t = a.length;
        double[][] m = new double[t][t];
        for (int i = 0; i < t; i++) {
            double sum = 0;
            for (int j = 0; j < t; j++) sum += m[i][j] = 0.5 * a[i][j] + (i == j ? 0.5 : 0);
            for (int j = 0; j < t; j++) m[i][j] /= sum;
        }
        return m;
    }

    private static double[][] identity(int t) {
        double[][] m = new double[t][t];
        for (int i = 0; i < t; i++) m[i][i] = 1;
        return m;
    }

    private static double[][] multiply(double[][] a, double[][] b) {
        int t = a.length;
        double[][] c = new double[t][t];
        for (int i = 0; i < t; i++)
            for (int k = 0; k < t; k++) {
                double aik = a[i][k];
                if (aik == 0) continue;
                for (int j = 0; j < t; j++) c[i][j] += aik * b[k][j];
            }
        return c;
    }
}
