package dev.jumbo.explain;

import dev.jumbo.tensor.Shape;

import java.util.List;

/**
 * How much each token of a text moved a text model's output: an {@link Explanation} of shape
 * {@code [t]}, one attribution per token, with the token strings beside it so a caller can show
 * them (a coloured strip, a table).
 *
 * <pre>{@code
 * TextModel m = TextModel.gpt2(gpt2, tokenizer, "The capital of France is");
 * TokenAttributions a = TokenAttributions.integratedGradients(m, m.defaultTarget(), IntegratedGradients.defaults());
 * for (int i = 0; i < a.tokens().size(); i++) System.out.println(a.tokens().get(i) + " " + a.explanation().attributions()[i]);
 * }</pre>
 *
 * @param explanation the attributions, shape {@code [t]}
 * @param tokens      the text's tokens, one per attribution
 */
public record TokenAttributions(Explanation explanation, List<String> tokens) {
    public TokenAttributions {
        tokens = List.copyOf(tokens);
        if (tokens.size() != explanation.attributions().length)
            throw new IllegalArgumentException(tokens.size() + " tokens for " + explanation.attributions().length + " attributions");
    }

    /**
     * Integrated Gradients on the embeddings (Sundararajan et al.'s recipe for text, Captum's
     * LayerIntegratedGradients on the embedding layer): attributions {@code [t, d]} of output
     * {@code target} along the path from the model's {@link TextModel#baseline} to its embeddings, each
     * token's attribution the sum over its {@code d} values. Summing loses nothing of completeness: the
     * per-token attributions add up to what the full ones do, so the {@link Explanation#completenessGap} is
     * the full attribution's. Details: {@code steps} (after any refinement), {@code output},
     * {@code baseline_output}.
     *
     * @throws IllegalArgumentException if {@code target} is not one of the model's outputs
     */
    public static TokenAttributions integratedGradients(TextModel model, int target, IntegratedGradients ig) {
        Explanation full = ig.explain(model.score(), model.embeddings(), model.baseline(), target);
        int t = model.length(), d = model.dim();
        float[] perToken = new float[t];
        for (int i = 0; i < t; i++) {
            double s = 0;
            for (int k = 0; k < d; k++) s += full.attributions()[i * d + k];
            perToken[i] = (float) s;
        }
        Explanation e = new Explanation("ig", target, full.prediction(), Shape.of(t), perToken, full.completenessGap(), full.details());
        return new TokenAttributions(e, model.tokens());
    }

    /** Integrated Gradients of the model's default target with Captum's defaults (50 Gauss-Legendre steps). */
    public static TokenAttributions integratedGradients(TextModel model) {
        return integratedGradients(model, model.defaultTarget(), IntegratedGradients.defaults());
    }
}
