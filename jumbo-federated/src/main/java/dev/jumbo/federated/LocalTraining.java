package dev.jumbo.federated;

import dev.jumbo.data.Batch;
import dev.jumbo.data.DataLoader;
import dev.jumbo.data.Dataset;
import dev.jumbo.loss.Loss;
import dev.jumbo.loss.Losses;
import dev.jumbo.loss.SparseCategoricalCrossentropy;
import dev.jumbo.nn.Module;
import dev.jumbo.nn.Parameter;
import dev.jumbo.optim.SGD;
import dev.jumbo.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * A client's local training in one round: {@code epochs} passes of minibatch SGD (with momentum,
 * its state fresh each round) over the client's own data, starting from the global weights. With
 * {@code mu > 0} it is FedProx's local problem (Li et al. 2020): the loss plus
 * mu/2 ||w - w_global||^2, whose gradient mu (w - w_global) is added to each parameter's gradient
 * before the step.
 *
 * <p>Settings for data whose labels are split unevenly among clients, all on the client's
 * side only (the server still averages, so FedAvg stays FedAvg; README "Federated learning" has
 * what each did under 2-class label shards):
 * <ul>
 *   <li>{@code absentClassScale} below 1 is FedRS's restricted softmax (Li and Zhan 2021): the
 *       logits of classes this client has no example of are multiplied by it before the softmax,
 *       so a client holding two classes stops pushing the other classes' outputs down, the drift
 *       that makes the averaged model forget them. 1 is the plain softmax; 0 leaves those
 *       classes' weights untouched.</li>
 *   <li>{@code fixedHead} keeps the last layer with weights (the classifier) at what the server
 *       sent, as FedBABU does (Oh et al. 2022): every client then fits its features to the same
 *       class directions instead of turning the classifier towards its own classes.</li>
 *   <li>{@code driftCorrection}: SCAFFOLD's control variates, kept by the client alone
 *       ({@link DriftCorrection}).</li>
 *   <li>{@code learningRateDecay} multiplies the learning rate each round (round r uses
 *       lr * decay^(r-1)), so later rounds move the clients apart less.</li>
 * </ul>
 *
 * <pre>{@code
 * new LocalTraining(1, 32, 0.05, 0.9, 7).withRestrictedSoftmax(0.5).run(model, clientData, 0.01, round);
 * }</pre>
 */
