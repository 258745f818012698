package dev.jumbo.privacy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class UpdateQuantizerTest {
    private final SplittableRandom random = new SplittableRandom();

    @Test
    void wrappedSumOfManyUpdatesDecodesToTheClippedSumWithinHalfAStepEach() {
        for (int trial = 0; trial < 20; trial++) {
            int clients = 1 + random.nextInt(50);
            int dim = 1 + random.nextInt(500);
            double clip = 0.01 + random.nextDouble() * 5;
            UpdateQuantizer q = new UpdateQuantizer(clip, clients);
            int[] wrapped = new int[dim];
            long[] exact = new long[dim];
            double[] clippedSum = new double[dim];
            for (int c = 0; c < clients; c++) {
                float[] update = new float[dim];
                for (int i = 0; i < dim; i++) {
                    // a third of the coordinates beyond the clip, some exactly at it
                    update[i] = (float) ((random.nextDouble() * 3 - 1.5) * clip);
                    if (random.nextInt(20) == 0) {
                        update[i] = (float) (random.nextBoolean() ? clip : -clip);
                    }
                }
                int[] quantized = q.quantize(update);
                UpdateQuantizer.addInto(wrapped, quantized);
                for (int i = 0; i < dim; i++) {
                    // naive reference: clip, scale, round, in exact long arithmetic
                    double x = Math.max(-clip, Math.min(clip, (double) update[i]));
                    long level = Math.round(x * q.maxLevel() / clip);
                    assertThat((long) quantized[i]).isBetween(level - 1, level + 1);
                    assertThat(Math.abs((long) quantized[i])).isLessThanOrEqualTo(q.maxLevel());
                    assertThat(Math.abs(quantized[i] * q.step() - x)).isLessThanOrEqualTo(q.step() / 2 * 1.000001);
                    exact[i] += quantized[i];
                    clippedSum[i] += x;
                }
            }
            double[] decoded = q.decodeSum(wrapped);
            for (int i = 0; i < dim; i++) {
                assertThat((long) wrapped[i]).isEqualTo(exact[i]); // no overflow: the wrapped sum is the exact sum
                assertThat(Math.abs(decoded[i] - clippedSum[i])).isLessThanOrEqualTo(clients * q.step() / 2 * 1.000001);
            }
        }
    }

    @Test
    void theFullRangeOfMaxSummandsUpdatesDoesNotOverflow() {
        UpdateQuantizer q = new UpdateQuantizer(1.0, 7);
        int[] sum = new int[2];
        for (int c = 0; c < 7; c++) {
            UpdateQuantizer.addInto(sum, q.quantize(new float[] {1e9f, -1e9f}));
        }
        assertThat(q.decodeSum(sum)[0]).isCloseTo(7.0, org.assertj.core.data.Offset.offset(1e-6));
        assertThat(q.decodeSum(sum)[1]).isCloseTo(-7.0, org.assertj.core.data.Offset.offset(1e-6));
        assertThat(q.decodeMean(sum, 7)).containsExactly(1.0f, -1.0f);
    }

    @Test
    void refusesNonFiniteCoordinatesAndBadSettingsByName() {
        UpdateQuantizer q = new UpdateQuantizer(1.0, 3);
        assertThatThrownBy(() -> q.quantize(new float[] {0f, Float.NaN}))
                .hasMessageContaining("coordinate 1 is NaN");
        assertThatThrownBy(() -> new UpdateQuantizer(0, 3)).hasMessageContaining("clip");
        assertThatThrownBy(() -> new UpdateQuantizer(1, 0)).hasMessageContaining("maxSummands");
        assertThatThrownBy(() -> UpdateQuantizer.addInto(new int[2], new int[3])).hasMessageContaining("length 3");
        assertThatThrownBy(() -> q.decodeMean(new int[1], 4)).hasMessageContaining("summands");
    }
}
