package dev.jumbo.nn;

import dev.jumbo.tensor.Tensor;

/**
 * The Elman recurrent layer, Keras conventions: {@code h_t = tanh(x_t · kernel + h_{t-1} · recurrent_kernel + bias)}
 * with kernel {@code [features, units]} (Glorot uniform), recurrent kernel {@code [units, units]}
 * (orthogonal), bias {@code [units]} (zeros).
 *
 * <pre>{@code
 * Tensor last = new SimpleRNN(16).forward(x);          // x [batch, time, features] -> [batch, 16]
 * Tensor all = new SimpleRNN(16, true).forward(x);     // -> [batch, time, 16]
 * }</pre>
 */
public final class SimpleRNN extends Recurrent {
    /** Returns only the last hidden state. */
    public SimpleRNN(int units) {
        this(units, false);
    }

    /** Returns every hidden state when {@code returnSequences}. */
    public SimpleRNN(int units, boolean returnSequences) {
        super("SimpleRNN", units, returnSequences);
    }

    @Override
    int gates() {
        return 1;
    }

    @Override
    Tensor initialBias() {
        return Init.zeros(units);
    }

    @Override
    Tensor inputBias() {
        return bias.value();
    }

    @Override
    Tensor[] step(Tensor projected, Tensor[] state) {
        return new Tensor[] {projected.add(state[0].matmul(recurrentKernel.value())).tanh()};
    }
}
