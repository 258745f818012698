package dev.jumbo.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import org.junit.jupiter.api.Test;

/** {@link VectorMath} against {@link Reference} on fresh random data, at lengths around the vector width. */
class VectorMathTest {
    private static final int[] LENGTHS = {0, 1, 7, 15, 16, 17, 33, 65, 100, 1023, 4099};

    /** Elementwise kernels on ranges that start at offsets; everything outside the output range must survive. */
    @FunctionalInterface
    private interface Binary {
        void apply(float[] a, int aOff, float[] b, int bOff, float[] y, int yOff, int n);
    }

    @Test
    void binaryElementwiseIsExact() {
        checkBinary(VectorMath::add, Reference::add, "add", 0);
        checkBinary(VectorMath::sub, Reference::sub, "sub", 0);
        checkBinary(VectorMath::mul, Reference::mul, "mul", 0);
        checkBinary(VectorMath::div, Reference::div, "div", 0);
    }

    @Test
    void axpyAndScaleMatchReference() {
        // axpy may fuse the multiply-add: one rounding fewer than the plain loop.
        checkBinary((a, ao, b, bo, y, yo, n) -> VectorMath.axpy(-0.7f, a, ao, y, yo, n),
                (a, ao, b, bo, y, yo, n) -> Reference.axpy(-0.7f, a, ao, y, yo, n), "axpy", 1e-6);
        checkBinary((a, ao, b, bo, y, yo, n) -> VectorMath.scale(3.3f, a, ao, y, yo, n),
                (a, ao, b, bo, y, yo, n) -> Reference.scale(3.3f, a, ao, y, yo, n), "scale", 0);
    }

    @Test
    void unaryElementwiseMatchesReference() {
        checkBinary((a, ao, b, bo, y, yo, n) -> VectorMath.relu(a, ao, y, yo, n),
                (a, ao, b, bo, y, yo, n) -> Reference.relu(a, ao, y, yo, n), "relu", 0);
        checkBinary(VectorMath::reluBackward, Reference::reluBackward, "reluBackward", 0);
        checkBinary((a, ao, b, bo, y, yo, n) -> VectorMath.exp(a, ao, y, yo, n),
                (a, ao, b, bo, y, yo, n) -> Reference.exp(a, ao, y, yo, n), "exp", 1e-6);
        checkBinary((a, ao, b, bo, y, yo, n) -> VectorMath.fill(2.5f, y, yo, n),
                (a, ao, b, bo, y, yo, n) -> java.util.Arrays.fill(y, yo, yo + n, 2.5f), "fill", 0);
    }

    @Test
    void reluAndItsGradientSplitLongRangesExactly() {
        // Long enough to split over the compute threads, not a whole number of blocks or vectors.
        int[] lengths = {262_144, 786_469};
        checkBinary((a, ao, b, bo, y, yo, n) -> VectorMath.relu(a, ao, y, yo, n),
                (a, ao, b, bo, y, yo, n) -> Reference.relu(a, ao, y, yo, n), "relu", 0, lengths);
        checkBinary(VectorMath::reluBackward, Reference::reluBackward, "reluBackward", 0, lengths);
    }

    @Test
    void expOfAVectorLaneEqualsTheScalarExpUsedForTails() {
        // The same value must not get a different exp depending on whether it sits in a whole
        // vector or in the tail; both also stay within one ulp of Math.exp.
        Fixture f = new Fixture();
        float[] x = f.floats(4099);
        for (int i = 0; i < x.length; i++) x[i] *= 200f;
        float[] y = new float[x.length];
        VectorMath.exp(x, 0, y, 0, x.length);
        for (int i = 0; i < x.length; i++) {
            assertThat(y[i]).as("exp(%s), seed %d", x[i], f.seed).isEqualTo(VectorMath.exp(x[i]));
            double e = Math.exp(x[i]);
            if ((float) e >= Float.MIN_NORMAL && !Float.isInfinite((float) e))
                assertThat(Math.abs(y[i] - e)).as("exp(%s), seed %d", x[i], f.seed).isLessThanOrEqualTo(Math.ulp((float) e));
        }
    }

