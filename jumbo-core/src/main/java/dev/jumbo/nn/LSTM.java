package dev.jumbo.nn;

import dev.jumbo.tensor.Tensor;
import java.util.Arrays;

/**
 * Long short-term memory, Keras conventions: gates in the order input, forget, cell, output
 * along the kernels' columns; kernel {@code [features, 4 · units]} (Glorot uniform), recurrent
 * kernel {@code [units, 4 · units]} (orthogonal), bias {@code [4 · units]} zeros except ones for
 * the forget gate (unit forget bias); sigmoid gates, tanh cell.
 *
 * <pre>
 * z = x_t · kernel + h · recurrent_kernel + bias      (one matmul per step for all four gates)
 * i, f, g, o = sigmoid(z_i), sigmoid(z_f), tanh(z_g), sigmoid(z_o)
 * c = f * c + i * g;   h = o * tanh(c)
 * </pre>
 */
public final class LSTM extends Recurrent {
    /** Returns only the last hidden state. */
    public LSTM(int units) {
        this(units, false);
    }

    /** Returns every hidden state when {@code returnSequences}. */
    public LSTM(int units, boolean returnSequences) {
        super("LSTM", units, returnSequences);
    }

    @Override
    int gates() {
        return 4;
    }

    @Override
    Tensor initialBias() {
        // the forget gate starts open (Jozefowicz et al. 2015), as Keras's unit_forget_bias
        float[] b = new float[4 * units];
        Arrays.fill(b, units, 2 * units, 1f);
        return Tensor.of(b, 4 * units);
    }

    @Override
    Tensor inputBias() {
        return bias.value();
    }

    @Override
    Tensor[] initialState(int batch) {
        return new Tensor[] {Tensor.zeros(batch, units), Tensor.zeros(batch, units)};
    }

    @Override
    Tensor[] step(Tensor projected, Tensor[] state) {
        Tensor z = projected.add(state[0].matmul(recurrentKernel.value()));
        Tensor i = z.slice(1, 0, units).sigmoid();
        Tensor f = z.slice(1, units, 2 * units).sigmoid();
        Tensor g = z.slice(1, 2 * units, 3 * units).tanh();
        Tensor o = z.slice(1, 3 * units, 4 * units).sigmoid();
        Tensor c = f.mul(state[1]).add(i.mul(g));
        return new Tensor[] {o.mul(c.tanh()), c};
    }
}
