package dev.jumbo.explain;

import dev.jumbo.io.Gguf;
import dev.jumbo.io.GgufFile;
import dev.jumbo.models.Bert;
import dev.jumbo.models.GgufModels;
import dev.jumbo.models.Gpt2;
import dev.jumbo.models.Gpt2Config;
import dev.jumbo.tensor.Shape;
import dev.jumbo.text.ByteLevelBpe;
import dev.jumbo.text.Tokenizer;
import dev.jumbo.text.Tokenizers;
import dev.jumbo.text.WordPiece;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Random;

import static dev.jumbo.explain.TextModels.BERT_TOKENS;
import static dev.jumbo.explain.TextModels.names;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * Token attributions by Integrated Gradients on the embeddings: the scores against independent
 * paths through the models, their gradients against central differences, and completeness on a
 * random BERT with its masked-LM head, a random GPT-2 and all-MiniLM-L6-v2 (Q8_0 GGUF).
 */
class TokenAttributionsTest {

    /** Random ids of a text of length t over ids [4, vocab) (past bert-tiny's special ids). */
    private static int[] words(Random r, int t, int vocab) {
        int[] ids = new int[t];
        for (int i = 0; i < t; i++) ids[i] = 4 + r.nextInt(vocab - 4);
        return ids;
    }

    /** [CLS] w w [MASK] w ... [SEP] over bert-tiny's vocabulary. */
    private static int[] maskedText(Random r, int words) {
        int[] ids = new int[words + 2];
        int[] w = words(r, words, 50);
        System.arraycopy(w, 0, ids, 1, words);
        ids[0] = BERT_TOKENS.cls();
        ids[words + 1] = BERT_TOKENS.sep();
        ids[1 + r.nextInt(words)] = BERT_TOKENS.mask();
        return ids;
    }

    @Test
    void scoresAreTheModelsOwnOutputsThroughAnotherPath() throws Exception {
        Random r = new Random(System.nanoTime());
        Gpt2 gpt2 = TextModels.gpt2(r.nextLong());
        int[] ids = words(r, 7, 40);
        TextModel causal = TextModel.gpt2(gpt2, ids, names(ids), 0);
        double[] want = TextModels.logSoftmax(gpt2.logits(ids), 0, 40);
        float[] got = causal.outputs();
        assertThat(got).hasSize(40);
        for (int v = 0; v < 40; v++) assertThat((double) got[v]).as("gpt-2 token %d", v).isCloseTo(want[v], within(1e-5));

        Bert bert = TextModels.bertMlm(r.nextLong());
        int[] text = maskedText(r, 6);
        TextModel masked = TextModel.maskedLm(bert, text, names(text), BERT_TOKENS);
        int at = indexOf(text, BERT_TOKENS.mask());
        want = TextModels.logSoftmax(bert.maskedLmLogits(text), at * 50, 50);
        got = masked.outputs();
        for (int v = 0; v < 50; v++) assertThat((double) got[v]).as("bert token %d", v).isCloseTo(want[v], within(1e-5));
        assertThat(masked.defaultTarget()).isEqualTo(argmax(want));

        int[] reference = maskedText(r, 4);
        TextModel similar = TextModel.similarity(bert, text, names(text), BERT_TOKENS, reference);
        float[] a = bert.embed(new int[][] {text}, true)[0], b = bert.embed(new int[][] {reference}, true)[0];
        double cosine = 0;
        for (int k = 0; k < a.length; k++) cosine += a[k] * b[k];
        assertThat(similar.outputs()).hasSize(1);
        assertThat((double) similar.outputs()[0]).isCloseTo(cosine, within(1e-5));
    }

    @Test
    void scoreGradientsMatchCentralDifferences() throws Exception {
        Random r = new Random(System.nanoTime());
        Gpt2 gpt2 = TextModels.gpt2(r.nextLong());
        Bert bert = TextModels.bertMlm(r.nextLong());
        int[] words = words(r, 5, 40), text = maskedText(r, 5);
        TextModel[] models = {
                TextModel.gpt2(gpt2, words, names(words), 0),
                TextModel.maskedLm(bert, text, names(text), BERT_TOKENS),
                TextModel.similarity(bert, text, names(text), BERT_TOKENS, maskedText(r, 3))};
        for (TextModel m : models) {
            ModelFunction f = m.score();
            float[] x = m.embeddings();
            int target = r.nextInt(f.outputs());
            float[] grad = Gradients.of(f, x, 1, target, 1).gradient();
            for (int trial = 0; trial < 25; trial++) {
                int i = r.nextInt(x.length);
                // Richardson's extrapolation cancels the h^2 term: layer norms over small random embeddings curve
                // enough that a plain central difference at h = 1e-2 was off by 5% (CI met it once).
                double numeric = (4 * centralDifference(f, x, i, target, 5e-3) - centralDifference(f, x, i, target, 1e-2)) / 3;
                assertThat((double) grad[i]).as("%s, target %d, d/d x[%d]", m.kind(), target, i)
                        .isCloseTo(numeric, within(2e-3 + 0.03 * Math.abs(numeric)));
            }
        }
    }

