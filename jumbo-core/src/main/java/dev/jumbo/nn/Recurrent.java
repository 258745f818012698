package dev.jumbo.nn;

import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What the recurrent layers share: input {@code [time, features]} per example, output the last
 * hidden state {@code [units]} or all of them {@code [time, units]}, a zero initial state, and
 * the input projection of every time step done in one matmul before the loop. The loop is made
 * of tensor operations, so gradients flow back through time.
 */
abstract sealed class Recurrent extends Layer permits SimpleRNN, LSTM, GRU {
    final int units;
    final boolean returnSequences;
    Parameter kernel;
    Parameter recurrentKernel;
    Parameter bias;

    Recurrent(String type, int units, boolean returnSequences) {
        this.units = Check.positive(type, "units", units);
        this.returnSequences = returnSequences;
    }

    /** Gate blocks stacked along the kernels' columns: 1 for SimpleRNN, 4 for LSTM, 3 for GRU. */
    abstract int gates();

    /** The bias at initialisation. */
    abstract Tensor initialBias();

    /** The part of the bias added to the input projection (broadcasts over {@code [batch, time, gates · units]}). */
    abstract Tensor inputBias();

    /** The initial state, hidden state first; each {@code [batch, units]}. */
    Tensor[] initialState(int batch) {
        return new Tensor[] {Tensor.zeros(batch, units)};
    }

    /** One time step from the projected input {@code [batch, gates · units]}; returns the new state, hidden first. */
    abstract Tensor[] step(Tensor projected, Tensor[] state);

    /** Whether every time step's hidden state is returned. */
    public boolean returnSequences() {
        return returnSequences;
    }

    /** Number of units (size of the hidden state). */
    public int units() {
        return units;
    }

    /** The {@code [features, gates · units]} input kernel; null until built. */
    public Parameter kernel() {
        return kernel;
    }

    /** The {@code [units, gates · units]} recurrent kernel; null until built. */
    public Parameter recurrentKernel() {
        return recurrentKernel;
    }

    /** The bias; null until built. */
    public Parameter bias() {
        return bias;
    }

    /** Kernel Glorot uniform, recurrent kernel orthogonal, bias per layer: Keras's defaults. */
    @Override
    protected void onBuild(Shape inputShape) {
        int features = inputShape.dim(1), width = gates() * units;
        kernel = addParameter("kernel", Init.glorotUniform(features, width, features, width));
        recurrentKernel = addParameter("recurrent_kernel", Init.orthogonal(units, width));
        bias = addParameter("bias", initialBias());
    }

    @Override
    protected Tensor call(Tensor x) {
        int batch = x.dim(0), time = x.dim(1), width = gates() * units;
        Tensor projected = x.matmul(kernel.value()).add(inputBias());
        Tensor[] state = initialState(batch);
        List<Tensor> outputs = new ArrayList<>(returnSequences ? time : 0);
        for (int t = 0; t < time; t++) {
            state = step(projected.slice(1, t, t + 1).reshape(batch, width), state);
            if (returnSequences) outputs.add(state[0]);
        }
        return returnSequences ? Tensor.stack(1, outputs) : state[0];
    }

    @Override
    public Shape outputShape(Shape inputShape) {
        if (inputShape.rank() != 2 || inputShape.size() == 0) throw badInput(inputShape, "[time, features] with at least one step and one feature");
        if (kernel != null && inputShape.dim(1) != kernel.value().dim(0))
            throw badInput(inputShape, kernel.value().dim(0) + " features (it was built for that)");
        return returnSequences ? Shape.of(inputShape.dim(0), units) : Shape.of(units);
    }

    /** Input and recurrent matmuls: {@code 2 · time · (features + units) · gates · units}. */
    @Override
    public long flops(Shape inputShape) {
        outputShape(inputShape);
        return 2L * inputShape.dim(0) * (inputShape.dim(1) + units) * gates() * units;
    }

    @Override
    protected void addConfig(Map<String, Object> config) {
        config.put("units", units);
        config.put("return_sequences", returnSequences);
    }
}
