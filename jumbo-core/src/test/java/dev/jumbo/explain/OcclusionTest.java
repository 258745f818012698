package dev.jumbo.explain;

import dev.jumbo.nn.Activation;
import dev.jumbo.nn.Dense;
import dev.jumbo.nn.Flatten;
import dev.jumbo.nn.Init;
import dev.jumbo.tensor.Shape;
import dev.jumbo.train.Sequential;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class OcclusionTest {

    /** A linear model (Flatten, Dense without activation) with random weights and biases, as a Sequential. */
    static Sequential linear(Shape input, int outputs, Random r) {
        Init.seed(r.nextLong());
        Sequential m = new Sequential(input, new Flatten(), new Dense(outputs, Activation.LINEAR));
        for (var p : m.parameters()) {
            float[] v = p.value().buffer();
            for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
        }
        return m;
    }

    /**
     * The closed form for f(x) = W x + b: occluding a patch lowers output t by sum over the patch of
     * W[i, t] (x_i - fill), and an element's attribution is the mean of that over the windows on it.
     * Windows start at 0, stride, 2 stride... up to ceil((n - window) / stride) strides (Captum's count).
     */
    static double[] closedForm(Sequential m, float[] x, int h, int w, int c, int window, int windowH, int stride, float fill, int t) {
        float[] kernel = m.parameters().getFirst().value().toFloatArray();
        int k = m.outputShape().size();
        int lastR = (int) Math.ceil((h - windowH) / (double) stride), lastQ = (int) Math.ceil((w - window) / (double) stride);
        double[] sum = new double[x.length];
        int[] count = new int[x.length];
        for (int a = 0; a <= lastR; a++)
            for (int b = 0; b <= lastQ; b++) {
                int r = a * stride, q = b * stride;
                double drop = 0;
                for (int y = 0; y < h; y++)
                    for (int z = 0; z < w; z++)
                        if (y >= r && y < r + windowH && z >= q && z < q + window)
                            for (int ch = 0; ch < c; ch++) {
                                int i = (y * w + z) * c + ch;
                                drop += kernel[i * k + t] * ((double) x[i] - fill);
                            }
                for (int y = 0; y < h; y++)
                    for (int z = 0; z < w; z++)
                        if (y >= r && y < r + windowH && z >= q && z < q + window)
                            for (int ch = 0; ch < c; ch++) {
                                sum[(y * w + z) * c + ch] += drop;
                                count[(y * w + z) * c + ch]++;
                            }
            }
        for (int i = 0; i < x.length; i++) sum[i] /= count[i];
        return sum;
    }

    static void assertMatches(Explanation e, double[] expected) {
        double scale = 0;
        for (double v : expected) scale = Math.max(scale, Math.abs(v));
        for (int i = 0; i < expected.length; i++)
            assertThat((double) e.attributions()[i]).as("element %d", i).isCloseTo(expected[i], within(1e-5 * scale + 1e-6));
    }

    @Test
    void onALinearModelItIsTheClosedForm() {
        Random r = new Random(System.nanoTime());
        // the defaults on a 28x28 image (169 windows: several batches), an odd-sized colour image whose last
        // windows hang over the edge, and a 1-D input
        record Case(Shape shape, Occlusion method) {}
        for (Case k : new Case[] {
                new Case(Shape.of(28, 28, 1), Occlusion.defaults()),
                new Case(Shape.of(9, 7, 2), new Occlusion(3, 2, 0.5f)),
                new Case(Shape.of(6, 5), new Occlusion(4, 3, -1f)),
                new Case(Shape.of(11), new Occlusion(3, 3, 0f))}) {
            Sequential m = linear(k.shape(), 3, r);
            ModelFunction f = ModelFunction.of(m, ModelFunction.Output.AS_IS);
            float[] x = SaliencyTest.uniform(r, k.shape().size());
            int target = r.nextInt(3);
            Shape s = k.shape();
            int h = s.rank() == 1 ? 1 : s.dim(0), w = s.rank() == 1 ? s.dim(0) : s.dim(1), c = s.rank() == 3 ? s.dim(2) : 1;
            Occlusion o = k.method();
            Explanation e = o.explain(f, x, target);
            assertThat(e.method()).isEqualTo("occlusion");
            assertThat(e.shape()).isEqualTo(s);
            assertMatches(e, closedForm(m, x, h, w, c, o.window(), s.rank() == 1 ? 1 : o.window(), o.stride(), o.fill(), target));
        }
    }

    @Test
    void aOneDimensionalCaseByHand() {
        // f(x) = sum of w_i x_i; window 2, stride 2 over 5 features: windows {0,1}, {2,3}, {4} (cut at the edge)
        Sequential m = new Sequential(Shape.of(5), new Dense(1, Activation.LINEAR));
        float[] w = {1, 2, 3, 4, 5};
        System.arraycopy(w, 0, m.parameters().getFirst().value().buffer(), 0, 5);
        float[] x = {1, 1, 2, 2, 3};
        Explanation e = new Occlusion(2, 2, 0).explain(ModelFunction.of(m, ModelFunction.Output.AS_IS), x, 0);
        assertThat(e.attributions()).containsExactly(3, 3, 14, 14, 15);
        assertThat(e.details()).containsEntry("windows", 3.0);
    }

    @Test
    void badSettingsAreRefusedByName() {
        assertThatThrownBy(() -> new Occlusion(0, 1, 0)).hasMessageContaining("window must be at least 1, got 0");
        assertThatThrownBy(() -> new Occlusion(2, 3, 0)).hasMessageContaining("stride 3 is larger than its window 2");
        assertThatThrownBy(() -> new Occlusion(2, 1, Float.NaN)).hasMessageContaining("fill must be a finite number");
        ModelFunction f = ModelFunction.of(linear(Shape.of(3, 3, 1), 2, new Random(1)), ModelFunction.Output.AS_IS);
        assertThatThrownBy(() -> new Occlusion(4, 2, 0).explain(f, new float[9], 0)).hasMessageContaining("window 4 is larger than the input [3, 3, 1]");
        assertThatThrownBy(() -> Occlusion.defaults().explain(f, new float[8], 0)).hasMessageContaining("occlusion needs an input of shape [3, 3, 1]");
    }
}
