package dev.jumbo.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Random;
import org.junit.jupiter.api.Test;

class GradientSumTest {
    @Test
    void addsLikeANaiveLoopAndSkipsPartitionsThatSawNothing() {
        Random r = new Random(17);
        int n = 37;
        float[] a = new float[n], b = new float[n], want = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) r.nextGaussian();
            b[i] = (float) r.nextGaussian();
            want[i] = a[i] + b[i];
        }
        GradientSum sum = GradientSum.NONE.plus(new GradientSum(a.clone(), 1.5, 3, new float[] {1, 2}, new float[] {3})).plus(GradientSum.NONE)
                .plus(new GradientSum(b.clone(), 2.0, 4, new float[] {4}, new float[] {5, 6}));
        assertThat(sum.sum()).containsExactly(want);
        assertThat(sum.lossSum()).isEqualTo(3.5);
        assertThat(sum.examples()).isEqualTo(7);
        assertThat(sum.outputs()).containsExactly(1, 2, 4);
        assertThat(sum.targets()).containsExactly(3, 5, 6);
        assertThat(GradientSum.NONE.plus(GradientSum.NONE).sum()).isNull();
        assertThatThrownBy(() -> new GradientSum(new float[2], 0, 1, new float[0], new float[0])
                .plus(new GradientSum(new float[3], 0, 1, new float[0], new float[0])))
                .hasMessage("gradients of 2 and 3 values cannot be added");
    }
}