public record LocalTraining(int epochs, int batchSize, double learningRate, double momentum, long seed,
                            double absentClassScale, double learningRateDecay, boolean fixedHead, boolean driftCorrection) {
    public LocalTraining {
        if (epochs < 1) throw new IllegalArgumentException("local epochs must be at least 1, got " + epochs);
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
        if (!(learningRate > 0 && Double.isFinite(learningRate))) throw new IllegalArgumentException("learning rate must be positive, got " + learningRate);
        if (!(momentum >= 0 && momentum < 1)) throw new IllegalArgumentException("momentum must be in [0, 1), got " + momentum);
        if (!(absentClassScale >= 0 && absentClassScale <= 1)) throw new IllegalArgumentException("the restricted softmax's scale must be in [0, 1], got " + absentClassScale);
        if (!(learningRateDecay > 0 && learningRateDecay <= 1)) throw new IllegalArgumentException("learning rate decay must be in (0, 1], got " + learningRateDecay);
    }

    /** Plain softmax, constant learning rate. */
    public LocalTraining(int epochs, int batchSize, double learningRate, double momentum, long seed) {
        this(epochs, batchSize, learningRate, momentum, seed, 1, 1, false, false);
    }

    /** The same with FedRS's scale for the logits of classes the client lacks. */
    public LocalTraining withRestrictedSoftmax(double scale) {
        return new LocalTraining(epochs, batchSize, learningRate, momentum, seed, scale, learningRateDecay, fixedHead, driftCorrection);
    }

    /** The same with the learning rate multiplied by {@code decay} each round. */
    public LocalTraining withLearningRateDecay(double decay) {
        return new LocalTraining(epochs, batchSize, learningRate, momentum, seed, absentClassScale, decay, fixedHead, driftCorrection);
    }

    /** The same with another seed (each client its own batch order). */
    public LocalTraining withSeed(long seed) {
        return new LocalTraining(epochs, batchSize, learningRate, momentum, seed, absentClassScale, learningRateDecay, fixedHead, driftCorrection);
    }

    /** The same with the last layer (the classifier) kept at the weights the server sent. */
    public LocalTraining withFixedHead(boolean fixed) {
        return new LocalTraining(epochs, batchSize, learningRate, momentum, seed, absentClassScale, learningRateDecay, fixed, driftCorrection);
    }

    /**
     * The same with SCAFFOLD's drift correction, for a client that keeps a {@link DriftCorrection}
     * from round to round ({@link FederatedClient} does when this is set).
     */
    public LocalTraining withDriftCorrection(boolean on) {
        return new LocalTraining(epochs, batchSize, learningRate, momentum, seed, absentClassScale, learningRateDecay, fixedHead, on);
    }

    /** The learning rate of round {@code round} (from 1). */
    public double learningRate(int round) {
        return learningRate * Math.pow(learningRateDecay, Math.max(0, round - 1));
    }

    /**
     * Trains {@code model} in place from its current weights; returns the mean training loss of
     * the last epoch (the data term alone).
     *
     * @throws IllegalStateException if the loss stops being finite
     */
    public double run(Module model, Dataset data, double mu, int round) {
        return run(model, data, mu, round, null);
    }

    /**
     * The same with SCAFFOLD's correction added to every gradient ({@code drift} null: none); the
     * same {@link DriftCorrection} must come back every round.
     */
    public double run(Module model, Dataset data, double mu, int round, DriftCorrection drift) {
        if (!(mu >= 0)) throw new IllegalArgumentException("FedProx mu must be >= 0, got " + mu);
        Loss loss = Losses.of("sparse_categorical_crossentropy");
        List<Parameter> params = model.parameters();
        List<Parameter> head = fixedHead ? head(model) : List.of();
        List<Tensor> values = new ArrayList<>();
        for (Parameter p : params) if (!head.contains(p)) values.add(p.value());
        // FedProx's anchor: the weights the server sent
        float[][] anchor = mu > 0 ? values.stream().map(Tensor::toFloatArray).toArray(float[][]::new) : null;
        SGD sgd = new SGD(learningRate(round), momentum, false);
        boolean[] present = absentClassScale < 1 ? presentClasses(data) : null;
        sgd.bind(values);
        if (drift != null) drift.start(params, round);
        model.train(true);
        // a fixed head gets no gradient at all (its input still does), rather than one computed and never used
        for (Parameter p : head) p.value().requiresGrad(false);
        try {
            return epochs(model, data, loss, present, sgd, values, anchor, (float) mu, drift, params, round);
        } finally {
            for (Parameter p : head) p.value().requiresGrad(true);
        }
    }

    private double epochs(Module model, Dataset data, Loss loss, boolean[] present, SGD sgd, List<Tensor> values, float[][] anchor,
                          float mu, DriftCorrection drift, List<Parameter> params, int round) {
        int steps = 0;
        double last = Double.NaN;
        for (int epoch = 0; epoch < epochs; epoch++) {
            double sum = 0;
            int seen = 0;
            // one order per (seed, round, epoch): a client's run is repeatable
            Random order = new Random(seed * 1_000_003L + round * 101L + epoch);
            for (Batch b : new DataLoader(data, batchSize, true, false, order)) {
                Tensor out = model.forward(b.x());
                Tensor value = present == null ? loss.compute(out, b.y()) : restrictedLoss(out, present, b.y());
                float l = value.item();
                if (!Float.isFinite(l))
                    throw new IllegalStateException("local loss became " + l + " in round " + round + ", epoch " + (epoch + 1) + " (lower --lr)");
                sgd.zeroGrad();
                value.backward();
                if (mu > 0) addProximalGradient(values, anchor, mu);
                if (drift != null) drift.addTo(params);
                sgd.step();
                steps++;
                sum += (double) l * b.x().dim(0);
                seen += b.x().dim(0);
            }
            last = sum / seen;
        }
        if (drift != null) drift.finish(params, round, steps, learningRate(round));
        return last;
    }

    private static List<Parameter> head(Module model) {
        if (!(model instanceof dev.jumbo.train.Sequential seq))
            throw new IllegalArgumentException("a fixed head needs a Sequential model (its last layer with weights is the head), got " + model.getClass().getSimpleName());
        for (int i = seq.layers().size() - 1; i >= 0; i--)
            if (!seq.layers().get(i).parameters().isEmpty()) return seq.layers().get(i).parameters();
        throw new IllegalArgumentException("the model has no layer with weights");
    }

    /** Cross-entropy of the logits with those of absent classes scaled (FedRS). */
    private Tensor restrictedLoss(Tensor probabilities, boolean[] present, Tensor labels) {
        Tensor logits = probabilities.logitsOf(Tensor.Squash.SOFTMAX);
        if (logits == null) throw new IllegalArgumentException("the restricted softmax needs a model whose last layer is a softmax");
        int classes = logits.dim(-1);
        if (present.length > classes)
            throw new IllegalArgumentException("the model has " + classes + " outputs but the client's labels reach class " + (present.length - 1));
        float[] scale = new float[classes];
        for (int c = 0; c < classes; c++) scale[c] = c < present.length && present[c] ? 1f : (float) absentClassScale;
        return new SparseCategoricalCrossentropy(true).compute(logits.mul(Tensor.of(scale, classes)), labels);
    }

    /** Which classes the client has an example of (indexed by class, as long as its largest label + 1). */
    static boolean[] presentClasses(Dataset data) {
        boolean[] present = new boolean[0];
        float[] labels;
        if (data instanceof dev.jumbo.data.TensorDataset t) {
            labels = t.y().toFloatArray(); // the labels alone, not a copy of every input
        } else {
            int[] all = new int[data.size()];
            for (int i = 0; i < all.length; i++) all[i] = i;
            labels = data.batch(all).y().toFloatArray();
        }
        for (float label : labels) {
            int c = (int) label;
            if (c < 0 || c != label) throw new IllegalArgumentException("the restricted softmax needs integer class labels, got " + label);
            if (c >= present.length) present = Arrays.copyOf(present, c + 1);
            present[c] = true;
        }
        return present;
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
