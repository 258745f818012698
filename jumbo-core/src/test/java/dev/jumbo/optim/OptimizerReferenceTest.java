package dev.jumbo.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.jumbo.tensor.Tensor;
import dev.jumbo.testing.GradCheck;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Each optimizer's first steps against a naive double-precision re-implementation of its published
 * update rule, one scalar at a time, on random parameters and fresh random gradients each step.
 */
class OptimizerReferenceTest {
    private final Random rnd = GradCheck.random();
    private static final int STEPS = 6;

    /** One scalar's update: {@code s} holds the scalar's state (moments), zero-initialised; t counts from 1. */
    private interface ScalarRule {
        double update(double p, double g, double[] s, int t);
    }

    private void compare(Optimizer opt, ScalarRule rule) {
        Tensor a = Tensor.randn(rnd, 3, 4).requiresGrad(true), b = Tensor.randn(rnd, 5).requiresGrad(true);
        List<Tensor> params = List.of(a, b);
        opt.bind(params);
        int n = a.size() + b.size();
        double[] ref = new double[n];
        double[][] state = new double[n][4];
        System.arraycopy(toDouble(a.toFloatArray()), 0, ref, 0, a.size());
        System.arraycopy(toDouble(b.toFloatArray()), 0, ref, a.size(), b.size());
        for (int t = 1; t <= STEPS; t++) {
            int at = 0;
            for (Tensor p : params) {
                float[] g = Tensor.randn(rnd, p.shape().toArray()).mul(t % 2 == 0 ? 0.5f : 2f).toFloatArray();
                p.zeroGrad();
                p.addToGrad(Tensor.of(g, p.shape()));
                for (int i = 0; i < g.length; i++, at++) ref[at] = rule.update(ref[at], g[i], state[at], t);
            }
            opt.step();
            float[] got = concat(a.toFloatArray(), b.toFloatArray());
            for (int i = 0; i < n; i++)
                assertThat((double) got[i]).as("%s step %d element %d", opt.getClass().getSimpleName(), t, i).isCloseTo(ref[i], within(2e-6 + 2e-5 * Math.abs(ref[i])));
        }
        assertThat(opt.iterations()).isEqualTo(STEPS);
    }