    @Test
    void geluTanhAndItsGradientMatchTheirDoublePrecisionDefinitions() {
        // Inputs spread over [-8, 8): the tails (y near 0 or x, gradient near 0 or 1) as well as the bend.
        for (int n : LENGTHS) {
            Fixture f = new Fixture();
            float[] x = f.floats(n + 3), g = f.floats(n + 1);
            for (int i = 0; i < x.length; i++) x[i] *= 8;
            float[] y = f.floats(n + 6), expected = y.clone();
            VectorMath.geluTanh(x, 3, y, 2, n);
            Reference.geluTanh(x, 3, expected, 2, n);
            f.assertClose(expected, y, 1e-6, "geluTanh of " + n);
            float[] dx = f.floats(n + 6), expectedDx = dx.clone();
            VectorMath.geluTanhBackward(x, 3, g, 1, dx, 2, n);
            Reference.geluTanhBackward(x, 3, g, 1, expectedDx, 2, n);
            f.assertClose(expectedDx, dx, 1e-6, "geluTanhBackward of " + n);
        }
    }

    @Test
    void geluTanhOfAVectorLaneEqualsTheScalarFormAndSplitsLongRangesExactly() {
        Fixture f = new Fixture();
        float[] x = f.floats(786_469), g = f.floats(x.length);
        for (int i = 0; i < x.length; i++) x[i] *= 10;
        float[] y = new float[x.length], dx = new float[x.length];
        VectorMath.geluTanh(x, 0, y, 0, x.length);
        VectorMath.geluTanhBackward(x, 0, g, 0, dx, 0, x.length);
        for (int i = 0; i < x.length; i++) {
            if (Float.floatToIntBits(y[i]) != Float.floatToIntBits(VectorMath.geluTanh(x[i])))
                fail("geluTanh(%s) is %s in a lane but %s alone (seed %d)", x[i], y[i], VectorMath.geluTanh(x[i]), f.seed);
            float d = g[i] * VectorMath.geluTanhDerivative(x[i]);
            if (Float.floatToIntBits(dx[i]) != Float.floatToIntBits(d))
                fail("geluTanh gradient at %s is %s in a lane but %s alone (seed %d)", x[i], dx[i], d, f.seed);
        }
    }

    @Test
    void geluTanhHandlesSpecialValues() {
        float[] specials = {Float.NaN, Float.POSITIVE_INFINITY, -0f, 0f, -100f, 100f, -1e20f, 1e20f, 1e-30f, -1e-30f, Float.MAX_VALUE, -Float.MAX_VALUE};
        float[] x = new float[37], ones = new float[37];
        for (int i = 0; i < x.length; i++) x[i] = specials[i % specials.length];
        java.util.Arrays.fill(ones, 1f);
        float[] y = new float[x.length], dx = new float[x.length];
        VectorMath.geluTanh(x, 0, y, 0, x.length);
        VectorMath.geluTanhBackward(x, 0, ones, 0, dx, 0, x.length);
        for (int i = 0; i < x.length; i++) {
            float v = x[i];
            float expectY = Float.isNaN(v) ? Float.NaN : v > 50 ? v : v < -50 ? -0f : v == 0 ? v : v / 2;
            float expectD = Float.isNaN(v) ? Float.NaN : v > 50 ? 1f : v < -50 ? 0f : 0.5f;
            // boxed: Float.equals matches NaN with NaN and tells -0 from 0
            assertThat(Float.valueOf(y[i])).as("geluTanh(%s)", v).isEqualTo(Float.valueOf(expectY));
            assertThat(Float.valueOf(dx[i])).as("geluTanh'(%s)", v).isEqualTo(Float.valueOf(expectD));
        }
    }

