package dev.jumbo.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumbo.nn.Init;
import dev.jumbo.tensor.DType;
import dev.jumbo.tensor.Tensor;
import java.util.Map;
import java.util.Random;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

class PerplexityTest {
    private static Gpt2 model(long seed) {
        Init.seed(seed);
        return new Gpt2(new Gpt2Config(40, 16, 64, 2, 2, 1e-5));
    }

    private static int[] text(Random r, int n) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = r.nextInt(40);
        return t;
    }

    /** Within one window the figure is the mean of -log p(token | all before it), computed here one token at a time through a decoding session. */
    @Test
    void oneWindowIsTheMeanNegativeLogLikelihoodOfEachToken() {
        Gpt2 m = model(System.nanoTime());
        int[] tokens = text(new Random(), 16);
        Gpt2.Session s = m.start();
        float[] logits = s.feed(new int[] {tokens[0]});
        double nll = 0;
        for (int t = 1; t < tokens.length; t++) {
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (float l : logits) max = Math.max(max, l);
            for (float l : logits) sum += Math.exp(l - max);
            nll += max + Math.log(sum) - logits[tokens[t]];
            logits = s.feed(new int[] {tokens[t]});
        }
        Perplexity.Result r = Perplexity.evaluate(m, null, tokens, 16);
        assertThat(r.tokens()).isEqualTo(15);
        assertThat(r.meanNll()).isCloseTo(nll / 15, Offset.offset(1e-4));
        assertThat(r.perplexity()).isCloseTo(Math.exp(nll / 15), Offset.offset(1e-3));
        assertThat(r.meanKl()).isNaN();
    }

    /** A long text is read in half-overlapping windows: every token but the first is scored once. */
    @Test
    void windowsScoreEveryTokenOnce() {
        Gpt2 m = model(3);
        int[] tokens = text(new Random(), 101);
        assertThat(Perplexity.evaluate(m, null, tokens, 16).tokens()).isEqualTo(100);
        assertThat(Perplexity.evaluate(m, null, tokens, 7).tokens()).isEqualTo(100);
        assertThatThrownBy(() -> Perplexity.evaluate(m, null, tokens, 17)).hasMessageContaining("context of 16");
        assertThatThrownBy(() -> Perplexity.evaluate(m, null, new int[] {1}, 16)).hasMessageContaining("at least 2 tokens");
    }

    @Test
    void quantizedCopiesDriftAsTheirPrecisionSays() {
        Gpt2 f32 = model(System.nanoTime());
        int[] tokens = text(new Random(), 80);
        Gpt2 q8 = Perplexity.roundTrip(f32, DType.Q8_0), q4 = Perplexity.roundTrip(f32, DType.Q4_0);
        Perplexity.Result same = Perplexity.evaluate(f32, f32, tokens, 16), r8 = Perplexity.evaluate(q8, f32, tokens, 16),
                r4 = Perplexity.evaluate(q4, f32, tokens, 16);
        assertThat(same.meanKl()).isCloseTo(0, Offset.offset(1e-9));
        assertThat(r8.meanKl()).isPositive().isLessThan(r4.meanKl());
        assertThat(Math.abs(r8.perplexity() / same.perplexity() - 1)).isLessThan(0.005);
        // Q8_0 of values already on its grid is exact: a second round trip changes nothing
        Map<String, Tensor> once = q8.stateDict(), twice = Perplexity.roundTrip(q8, DType.Q8_0).stateDict();
        for (String k : once.keySet()) assertThat(twice.get(k).toFloatArray()).as(k).containsExactly(once.get(k).toFloatArray());
        // biases, norms and position embeddings are left as they were
        for (String k : once.keySet())
            if (once.get(k).rank() != 2 || k.startsWith("wpe")) assertThat(once.get(k).toFloatArray()).as(k).containsExactly(f32.stateDict().get(k).toFloatArray());
    }
}
