package dev.jumbo.federated;

import dev.jumbo.nn.Parameter;
import dev.jumbo.tensor.Tensor;
import java.util.List;

/**
 * SCAFFOLD's drift correction (Karimireddy et al. 2020, control variates by their "option II"),
 * kept by one client from round to round with nothing new on the wire. Each local step uses the
 * gradient plus an offset d = c - c_i (the server's control variate minus the client's); after a
 * round SCAFFOLD sets c_i to c_i - c + (x - y_i) / (K lr) and the server's c to the mean of the
 * c_i, so that, with every client taking part in every round and the server averaging the deltas
 * (FedAvg, server learning rate 1), d grows by (delta_i - mean delta) / (K lr): this client's last
 * delta minus the global model's last move, over its steps times its learning rate. The client
 * sees the global move as the difference of the weights of two consecutive rounds, so it needs no
 * control variate from the server. A client that missed a round keeps its offset as it was.
 *
 * <p>The identity holds for equal weights and equal K lr across clients, as with equal label
 * shards; with unequal ones the offset is an approximation of SCAFFOLD's.
 *
 * <pre>{@code
 * var drift = new DriftCorrection();
 * training.run(model, data, 0, round, drift);   // each round, the same object
 * }</pre>
 */
public final class DriftCorrection {
    private float[][] offset, lastGlobal, lastDelta;
    private int lastRound = Integer.MIN_VALUE;
    private double lastStepLength;

    /** Called with the model at the round's global weights: brings the offset up to date. */
    void start(List<Parameter> params, int round) {
        float[][] global = values(params);
        if (offset == null) {
            offset = new float[global.length][];
            for (int i = 0; i < global.length; i++) offset[i] = new float[global[i].length];
        } else if (offset.length != global.length) {
            throw new IllegalStateException("the model changed shape between rounds (" + offset.length + " then " + global.length + " parameters)");
        }
        if (lastRound == round - 1 && lastGlobal != null) {
            float scale = (float) (1 / lastStepLength);
            for (int i = 0; i < global.length; i++)
                for (int j = 0; j < global[i].length; j++) {
                    float globalMove = global[i][j] - lastGlobal[i][j];
                    offset[i][j] += (lastDelta[i][j] - globalMove) * scale;
                }
        }
        lastGlobal = global;
    }

    /** grad += offset, for each parameter with a gradient. */
    void addTo(List<Parameter> params) {
        for (int i = 0; i < params.size(); i++) {
            Tensor g = params.get(i).value().grad();
            if (g == null) continue;
            float[] grad = g.buffer(), d = offset[i];
            for (int j = 0; j < d.length; j++) grad[j] += d[j];
        }
    }

    /** Called after local training: remembers this round's delta and K lr. */
    void finish(List<Parameter> params, int round, int steps, double learningRate) {
        float[][] local = values(params);
        lastDelta = new float[local.length][];
        for (int i = 0; i < local.length; i++) {
            lastDelta[i] = local[i];
            for (int j = 0; j < local[i].length; j++) lastDelta[i][j] -= lastGlobal[i][j];
        }
        lastRound = round;
        lastStepLength = steps * learningRate;
    }

    /** The offset's Euclidean norm (0 before the second round). */
    public double norm() {
        double s = 0;
        if (offset != null) for (float[] d : offset) for (float v : d) s += (double) v * v;
        return Math.sqrt(s);
    }

    private static float[][] values(List<Parameter> params) {
        float[][] out = new float[params.size()][];
        for (int i = 0; i < out.length; i++) out[i] = params.get(i).value().toFloatArray();
        return out;
    }
}
