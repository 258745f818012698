package dev.jumbo.nn;

import static dev.jumbo.nn.LayerGradCheck.assertClose;
import static dev.jumbo.nn.LayerGradCheck.forwardWithDeclaredShape;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.testing.GradCheck;
import java.util.Random;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** SimpleRNN, LSTM and GRU against naive scalar loops written from the Keras equations. */
class RecurrentTest {
    private static final int BATCH = 2, TIME = 4, FEATURES = 3, UNITS = 3;
    private final Random rnd = GradCheck.random();

    private static double sigmoid(double v) {
        return 1 / (1 + Math.exp(-v));
    }

    /** {@code sum_k v[k] m[k, col]} for a row-major {@code [rows, cols]} matrix. */
    private static double dot(double[] v, float[] m, int cols, int col) {
        double s = 0;
        for (int k = 0; k < v.length; k++) s += v[k] * m[k * cols + col];
        return s;
    }

    /**
     * Runs a naive cell over every example and time step; the state is {@code [h]} or {@code [h, c]}
     * and the cell maps (x_t, state) to the new state. Returns all hidden states, {@code [batch, time, units]}.
     */
    private static float[] naive(Tensor x, int stateCount, BiFunction<double[], double[][], double[][]> cell) {
        float[] out = new float[BATCH * TIME * UNITS];
        for (int n = 0; n < BATCH; n++) {
            double[][] state = new double[stateCount][UNITS];
            for (int t = 0; t < TIME; t++) {
                double[] xt = new double[FEATURES];
                for (int k = 0; k < FEATURES; k++) xt[k] = x.get(n, t, k);
                state = cell.apply(xt, state);
                for (int j = 0; j < UNITS; j++) out[(n * TIME + t) * UNITS + j] = (float) state[0][j];
            }
        }
        return out;
    }

    private static float[] lastSteps(float[] all) {
        float[] last = new float[BATCH * UNITS];
        for (int n = 0; n < BATCH; n++) System.arraycopy(all, (n * TIME + TIME - 1) * UNITS, last, n * UNITS, UNITS);
        return last;
    }

    /**
     * Builds {@code sequences} (returnSequences = true) with a random bias, checks it and a copy
     * returning only the last step (weights moved over with the state dict) against the naive cell
     * made from the weights {kernel, recurrent kernel, bias}.
     */
    private void checkAgainstNaive(Recurrent sequences, Recurrent last, int stateCount, Function<float[][], BiFunction<double[], double[][], double[][]>> cellFor) {
        Tensor x = Tensor.randn(rnd, BATCH, TIME, FEATURES);
        sequences.build(Shape.of(TIME, FEATURES));
        float[] randomBias = Tensor.randn(rnd, sequences.bias().value().shape().toArray()).toFloatArray();
        System.arraycopy(randomBias, 0, sequences.bias().value().buffer(), 0, randomBias.length);
        float[][] weights = {sequences.kernel().value().toFloatArray(), sequences.recurrentKernel().value().toFloatArray(), randomBias};
        float[] expected = naive(x, stateCount, cellFor.apply(weights));
        assertClose(forwardWithDeclaredShape(sequences, x), expected, 1e-5);
        last.build(Shape.of(TIME, FEATURES));
        last.loadStateDict(sequences.stateDict());
        assertClose(forwardWithDeclaredShape(last, x), lastSteps(expected), 1e-5);
    }

    @Test
    void simpleRnnMatchesNaiveLoop() {
        checkAgainstNaive(new SimpleRNN(UNITS, true), new SimpleRNN(UNITS), 1, w -> (xt, s) -> {
            double[] h = new double[UNITS];
            for (int j = 0; j < UNITS; j++) h[j] = Math.tanh(dot(xt, w[0], UNITS, j) + dot(s[0], w[1], UNITS, j) + w[2][j]);
            return new double[][] {h};
        });
    }

    @Test
    void lstmMatchesNaiveLoopWithGatesInputForgetCellOutput() {
        int g4 = 4 * UNITS;
        checkAgainstNaive(new LSTM(UNITS, true), new LSTM(UNITS), 2, w -> (xt, s) -> {
            double[] h = new double[UNITS], c = new double[UNITS];
            for (int j = 0; j < UNITS; j++) {
                double[] z = new double[4];
                for (int gate = 0; gate < 4; gate++) {
                    int col = gate * UNITS + j;
                    z[gate] = dot(xt, w[0], g4, col) + dot(s[0], w[1], g4, col) + w[2][col];
                }
                c[j] = sigmoid(z[1]) * s[1][j] + sigmoid(z[0]) * Math.tanh(z[2]);
                h[j] = sigmoid(z[3]) * Math.tanh(c[j]);
            }
            return new double[][] {h, c};
        });
    }

