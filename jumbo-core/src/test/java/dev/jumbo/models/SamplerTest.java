package dev.jumbo.models;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

class SamplerTest {
    @Test
    void topKAndTopPKeepOnlyTheMostLikelyTokens() {
        float[] logits = {(float) Math.log(0.5), (float) Math.log(0.3), (float) Math.log(0.15), (float) Math.log(0.05)};
        Random r = new Random(1);
        int[] counts = new int[4], topK = new int[4];
        for (int i = 0; i < 2000; i++) {
            counts[Sampler.pick(logits, new int[0], GenerationConfig.defaults().topP(0.7), r)]++;
            topK[Sampler.pick(logits, new int[0], GenerationConfig.defaults().topK(3), r)]++;
        }
        assertThat(counts[2] + counts[3]).isZero();
        assertThat(counts[0]).isBetween(1100, 1400); // 0.5 / 0.8 of 2000 = 1250
        assertThat(topK[3]).isZero();
        assertThat(topK[2]).isPositive();
        // a strong repetition penalty turns the favourite (already seen) into the least likely
        assertThat(Sampler.pick(logits, new int[] {0}, GenerationConfig.defaults().greedy(true).repetitionPenalty(100), r)).isEqualTo(1);
    }

    /** Without a top-k or top-p cut the draw walks the vocabulary unsorted: its frequencies must still be softmax(logits / temperature). */
    @Test
    void anUncutDrawFollowsTheTemperedSoftmax() {
        float[] logits = new float[6];
        Random r = new Random();
        for (int i = 0; i < logits.length; i++) logits[i] = (float) r.nextGaussian();
        double temperature = 0.7, z = 0;
        double[] expected = new double[logits.length];
        for (int i = 0; i < logits.length; i++) z += expected[i] = Math.exp(logits[i] / temperature);
        int draws = 60_000;
        int[] counts = new int[logits.length];
        Sampler sampler = new Sampler(GenerationConfig.defaults().temperature(temperature), r, new int[0]);
        for (int i = 0; i < draws; i++) counts[sampler.next(logits)]++;
        for (int i = 0; i < logits.length; i++) {
            double p = expected[i] / z, sd = Math.sqrt(draws * p * (1 - p));
            assertThat((double) counts[i]).as("token " + i).isCloseTo(draws * p, org.assertj.core.data.Offset.offset(5 * sd + 1));
        }
    }

    @Test
    void remembersWhatItPickedForTheRepetitionPenalty() {
        float[] logits = {3, 2, 1};
        Sampler sampler = new Sampler(GenerationConfig.defaults().greedy(true).repetitionPenalty(100), new Random(0), new int[] {2});
        // 0 leads until picked; then 1; once both are picked all three are penalised (2 was in the prompt) and 0 leads again
        assertThat(sampler.next(logits)).isEqualTo(0);
        assertThat(sampler.next(logits)).isEqualTo(1);
        assertThat(sampler.next(logits)).isEqualTo(0); // all three penalised: 3/100 > 2/100 > 1/100
    }

    @Test
    void candidatesAreOrderedByDescendingScoreThenIndex() {
        java.util.Random rnd = new java.util.Random(System.nanoTime());
        for (int round = 0; round < 20; round++) {
            double[] x = new double[1 + rnd.nextInt(3000)];
            for (int i = 0; i < x.length; i++)
                x[i] = switch (rnd.nextInt(6)) {
                    case 0 -> -0.0;
                    case 1 -> 0.0;
                    case 2 -> rnd.nextInt(5) - 2; // ties
                    case 3 -> Float.NEGATIVE_INFINITY;
                    default -> (float) (rnd.nextGaussian() * 1e3);
                };
            Integer[] naive = new Integer[x.length];
            for (int i = 0; i < naive.length; i++) naive[i] = i;
            java.util.Arrays.sort(naive, (a, b) -> Float.compare((float) x[b], (float) x[a])); // stable: ties keep index order
            org.assertj.core.api.Assertions.assertThat(Sampler.descending(x)).containsExactly(java.util.Arrays.stream(naive).mapToInt(Integer::intValue).toArray());
        }
    }
}