    @Test
    void expAndReluHandleSpecialValues() {
        float[] x = new float[37];
        float[] specials = {Float.NaN, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, -0f, 0f, -100f, 88f, 89f, -87f, 1e-30f};
        for (int i = 0; i < x.length; i++) x[i] = specials[i % specials.length];
        float[] e = new float[x.length], r = new float[x.length], er = new float[x.length], rr = new float[x.length];
        VectorMath.exp(x, 0, e, 0, x.length);
        Reference.exp(x, 0, er, 0, x.length);
        VectorMath.relu(x, 0, r, 0, x.length);
        Reference.relu(x, 0, rr, 0, x.length);
        Fixture f = new Fixture();
        f.assertClose(er, e, 1e-6, "exp of special values");
        f.assertClose(rr, r, 0, "relu of special values");
    }

    @Test
    void dotMatchesReference() {
        for (int n : LENGTHS) {
            Fixture f = new Fixture();
            float[] a = f.floats(n + 3), b = f.floats(n + 5);
            assertThat((double) VectorMath.dot(a, 3, b, 5, n))
                    .as("dot of %d (seed %d)", n, f.seed)
                    .isCloseTo(Reference.dot(a, 3, b, 5, n), org.assertj.core.data.Offset.offset(2e-5 * Math.sqrt(n + 1) * 2));
        }
    }

    @Test
    void lanesSumAddsTheLanesInAFixedButterfly() {
        var species = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED;
        int v = species.length();
        Fixture f = new Fixture();
        for (int round = 0; round < 100; round++) {
            float[] lanes = f.floats(v);
            for (int i = 0; i < v; i++) lanes[i] *= (float) Math.pow(10, f.between(-4, 4)); // rounding depends on the order
            float[] t = lanes.clone();
            for (int w = v / 2; w >= 1; w /= 2) {
                float[] next = new float[v];
                for (int i = 0; i < v; i++) next[i] = t[i] + t[i ^ w];
                t = next;
            }
            float sum = VectorMath.lanesSum(jdk.incubator.vector.FloatVector.fromArray(species, lanes, 0));
            if (Float.floatToIntBits(sum) != Float.floatToIntBits(t[0]))
                fail("lanesSum of %s is %s, the butterfly gives %s (seed %d)", java.util.Arrays.toString(lanes), sum, t[0], f.seed);
        }
    }

    @Test
    void sumKeepsItsPrecisionOverLongRanges() {
        for (int n : LENGTHS) {
            Fixture f = new Fixture();
            float[] x = f.floats(n + 2);
            assertThat(VectorMath.sum(x, 2, n)).as("sum of %d (seed %d)", n, f.seed)
                    .isCloseTo(Reference.sum(x, 2, n), org.assertj.core.data.Offset.offset(1e-5 * Math.sqrt(n + 1)));
        }
        // Four million tenths: a float accumulator drifts by about 1%; the blocked sum must not.
        float[] tenths = new float[1 << 22];
        java.util.Arrays.fill(tenths, 0.1f);
        double exact = Reference.sum(tenths, 0, tenths.length);
        assertThat(Math.abs(VectorMath.sum(tenths, 0, tenths.length) - exact) / exact).isLessThan(1e-6);
    }

    @Test
    void softmaxRowsMatchReference() {
        checkRows(true);
    }

    @Test
    void logSoftmaxRowsMatchReference() {
        checkRows(false);
    }

