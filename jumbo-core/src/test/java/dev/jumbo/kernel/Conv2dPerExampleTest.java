package dev.jumbo.kernel;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * {@link Conv2dKernel#backwardFilterPerExample} against {@link Reference}'s plain loops run on
 * one example at a time, on fresh random data over every geometry of {@link Conv2dKernelTest}.
 */
class Conv2dPerExampleTest {
    @Test
    void eachExamplesFilterGradientMatchesTheReferenceOnThatExampleAlone() {
        for (ConvGeometry g : Conv2dKernelTest.geometries())
            for (boolean withBias : new boolean[] {true, false}) {
                Fixture f = new Fixture();
                int in = g.h() * g.w() * g.c(), out = g.outH() * g.outW() * g.outC(), filter = g.kh() * g.kw() * g.c() * g.outC();
                float[] x = f.floats(g.n() * in), dy = f.floats(g.n() * out);
                float[] dw = f.nans(g.n() * filter), dbias = withBias ? f.nans(g.n() * g.outC()) : null;
                Conv2dKernel.backwardFilterPerExample(g, x, dy, dw, dbias);
                ConvGeometry one = g.withBatch(1);
                double tol = 2e-5 * Math.sqrt(g.outH() * g.outW() + 1);
                for (int b = 0; b < g.n(); b++) {
                    float[] expectedDw = new float[filter], expectedDb = withBias ? new float[g.outC()] : null;
                    Reference.convBackwardFilter(one, Arrays.copyOfRange(x, b * in, (b + 1) * in), Arrays.copyOfRange(dy, b * out, (b + 1) * out),
                            expectedDw, expectedDb);
                    f.assertClose(expectedDw, Arrays.copyOfRange(dw, b * filter, (b + 1) * filter), tol, "dw of example " + b + " " + g);
                    if (withBias) f.assertClose(expectedDb, Arrays.copyOfRange(dbias, b * g.outC(), (b + 1) * g.outC()), tol, "dbias of example " + b + " " + g);
                }
            }
    }

    @Test
    void refusesAGradientArrayWithoutRoomForEveryExample() {
        ConvGeometry g = ConvGeometry.of(3, 4, 4, 2, 3, 3, 1, 1, true, 3);
        float[] x = new float[3 * 4 * 4 * 2], dy = new float[3 * 4 * 4 * 3];
        assertThatThrownBy(() -> Conv2dKernel.backwardFilterPerExample(g, x, dy, new float[3 * 3 * 2 * 3], null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("dw");
    }
}
