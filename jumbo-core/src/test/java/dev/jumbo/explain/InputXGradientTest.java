package dev.jumbo.explain;

import dev.jumbo.train.Sequential;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class InputXGradientTest {

    @Test
    void isTheInputTimesTheFiniteDifferenceGradientSigned() {
        Random r = new Random(System.nanoTime());
        for (Sequential model : SaliencyTest.smoothModels(r.nextLong()))
            for (ModelFunction.Output output : ModelFunction.Output.values()) {
                ModelFunction f = ModelFunction.of(model, output);
                float[] x = SaliencyTest.uniform(r, f.inputShape().size());
                for (int i = 0; i < x.length; i++) x[i] = 2 * x[i] - 1; // both signs, so a lost sign shows
                int target = r.nextInt(f.outputs());
                double[] reference = SaliencyTest.finiteDifferences(f, x, target, 1e-2f);
                boolean negative = false;
                for (int i = 0; i < reference.length; i++) {
                    reference[i] *= x[i];
                    negative |= reference[i] < -1e-4;
                }
                Explanation e = InputXGradient.explain(f, x, target);
                assertThat(e.method()).isEqualTo("gradxinput");
                assertThat(negative).as("the reference has negative attributions to check the sign on").isTrue();
                SaliencyTest.assertClose(e.attributions(), reference, "gradxinput " + output + " on " + f.inputShape());
            }
    }
}
