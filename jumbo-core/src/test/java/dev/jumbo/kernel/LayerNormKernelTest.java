package dev.jumbo.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** {@link LayerNormKernel} against {@link Reference}'s double-precision definition on fresh random rows. */
class LayerNormKernelTest {
    /** {rows, d}: below, at and around the vector width, and enough rows to split over threads. */
    private static final int[][] SIZES = {{1, 1}, {3, 7}, {2, 16}, {5, 17}, {4, 33}, {768, 128}, {3, 1000}};

    @Test
    void forwardMatchesTheDefinition() {
        for (int[] size : SIZES) {
            Fixture f = new Fixture();
            int rows = size[0], d = size[1];
            float[] x = shifted(f, rows * d), gamma = f.floats(d), beta = f.floats(d);
            float[] y = f.nans(rows * d), mean = new float[rows], rstd = new float[rows];
            float[] ey = y.clone(), emean = new float[rows], erstd = new float[rows];
            LayerNormKernel.forward(x, gamma, beta, 1e-5f, y, mean, rstd, rows, d);
            Reference.layerNormForward(x, gamma, beta, 1e-5f, ey, emean, erstd, rows, d);
            String what = "layer norm " + rows + "x" + d;
            f.assertClose(ey, y, 1e-5, what);
            f.assertClose(emean, mean, 1e-6, what + " mean");
            f.assertClose(erstd, rstd, 1e-5, what + " rstd");
        }
    }

    @Test
    void backwardMatchesTheChainRuleAndAddsIntoParameterGradients() {
        for (int[] size : SIZES) {
            Fixture f = new Fixture();
            int rows = size[0], d = size[1];
            float[] x = shifted(f, rows * d), gamma = f.floats(d), beta = f.floats(d), g = f.floats(rows * d);
            float[] y = new float[rows * d], mean = new float[rows], rstd = new float[rows];
            LayerNormKernel.forward(x, gamma, beta, 1e-5f, y, mean, rstd, rows, d);
            float[] dx = f.nans(rows * d), dgamma = f.floats(d), dbeta = f.floats(d);
            float[] edx = dx.clone(), edgamma = dgamma.clone(), edbeta = dbeta.clone();
            LayerNormKernel.backward(x, gamma, mean, rstd, g, dx, dgamma, dbeta, rows, d);
            Reference.layerNormBackward(x, gamma, 1e-5f, g, edx, edgamma, edbeta, rows, d);
            String what = "layer norm gradient " + rows + "x" + d;
            // A row of one element normalizes to 0 whatever x is: its dx is 0 up to rounding of x - mean.
            f.assertClose(edx, dx, d == 1 ? 1e-3 : 1e-4, what + " dx");
            f.assertClose(edgamma, dgamma, 1e-4 * Math.sqrt(rows), what + " dgamma");
            f.assertClose(edbeta, dbeta, 1e-5 * Math.sqrt(rows), what + " dbeta");
        }
    }

    @Test
    void backwardSkipsTheGradientsItIsNotAskedFor() {
        Fixture f = new Fixture();
        int rows = 4, d = 20;
        float[] x = f.floats(rows * d), gamma = f.floats(d), beta = f.floats(d), g = f.floats(rows * d);
        float[] y = new float[rows * d], mean = new float[rows], rstd = new float[rows];
        LayerNormKernel.forward(x, gamma, beta, 1e-5f, y, mean, rstd, rows, d);
        float[] all = new float[rows * d], dgamma = new float[d], dbeta = new float[d], onlyDx = new float[rows * d], onlyBeta = new float[d];
        LayerNormKernel.backward(x, gamma, mean, rstd, g, all, dgamma, dbeta, rows, d);
        LayerNormKernel.backward(x, gamma, mean, rstd, g, onlyDx, null, null, rows, d);
        LayerNormKernel.backward(x, gamma, mean, rstd, g, null, null, onlyBeta, rows, d);
        assertThat(onlyDx).containsExactly(all);
        assertThat(onlyBeta).containsExactly(dbeta);
    }

    /** Uniform values plus a common offset per call, so the mean is not near zero. */
    private static float[] shifted(Fixture f, int n) {
        float[] x = f.floats(n);
        float shift = 3 * (f.random.nextFloat() - 0.5f);
        for (int i = 0; i < n; i++) x[i] = 2 * x[i] + shift;
        return x;
    }
}
