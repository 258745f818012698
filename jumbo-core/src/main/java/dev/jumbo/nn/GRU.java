package dev.jumbo.nn;

import dev.jumbo.tensor.Tensor;

/**
 * Gated recurrent unit, Keras conventions with {@code reset_after = true} (Keras's default and
 * the cuDNN form): gates update z, reset r, candidate h along the kernels' columns; kernel
 * {@code [features, 3 · units]} (Glorot uniform), recurrent kernel {@code [units, 3 · units]}
 * (orthogonal), bias {@code [2, 3 · units]} zeros, row 0 for the input and row 1 for the
 * recurrent projection.
 *
 * <pre>
 * x = x_t · kernel + bias[0];   r_ = h · recurrent_kernel + bias[1]
 * z = sigmoid(x_z + r_z);   r = sigmoid(x_r + r_r);   n = tanh(x_h + r * r_h)
 * h = z * h + (1 - z) * n
 * </pre>
 */
public final class GRU extends Recurrent {
    /** Returns only the last hidden state. */
    public GRU(int units) {
        this(units, false);
    }

    /** Returns every hidden state when {@code returnSequences}. */
    public GRU(int units, boolean returnSequences) {
        super("GRU", units, returnSequences);
    }

    @Override
    int gates() {
        return 3;
    }

    @Override
    Tensor initialBias() {
        return Init.zeros(2, 3 * units);
    }

    @Override
    Tensor inputBias() {
        return bias.value().slice(0, 0, 1);
    }

    @Override
    Tensor[] step(Tensor projected, Tensor[] state) {
        Tensor h = state[0];
        Tensor recurrent = h.matmul(recurrentKernel.value()).add(bias.value().slice(0, 1, 2));
        Tensor z = projected.slice(1, 0, units).add(recurrent.slice(1, 0, units)).sigmoid();
        Tensor r = projected.slice(1, units, 2 * units).add(recurrent.slice(1, units, 2 * units)).sigmoid();
        Tensor n = projected.slice(1, 2 * units, 3 * units).add(r.mul(recurrent.slice(1, 2 * units, 3 * units))).tanh();
        // z * h + (1 - z) * n, written with one fewer temporary
        return new Tensor[] {n.add(z.mul(h.sub(n)))};
    }
}