    private static double centralDifference(ModelFunction f, float[] x, int i, int target, double h) {
        float[] plus = x.clone(), minus = x.clone();
        plus[i] += (float) h;
        minus[i] -= (float) h;
        return (Gradients.outputs(f, plus, 1, 1)[target] - Gradients.outputs(f, minus, 1, 1)[target]) / (plus[i] - minus[i]);
    }

    /**
     * Refines from 4 Gauss-Legendre steps (doubling) to a gap of 1% and checks it both as IG reports it and from the
     * per-token sums; returns the steps it took.
     */
    private static int assertComplete(TextModel m, int target) {
        TokenAttributions a = TokenAttributions.integratedGradients(m, target, IntegratedGradients.defaults().withSteps(4).refinedTo(0.01, 3200));
        Explanation e = a.explanation();
        double difference = e.details().get("output") - e.details().get("baseline_output");
        assertThat(e.shape()).isEqualTo(Shape.of(m.length()));
        assertThat(a.tokens()).isEqualTo(m.tokens());
        assertThat(Math.abs(difference)).as("f(x) - f(baseline) of %s", m.kind()).isGreaterThan(1e-3);
        assertThat(Math.abs(e.completenessGap())).as("%s target %d: sum %s, f(x)-f(b) %s, steps %s", m.kind(), target, e.sum(), difference, e.details().get("steps"))
                .isLessThanOrEqualTo(0.01 * Math.abs(difference));
        assertThat(Math.abs(e.sum() - difference)).isLessThanOrEqualTo(0.01 * Math.abs(difference) + 1e-6);
        assertThat((double) e.details().get("output")).isCloseTo(m.outputs()[target], within(1e-5));
        return e.details().get("steps").intValue();
    }

    @Test
    void bertMaskedLmAttributionsAddUpAndSpareTheSpecialTokens() throws Exception {
        Random r = new Random(System.nanoTime());
        Bert bert = TextModels.bertMlm(r.nextLong());
        int most = 0;
        for (int trial = 0; trial < 3; trial++) {
            int[] text = maskedText(r, 8);
            TextModel m = TextModel.maskedLm(bert, text, names(text), BERT_TOKENS);
            for (int target : new int[] {m.defaultTarget(), 4 + r.nextInt(46)}) {
                most = Math.max(most, assertComplete(m, target));
                float[] a = TokenAttributions.integratedGradients(m, target, IntegratedGradients.defaults()).explanation().attributions();
                for (int i = 0; i < text.length; i++)
                    if (!m.isFeature(i)) assertThat(a[i]).as("special token at %d", i).isZero();
            }
        }
        System.out.println("bert-tiny masked LM: completeness within 1% took at most " + most + " Gauss-Legendre steps");
    }

    @Test
    void bertSimilarityAttributionsAddUp() throws Exception {
        Random r = new Random(System.nanoTime());
        Bert bert = TextModels.bertMlm(r.nextLong());
        int most = 0;
        for (int trial = 0; trial < 3; trial++) {
            int[] text = maskedText(r, 8), reference = maskedText(r, 6);
            most = Math.max(most, assertComplete(TextModel.similarity(bert, text, names(text), BERT_TOKENS, reference), 0));
        }
        System.out.println("bert-tiny similarity: completeness within 1% took at most " + most + " Gauss-Legendre steps");
    }

    @Test
    void gpt2AttributionsAddUpAgainstZeroEmbeddings() {
        Random r = new Random(System.nanoTime());
        Gpt2 gpt2 = TextModels.gpt2(r.nextLong());
        int most = 0;
        for (int trial = 0; trial < 3; trial++) {
            int[] ids = words(r, 9, 40);
            TextModel m = TextModel.gpt2(gpt2, ids, names(ids), 0);
            assertThat(m.baseline()).containsOnly(0f);
            for (int target : new int[] {m.defaultTarget(), r.nextInt(40)}) most = Math.max(most, assertComplete(m, target));
        }
        System.out.println("random GPT-2: completeness within 1% took at most " + most + " Gauss-Legendre steps");
        assertThat(gpt2.parameters()).allSatisfy(p -> assertThat(p.value().requiresGrad()).isTrue());
    }