    @Test
    void softmaxAndLogSoftmaxBackwardRowsMatchReference() {
        for (int[] rc : new int[][] {{1, 1}, {3, 7}, {5, 33}, {2, 1023}, {300, 65}, {64, 4099}}) {
            Fixture f = new Fixture();
            int rows = rc[0], cols = rc[1];
            float[] x = f.floats(rows * cols), y = new float[rows * cols], g = f.floats(2 + rows * cols);
            for (int i = 0; i < x.length; i++) x[i] *= 5;
            VectorMath.softmaxRows(x, 0, y, 0, rows, cols);
            float[] dx = f.nans(4 + rows * cols), expected = dx.clone();
            VectorMath.softmaxBackwardRows(y, 0, g, 2, dx, 4, rows, cols);
            Reference.softmaxBackwardRows(y, 0, g, 2, expected, 4, rows, cols);
            f.assertClose(expected, dx, 1e-5, "softmax gradient " + rows + "x" + cols);
            float[] inPlace = g.clone();
            VectorMath.softmaxBackwardRows(y, 0, inPlace, 2, inPlace, 2, rows, cols);
            float[] separate = java.util.Arrays.copyOfRange(dx, 4, dx.length), got = java.util.Arrays.copyOfRange(inPlace, 2, inPlace.length);
            f.assertClose(separate, got, 0, "softmax gradient in place " + rows + "x" + cols);
            VectorMath.logSoftmaxRows(x, 0, y, 0, rows, cols);
            VectorMath.logSoftmaxBackwardRows(y, 0, g, 2, dx, 4, rows, cols);
            Reference.logSoftmaxBackwardRows(y, 0, g, 2, expected, 4, rows, cols);
            f.assertClose(expected, dx, 1e-5, "log-softmax gradient " + rows + "x" + cols);
            inPlace = g.clone();
            VectorMath.logSoftmaxBackwardRows(y, 0, inPlace, 2, inPlace, 2, rows, cols);
            separate = java.util.Arrays.copyOfRange(dx, 4, dx.length);
            got = java.util.Arrays.copyOfRange(inPlace, 2, inPlace.length);
            f.assertClose(separate, got, 0, "log-softmax gradient in place " + rows + "x" + cols);
        }
    }

    @Test
    void softmaxIsStableForLargeLogitsAndInfinities() {
        float[] x = {1000f, 1001f, Float.NEGATIVE_INFINITY, -1000f, 999f, 1000f, 1000f, 1000f, 1000f, 1000f, 1000f,
                1000f, 1000f, 1000f, 1000f, 1000f, 1000f, 1000f};
        float[] y = new float[x.length], ref = new float[x.length];
        Fixture f = new Fixture();
        VectorMath.softmaxRows(x, 0, y, 0, 1, x.length);
        Reference.softmaxRows(x, 0, ref, 0, 1, x.length);
        f.assertClose(ref, y, 1e-5, "softmax of large logits");
        VectorMath.logSoftmaxRows(x, 0, y, 0, 1, x.length);
        Reference.logSoftmaxRows(x, 0, ref, 0, 1, x.length);
        f.assertClose(ref, y, 1e-5, "log-softmax of large logits");
    }

    @Test
    void maxIndexPrefersTheFirstMaximumAndAnyNan() {
        assertThat(VectorMath.maxIndex(new float[0], 0, 0)).isEqualTo(-1);
        assertThat(VectorMath.maxIndex(new float[] {1, 3, 3, 2}, 0, 4)).isEqualTo(1);
        assertThat(VectorMath.maxIndex(new float[] {9, 1, 3, 3, 2}, 1, 4)).isEqualTo(1);
        float[] withNan = new float[40];
        withNan[30] = Float.NaN;
        withNan[35] = Float.NaN;
        withNan[3] = 5;
        assertThat(VectorMath.maxIndex(withNan, 0, 40)).isEqualTo(30);
        float[] allNegInf = new float[20];
        java.util.Arrays.fill(allNegInf, Float.NEGATIVE_INFINITY);
        assertThat(VectorMath.maxIndex(allNegInf, 0, 20)).isZero();
    }

