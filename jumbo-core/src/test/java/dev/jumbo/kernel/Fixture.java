package dev.jumbo.kernel;

import static org.assertj.core.api.Assertions.fail;

import java.util.Arrays;
import java.util.Random;

/**
 * Fresh random inputs for kernel tests and the one closeness check they all use. Each fixture
 * draws a new seed from the clock and names it in every failure message, so a failing case
 * can be replayed with {@code new Fixture(seed)}.
 */
final class Fixture {
    final long seed;
    final Random random;

    Fixture() {
        this(System.nanoTime());
    }

    Fixture(long seed) {
        this.seed = seed;
        this.random = new Random(seed);
    }

    /** Uniform values in [-1, 1). */
    float[] floats(int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = random.nextFloat() * 2 - 1;
        return x;
    }

    float[] nans(int n) {
        float[] x = new float[n];
        Arrays.fill(x, Float.NaN);
        return x;
    }

    int between(int from, int toInclusive) {
        return from + random.nextInt(toInclusive - from + 1);
    }

    /**
     * Asserts every element agrees within {@code tol * (1 + |expected|)}; NaN must meet NaN and an
     * infinity the same infinity.
     * Whole arrays are compared, so anything a kernel must not touch (gaps between rows,
     * padding before an offset) is checked as well.
     */
    void assertClose(float[] expected, float[] actual, double tol, String what) {
        if (expected.length != actual.length) fail("%s: length %d != %d (seed %d)", what, actual.length, expected.length, seed);
        for (int i = 0; i < expected.length; i++) {
            float e = expected[i], a = actual[i];
            boolean ok = Float.isNaN(e) ? Float.isNaN(a) : e == a || Math.abs(e - a) <= tol * (1 + Math.abs(e));
            if (!ok) fail("%s: element %d is %s, expected %s (tolerance %.2g, seed %d)", what, i, a, e, tol, seed);
        }
    }

    void assertEqual(int[] expected, int[] actual, String what) {
        for (int i = 0; i < expected.length; i++)
            if (expected[i] != actual[i])
                fail("%s: element %d is %d, expected %d (seed %d)", what, i, actual[i], expected[i], seed);
    }
}