    @Test
    void miniLmSimilarityAttributionsAddUp() throws Exception {
        Path file = TextModels.sharedData().resolve("gguf/all-minilm-l6-v2-q8_0.gguf");
        Bert bert = GgufModels.bert(file);
        Tokenizer tokenizer;
        try (GgufFile g = Gguf.open(file)) {
            tokenizer = Tokenizers.fromGguf(g);
        }
        WordPiece wp = (WordPiece) tokenizer;
        TextModel m = TextModel.similarity(bert, wp, "A man is playing a guitar on stage.", "Someone performs music with an instrument.");
        assertThat(m.tokens()).startsWith("[CLS]", "a", "man").endsWith("[SEP]");
        int steps = assertComplete(m, 0);
        TokenAttributions a = TokenAttributions.integratedGradients(m);
        Explanation e = a.explanation();
        double relativeGap = e.completenessGap() / (e.details().get("output") - e.details().get("baseline_output"));
        assertThat(Math.abs(relativeGap)).as("relative gap at Captum's 50 steps").isLessThanOrEqualTo(0.01);
        System.out.println("all-MiniLM-L6-v2 similarity " + m.outputs()[0] + " (baseline " + e.details().get("baseline_output")
                + "): completeness within 1% took " + steps + " steps, relative gap at 50 steps " + relativeGap + "; per token "
                + a.tokens() + " " + java.util.Arrays.toString(e.attributions()));
        // the words the two texts share in meaning ("guitar", "playing") should carry more of the similarity than "a"
        float[] v = a.explanation().attributions();
        int guitar = a.tokens().indexOf("guitar"), article = a.tokens().indexOf("a");
        assertThat(v[guitar]).isGreaterThan(v[article]);
    }

    @Test
    void aTextThroughGpt2sOwnTokenizerHasItsTokensAndEndOfTextAsTheAbsentToken() throws Exception {
        Tokenizer bpe = ByteLevelBpe.load(TextModels.sharedData().resolve("gpt2-tokenizer"));
        Gpt2 gpt2 = new Gpt2(new Gpt2Config(50257, 16, 16, 1, 2, 1e-5));
        TextModels.randomize(gpt2.parameters(), 7, 0.3);
        TextModel m = TextModel.gpt2(gpt2, bpe, "The capital of France is");
        assertThat(m.tokens()).containsExactly("The", " capital", " of", " France", " is");
        assertThat(m.maskId()).isEqualTo(50256);
        assertThat(m.outputs()).hasSize(50257);
        assertThat(TokenGame.of(m, m.defaultTarget()).features()).isEqualTo(5);
        assertComplete(m, m.defaultTarget());
    }

    @Test
    void badInputsAreClearErrors() throws Exception {
        Random r = new Random(1);
        Bert bert = TextModels.bertMlm(1);
        int[] noMask = {1, 5, 6, 2};
        assertThatThrownBy(() -> TextModel.maskedLm(bert, noMask, names(noMask), BERT_TOKENS))
                .hasMessageContaining("exactly one [MASK] token (id 3) in the text, found 0");
        int[] text = maskedText(r, 4);
        Bert headless = new Bert(TextModels.bertTinyConfig(), false, false);
        assertThatThrownBy(() -> TextModel.maskedLm(headless, text, names(text), BERT_TOKENS)).hasMessageContaining("no masked-LM head");
        assertThatThrownBy(() -> TextModel.maskedLm(bert, text, names(new int[3]), BERT_TOKENS)).hasMessageContaining("3 token strings for 6 token ids");
        int[] outside = {1, 5, 77, 3, 2};
        assertThatThrownBy(() -> TextModel.maskedLm(bert, outside, names(outside), BERT_TOKENS)).hasMessageContaining("token id 77 is outside the vocabulary of 50");
        TextModel m = TextModel.maskedLm(bert, text, names(text), BERT_TOKENS);
        assertThatThrownBy(() -> TokenAttributions.integratedGradients(m, 50, IntegratedGradients.defaults()))
                .hasMessageContaining("class 50 does not exist: the model has 50 outputs");
        Gpt2 gpt2 = TextModels.gpt2(1);
        int[] long_ = words(r, 13, 40);
        assertThatThrownBy(() -> TextModel.gpt2(gpt2, long_, names(long_), 0)).hasMessageContaining("longer than the model's context of 12");
    }

    static int indexOf(int[] ids, int id) {
        for (int i = 0; i < ids.length; i++) if (ids[i] == id) return i;
        return -1;
    }

    static int argmax(double[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}