    @Test
    void maxIndexRowsMatchesReference() {
        for (int[] rc : new int[][] {{1, 1}, {3, 7}, {5, 33}, {2, 1023}, {3000, 65}}) {
            Fixture f = new Fixture();
            int rows = rc[0], cols = rc[1];
            float[] x = f.floats(4 + rows * cols);
            for (int i = 0; i < x.length; i += 97) x[i] = 1f; // ties
            int[] idx = new int[rows + 1], expected = new int[rows + 1];
            VectorMath.maxIndexRows(x, 4, rows, cols, idx, 1);
            for (int r = 0; r < rows; r++) expected[r + 1] = Reference.maxIndex(x, 4 + r * cols, cols);
            f.assertEqual(expected, idx, "maxIndexRows " + rows + "x" + cols);
        }
    }

    @Test
    void rmsNormAndSiluGateMatchTheirDoublePrecisionDefinitions() {
        checkBinary((a, ao, b, bo, y, yo, n) -> VectorMath.rmsNorm(a, ao, b, bo, 1e-5f, y, yo, n),
                (a, ao, b, bo, y, yo, n) -> Reference.rmsNorm(a, ao, b, bo, 1e-5f, y, yo, n), "rmsNorm", 2e-6);
        checkBinary(VectorMath::siluMul, Reference::siluMul, "siluMul", 1e-6);
        // large gates: silu(g) is g for large g and -0 for very negative g, never NaN
        float[] g = {200f, -200f, 90f, -90f, 0f, 1e-30f, -1e-30f, 30f, -30f, 5f, -5f, 1f, -1f, 0.5f, 88f, -88f, 150f};
        float[] one = new float[g.length], y = new float[g.length], ref = new float[g.length];
        java.util.Arrays.fill(one, 1f);
        VectorMath.siluMul(g, 0, one, 0, y, 0, g.length);
        Reference.siluMul(g, 0, one, 0, ref, 0, g.length);
        new Fixture().assertClose(ref, y, 1e-6, "silu of large gates");
    }

    @Test
    void inPlaceSoftmaxOfOneRangeMatchesSoftmaxRows() {
        for (int n : new int[] {1, 7, 16, 33, 1023}) {
            Fixture f = new Fixture();
            float[] x = f.floats(n + 4), expected = x.clone();
            for (int i = 0; i < x.length; i++) expected[i] = x[i] *= 20;
            Reference.softmaxRows(x.clone(), 4, expected, 4, 1, n);
            VectorMath.softmax(x, 4, n);
            f.assertClose(expected, x, 1e-6, "softmax of " + n);
        }
    }

    private static void checkRows(boolean softmax) {
        // Includes rows*cols large enough to be split over threads.
        for (int[] rc : new int[][] {{1, 1}, {3, 7}, {5, 33}, {2, 1023}, {300, 65}, {64, 4099}}) {
            Fixture f = new Fixture();
            int rows = rc[0], cols = rc[1];
            float[] x = f.floats(3 + rows * cols);
            for (int i = 0; i < x.length; i++) x[i] *= 20;
            float[] y = f.nans(5 + rows * cols), expected = y.clone();
            if (softmax) {
                VectorMath.softmaxRows(x, 3, y, 5, rows, cols);
                Reference.softmaxRows(x, 3, expected, 5, rows, cols);
            } else {
                VectorMath.logSoftmaxRows(x, 3, y, 5, rows, cols);
                Reference.logSoftmaxRows(x, 3, expected, 5, rows, cols);
            }
            f.assertClose(expected, y, 1e-5, (softmax ? "softmax " : "log-softmax ") + rows + "x" + cols);
        }
    }

    private static void checkBinary(Binary fast, Binary reference, String name, double tol) {
        checkBinary(fast, reference, name, tol, LENGTHS);
    }

    private static void checkBinary(Binary fast, Binary reference, String name, double tol, int[] lengths) {
        for (int n : lengths) {
            Fixture f = new Fixture();
            float[] a = f.floats(n + 3), b = f.floats(n + 1);
            float[] y = f.floats(n + 6), expected = y.clone();
            fast.apply(a, 3, b, 1, y, 2, n);
            reference.apply(a, 3, b, 1, expected, 2, n);
            f.assertClose(expected, y, tol, name + " of " + n);
        }
    }
}
