package dev.jumbo.explain;

import dev.jumbo.models.Bert;
import dev.jumbo.models.Gpt2;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static dev.jumbo.explain.TextModels.BERT_TOKENS;
import static dev.jumbo.explain.TextModels.names;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** Tokens as features: each coalition's value against the model run on the text with those tokens replaced, by another path. */
class TokenGameTest {

    /** bert-tiny's masked-LM log-probability of {@code target} at {@code position} of {@code ids}, from {@link Bert#maskedLmLogits(int[])}. */
    private static double bertScore(Bert bert, int[] ids, int position, int target) {
        return TextModels.logSoftmax(bert.maskedLmLogits(ids), position * 50, 50)[target];
    }

    @Test
    void bertCoalitionsAreTheTextsWithTokensMasked() throws Exception {
        Random r = new Random(System.nanoTime());
        Bert bert = TextModels.bertMlm(r.nextLong());
        int[] ids = {1, 0, 0, 0, 0, 0, 0, 2};
        for (int i = 1; i < 7; i++) ids[i] = 4 + r.nextInt(46);
        int mask = 2 + r.nextInt(3);
        ids[mask] = BERT_TOKENS.mask();
        TextModel m = TextModel.maskedLm(bert, ids, names(ids), BERT_TOKENS);
        int target = r.nextInt(50);
        TokenGame game = TokenGame.of(m, target);
        // [CLS], [SEP] and the [MASK] itself are not features
        assertThat(game.features()).isEqualTo(5);
        assertThat(game.positions()).doesNotContain(0, 7, mask);
        assertThat(game.target()).isEqualTo(target);
        assertThat(game.prediction()).containsExactly(m.outputs());

        boolean[] all = new boolean[5], none = new boolean[5], some = new boolean[5];
        Arrays.fill(all, true);
        for (int j = 0; j < 5; j++) some[j] = r.nextBoolean();
        double[] v = game.values(new boolean[][] {all, none, some});
        assertThat(v[0]).isCloseTo(m.outputs()[target], within(1e-5)).isCloseTo(bertScore(bert, ids, mask, target), within(1e-5));
        int[] allMasked = ids.clone();
        for (int p : game.positions()) allMasked[p] = BERT_TOKENS.mask();
        assertThat(v[1]).isCloseTo(bertScore(bert, allMasked, mask, target), within(1e-5));
        int[] partly = ids.clone();
        for (int j = 0; j < 5; j++) if (!some[j]) partly[game.positions()[j]] = BERT_TOKENS.mask();
        assertThat(game.ids(some)).containsExactly(partly);
        assertThat(v[2]).isCloseTo(bertScore(bert, partly, mask, target), within(1e-5));
        assertThat(v[1]).as("masking every word changes the prediction").isNotCloseTo(v[0], within(1e-4));
    }

    @Test
    void gpt2CoalitionsReplaceTokensWithTheChosenIdInBatchesOfAnySize() {
        Random r = new Random(System.nanoTime());
        Gpt2 gpt2 = TextModels.gpt2(r.nextLong());
        int[] ids = new int[6];
        for (int i = 0; i < ids.length; i++) ids[i] = r.nextInt(40);
        TextModel m = TextModel.gpt2(gpt2, ids, names(ids), -1);
        assertThatThrownBy(() -> TokenGame.of(m, 0)).hasMessageContaining("a causal LM has no [MASK], so give one");
        assertThatThrownBy(() -> new TokenGame(m, 0, 40, 8)).hasMessageContaining("token id 40 is outside the vocabulary of 40");
        int target = m.defaultTarget(), absent = 39;
        TokenGame game = new TokenGame(m, target, absent, 3); // chunks of 3 coalitions: the batches split unevenly
        assertThat(game.features()).isEqualTo(6);
        boolean[][] coalitions = new boolean[7][6];
        for (boolean[] c : coalitions) for (int j = 0; j < 6; j++) c[j] = r.nextBoolean();
        Arrays.fill(coalitions[0], true);
        double[] v = game.values(coalitions);
        for (int i = 0; i < coalitions.length; i++) {
            int[] text = ids.clone();
            for (int j = 0; j < 6; j++) if (!coalitions[i][j]) text[j] = absent;
            assertThat(v[i]).as("coalition %s", Arrays.toString(coalitions[i]))
                    .isCloseTo(TextModels.logSoftmax(gpt2.logits(text), 0, 40)[target], within(1e-5));
        }
        assertThat(v[0]).isCloseTo(m.outputs()[target], within(1e-6));
        boolean[] none = new boolean[6];
        int[] allAbsent = new int[6];
        Arrays.fill(allAbsent, absent);
        assertThat(game.values(new boolean[][] {none})[0]).isCloseTo(TextModels.logSoftmax(gpt2.logits(allAbsent), 0, 40)[target], within(1e-5));
        assertThatThrownBy(() -> game.values(new boolean[][] {new boolean[5]})).hasMessageContaining("a coalition of 5 features where the text has 6");
    }
}
