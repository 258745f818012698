package dev.jumbo.explain;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A text's tokens as the features of a {@link FeatureGame}, so LIME, KernelSHAP and exact Shapley
 * values explain text models: a present token stays, an absent one is replaced by a stand-in id
 * ({@code [MASK]} for BERT, as LIME's text explainer and shap's text masker do for masked LMs; for
 * GPT-2, which has no mask or unknown token, an id the caller picks, e.g. {@code <|endoftext|>}). The
 * text keeps its length, so positions do not shift. Special tokens ({@code [CLS]}, {@code [SEP]},
 * {@code [MASK]}, {@code [PAD]}) are never features: they stay in every coalition. Coalitions are
 * scored a batch at a time through the model's {@link TextModel#score}.
 *
 * <pre>{@code
 * TokenGame game = TokenGame.of(TextModel.maskedLm(bert, wordPiece, "Paris is the [MASK] of France."), target);
 * double[] v = game.values(new boolean[][] {{true, false, true, true, true, true}});
 * }</pre>
 */
public final class TokenGame implements FeatureGame {
    private final TextModel model;
    private final int target;
    private final int absentId;
    private final int[] positions;
    private final int chunk;

    /**
     * A game over {@code model}'s tokens explaining output {@code target}, absent tokens replaced by {@code absentId}.
     *
     * @throws IllegalArgumentException if the target is not an output or the id is negative
     */
    public TokenGame(TextModel model, int target, int absentId, int chunk) {
        Gradients.checkTarget(target, model.score().outputs());
        if (absentId < 0)
            throw new IllegalArgumentException("no token id stands for an absent token (got " + absentId
                    + "): a causal LM has no [MASK], so give one (GPT-2's <|endoftext|>, an unknown or padding token)");
        if (chunk < 1) throw new IllegalArgumentException("chunk must be at least 1, got " + chunk);
        this.model = model;
        this.target = target;
        this.absentId = absentId;
        this.chunk = chunk;
        List<Integer> p = new ArrayList<>();
        for (int i = 0; i < model.length(); i++) if (model.isFeature(i)) p.add(i);
        positions = p.stream().mapToInt(Integer::intValue).toArray();
        int[] allAbsent = new int[model.length()];
        Arrays.fill(allAbsent, absentId);
        model.embed(allAbsent); // an id outside the vocabulary fails here, naming it, not at the first coalition
    }

    /** A game whose absent tokens are the model's {@link TextModel#maskId}. */
    public static TokenGame of(TextModel model, int target) {
        return new TokenGame(model, target, model.maskId(), Gradients.DEFAULT_CHUNK);
    }

    @Override
    public int features() {
        return positions.length;
    }

    /** The position in the text of each feature. */
    public int[] positions() {
        return positions.clone();
    }

    /** The token string of each feature. */
    public List<String> tokens() {
        List<String> out = new ArrayList<>(positions.length);
        for (int p : positions) out.add(model.tokens().get(p));
        return out;
    }

    /** The ids of the text with the absent features of one coalition replaced. */
    public int[] ids(boolean[] present) {
        if (present.length != positions.length)
            throw new IllegalArgumentException("a coalition of " + present.length + " features where the text has " + positions.length);
        int[] ids = model.ids();
        for (int j = 0; j < positions.length; j++) if (!present[j]) ids[positions[j]] = absentId;
        return ids;
    }

    @Override
    public double[] values(boolean[][] present) {
        int rows = present.length, size = model.length() * model.dim();
        double[] out = new double[rows];
        if (rows == 0) return out;
        int k = model.score().outputs();
        // a chunk of texts' embeddings at a time: thousands of coalitions of a long text would not fit at once
        for (int from = 0; from < rows; from += chunk) {
            int n = Math.min(chunk, rows - from);
            float[] inputs = new float[n * size];
            for (int i = 0; i < n; i++) System.arraycopy(model.embed(ids(present[from + i])), 0, inputs, i * size, size);
            float[] scores = Gradients.outputs(model.score(), inputs, n, n);
            for (int i = 0; i < n; i++) out[from + i] = scores[i * k + target];
        }
        return out;
    }

    @Override
    public float[] prediction() {
        return model.outputs();
    }

    @Override
    public int target() {
        return target;
    }

    @Override
    public String toString() {
        return "TokenGame[" + positions.length + " tokens of " + model.length() + ", target " + target + ", absent = id " + absentId
                + ", features at " + Arrays.toString(positions) + "]";
    }
}