    @Test
    void gruMatchesNaiveLoopWithResetAfter() {
        int g3 = 3 * UNITS;
        checkAgainstNaive(new GRU(UNITS, true), new GRU(UNITS), 1, w -> (xt, s) -> {
            double[] h = new double[UNITS];
            for (int j = 0; j < UNITS; j++) {
                // bias row 0 goes with the input projection, row 1 with the recurrent one
                double xz = dot(xt, w[0], g3, j) + w[2][j], rz = dot(s[0], w[1], g3, j) + w[2][g3 + j];
                double xr = dot(xt, w[0], g3, UNITS + j) + w[2][UNITS + j], rr = dot(s[0], w[1], g3, UNITS + j) + w[2][g3 + UNITS + j];
                double xh = dot(xt, w[0], g3, 2 * UNITS + j) + w[2][2 * UNITS + j], rh = dot(s[0], w[1], g3, 2 * UNITS + j) + w[2][g3 + 2 * UNITS + j];
                double z = sigmoid(xz + rz), r = sigmoid(xr + rr), n = Math.tanh(xh + r * rh);
                h[j] = z * s[0][j] + (1 - z) * n;
            }
            return new double[][] {h};
        });
    }

    @Test
    void gradientsFlowBackThroughTime() {
        for (boolean sequences : new boolean[] {false, true}) {
            LayerGradCheck.inputAndParameters(new SimpleRNN(2, sequences), Tensor.randn(rnd, 2, 3, 2));
            LayerGradCheck.inputAndParameters(new LSTM(2, sequences), Tensor.randn(rnd, 2, 3, 2));
            LayerGradCheck.inputAndParameters(new GRU(2, sequences), Tensor.randn(rnd, 2, 3, 2));
        }
    }

    @Test
    void initialisesLikeKeras() {
        LSTM lstm = new LSTM(3);
        lstm.build(Shape.of(5, 4));
        assertThat(lstm.parameters()).extracting(Parameter::name).containsExactly("kernel", "recurrent_kernel", "bias");
        assertThat(lstm.kernel().value().shape()).isEqualTo(Shape.of(4, 12));
        assertThat(lstm.bias().value().toFloatArray()).containsExactly(0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0);
        // orthogonal [3, 12]: its rows are orthonormal
        Tensor u = lstm.recurrentKernel().value();
        Tensor gram = u.matmul(u.transpose(0, 1));
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++) assertThat(gram.get(i, j)).isCloseTo(i == j ? 1f : 0f, within(1e-5f));
        GRU gru = new GRU(2);
        gru.build(Shape.of(5, 4));
        assertThat(gru.bias().value().shape()).isEqualTo(Shape.of(2, 6));
        assertThat(gru.recurrentKernel().value().shape()).isEqualTo(Shape.of(2, 6));
    }

    @Test
    void flopsCountInputAndRecurrentProducts() {
        assertThat(new LSTM(8).flops(Shape.of(10, 4))).isEqualTo(2L * 10 * (4 + 8) * 4 * 8);
        assertThat(new SimpleRNN(8).flops(Shape.of(10, 4))).isEqualTo(2L * 10 * (4 + 8) * 8);
    }

    @Test
    void validatesArgumentsAndInputs() {
        assertThatThrownBy(() -> new LSTM(0)).hasMessage("LSTM units must be positive, got 0");
        assertThatThrownBy(() -> new GRU(-1, true)).hasMessage("GRU units must be positive, got -1");
        assertThatThrownBy(() -> new SimpleRNN(0)).hasMessage("SimpleRNN units must be positive, got 0");
        assertThatThrownBy(() -> new LSTM(2).build(Shape.of(5))).hasMessageContaining("lstm").hasMessageContaining("[5]");
        assertThatThrownBy(() -> new GRU(2).build(Shape.of(0, 3))).hasMessageContaining("gru").hasMessageContaining("[0, 3]");
        SimpleRNN rnn = new SimpleRNN(2);
        rnn.build(Shape.of(5, 3));
        assertThat(rnn.outputShape(Shape.of(9, 3))).isEqualTo(Shape.of(2)); // any length of sequence
        assertThatThrownBy(() -> rnn.build(Shape.of(5, 4))).hasMessageContaining("simple_rnn").hasMessageContaining("3 features");
    }
}