    private static double[] toDouble(float[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = x[i];
        return y;
    }

    private static float[] concat(float[] x, float[] y) {
        float[] z = new float[x.length + y.length];
        System.arraycopy(x, 0, z, 0, x.length);
        System.arraycopy(y, 0, z, x.length, y.length);
        return z;
    }

    @Test
    void plainSgdStepsAgainstTheGradient() {
        compare(new SGD(0.1), (p, g, s, t) -> p - 0.1 * g);
    }

    @Test
    void sgdMomentumMatchesKerasVelocityForm() {
        // Keras: v = mu v - lr g; p += v. Equal to PyTorch's buffer form for a constant rate.
        compare(new SGD(0.05, 0.9, false), (p, g, s, t) -> {
            s[0] = 0.9 * s[0] - 0.05 * g;
            return p + s[0];
        });
    }

    @Test
    void sgdNesterovMatchesKerasNesterovForm() {
        // Keras: v = mu v - lr g; p += mu v - lr g
        compare(new SGD(0.05, 0.8, true), (p, g, s, t) -> {
            s[0] = 0.8 * s[0] - 0.05 * g;
            return p + 0.8 * s[0] - 0.05 * g;
        });
    }

    @Test
    void sgdWeightDecayIsAddedToTheGradientAsInPyTorch() {
        compare(new SGD(0.05, 0.9, true, 0.1), (p, g, s, t) -> {
            double d = g + 0.1 * p;
            s[0] = t == 1 ? d : 0.9 * s[0] + d;
            return p - 0.05 * (d + 0.9 * s[0]);
        });
    }

    @Test
    void adaGradDividesByTheRootOfAccumulatedSquares() {
        compare(new AdaGrad(0.1), (p, g, s, t) -> {
            if (t == 1) s[0] = 0.1;   // Keras' initial accumulator
            s[0] += g * g;
            return p - 0.1 * g / Math.sqrt(s[0] + 1e-7);
        });
    }

    @Test
    void rmspropKeepsADecayingMeanOfSquares() {
        compare(new RMSprop(0.01), (p, g, s, t) -> {
            s[0] = 0.9 * s[0] + 0.1 * g * g;
            return p - 0.01 * g / Math.sqrt(s[0] + 1e-7);
        });
    }

    @Test
    void centeredRmspropWithMomentum() {
        compare(new RMSprop(0.01, 0.8, 0.5, 1e-7, true), (p, g, s, t) -> {
            s[0] = 0.8 * s[0] + 0.2 * g * g;
            s[1] = 0.8 * s[1] + 0.2 * g;
            double inc = 0.01 * g / Math.sqrt(s[0] - s[1] * s[1] + 1e-7);
            s[2] = 0.5 * s[2] + inc;
            return p - s[2];
        });
    }

    @Test
    void adamFollowsKingmaAndBaWithBiasCorrection() {
        // Algorithm 1 of the paper with the "epsilon hat" variant Keras uses
        compare(new Adam(0.01), (p, g, s, t) -> {
            s[0] = 0.9 * s[0] + 0.1 * g;
            s[1] = 0.999 * s[1] + 0.001 * g * g;
            double lrT = 0.01 * Math.sqrt(1 - Math.pow(0.999, t)) / (1 - Math.pow(0.9, t));
            return p - lrT * s[0] / (Math.sqrt(s[1]) + 1e-7);
        });
    }

    @Test
    void adamWithOtherBetas() {
        compare(new Adam(0.02, 0.5, 0.9, 1e-3), (p, g, s, t) -> {
            s[0] = 0.5 * s[0] + 0.5 * g;
            s[1] = 0.9 * s[1] + 0.1 * g * g;
            double lrT = 0.02 * Math.sqrt(1 - Math.pow(0.9, t)) / (1 - Math.pow(0.5, t));
            return p - lrT * s[0] / (Math.sqrt(s[1]) + 1e-3);
        });
    }

    @Test
    void adamWDecaysWeightsOutsideTheMomentsAsInPyTorch() {
        compare(new AdamW(0.01, 0.1), (p, g, s, t) -> {
            double q = p * (1 - 0.01 * 0.1);
            s[0] = 0.9 * s[0] + 0.1 * g;
            s[1] = 0.999 * s[1] + 0.001 * g * g;
            double mHat = s[0] / (1 - Math.pow(0.9, t)), vHat = s[1] / (1 - Math.pow(0.999, t));
            return q - 0.01 * mHat / (Math.sqrt(vHat) + 1e-8);
        });
    }

    @Test
    void adamFirstStepMovesEachWeightByTheLearningRate() {
        Tensor p = Tensor.of(new float[] {1, 1, 1}, 3).requiresGrad(true);
        p.addToGrad(Tensor.of(new float[] {0.05f, -5, 300}, 3));
        new Adam(0.1).bind(List.of(p)).step();
        assertThat(p.toFloatArray()).containsExactly(new float[] {0.9f, 1.1f, 0.9f}, within(1e-4f));
    }

    @Test
    void adamWWithoutGradientSignalOnlyShrinksWeights() {
        Tensor p = Tensor.of(new float[] {2, -4}, 2).requiresGrad(true);
        Optimizer opt = new AdamW(0.1, 0.5).bind(List.of(p));
        for (int t = 0; t < 10; t++) {
            p.zeroGrad();
            p.addToGrad(Tensor.zeros(2));
            opt.step();
        }
        double shrink = Math.pow(1 - 0.1 * 0.5, 10);
        assertThat(p.toFloatArray()).containsExactly(new float[] {(float) (2 * shrink), (float) (-4 * shrink)}, within(1e-5f));
    }
}
