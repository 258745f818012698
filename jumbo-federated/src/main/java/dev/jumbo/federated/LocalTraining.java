package dev.jumbo.federated;

import dev.jumbo.data.Batch;
import dev.jumbo.data.DataLoader;
import dev.jumbo.data.Dataset;
import dev.jumbo.loss.Loss;
import dev.jumbo.loss.Losses;
import dev.jumbo.nn.Module;
import dev.jumbo.nn.Parameter;
import dev.jumbo.optim.SGD;
import dev.jumbo.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A client's local training in one round: {@code epochs} passes of minibatch SGD (with momentum,
 * its state fresh each round) over the client's own data, starting from the global weights. With
 * {@code mu > 0} it is FedProx's local problem (Li et al. 2020): the loss plus
 * mu/2 ||w - w_global||^2, whose gradient mu (w - w_global) is added to each parameter's gradient
 * before the step.
 *
 * <pre>{@code
 * new LocalTraining(1, 32, 0.05, 0.9, 7).run(model, clientData, 0.01, round);
 * }</pre>
 */
public record LocalTraining(int epochs, int batchSize, double learningRate, double momentum, long seed) {
    public LocalTraining {
        if (epochs < 1) throw new IllegalArgumentException("local epochs must be at least 1, got " + epochs);
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
        if (!(learningRate > 0 && Double.isFinite(learningRate))) throw new IllegalArgumentException("learning rate must be positive, got " + learningRate);
        if (!(momentum >= 0 && momentum < 1)) throw new IllegalArgumentException("momentum must be in [0, 1), got " + momentum);
    }

    /**
     * Trains {@code model} in place from its current weights; returns the mean training loss of
     * the last epoch (the data term alone).
     *
     * @throws IllegalStateException if the loss stops being finite
     */
    public double run(Module model, Dataset data, double mu, int round) {
        if (!(mu >= 0)) throw new IllegalArgumentException("FedProx mu must be >= 0, got " + mu);
        Loss loss = Losses.of("sparse_categorical_crossentropy");
        List<Parameter> params = model.parameters();
        List<Tensor> values = new ArrayList<>();
        float[][] anchor = new float[params.size()][];
        for (int i = 0; i < params.size(); i++) {
            values.add(params.get(i).value());
            anchor[i] = params.get(i).value().toFloatArray();
        }
        SGD sgd = new SGD(learningRate, momentum, false);
        sgd.bind(values);
        model.train(true);
        double last = Double.NaN;
        for (int epoch = 0; epoch < epochs; epoch++) {
            double sum = 0;
            int seen = 0;
            // one order per (seed, round, epoch): a client's run is repeatable
            Random order = new Random(seed * 1_000_003L + round * 101L + epoch);
            for (Batch b : new DataLoader(data, batchSize, true, false, order)) {
                Tensor value = loss.compute(model.forward(b.x()), b.y());
                float l = value.item();
                if (!Float.isFinite(l))
                    throw new IllegalStateException("local loss became " + l + " in round " + round + ", epoch " + (epoch + 1) + " (lower --lr)");
                sgd.zeroGrad();
                value.backward();
                if (mu > 0) addProximalGradient(values, anchor, (float) mu);
                sgd.step();
                sum += (double) l * b.x().dim(0);
                seen += b.x().dim(0);
            }
            last = sum / seen;
        }
        return last;
    }

    /** grad += mu (w - w_global): the gradient of mu/2 ||w - w_global||^2. */
    static void addProximalGradient(List<Tensor> values, float[][] anchor, float mu) {
        for (int i = 0; i < values.size(); i++) {
            Tensor p = values.get(i);
            if (p.grad() == null) continue;
            float[] w = p.buffer(), g = p.grad().buffer(), w0 = anchor[i];
            for (int j = 0; j < w.length; j++) g[j] += mu * (w[j] - w0[j]);
        }
    }
}
