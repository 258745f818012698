package dev.jumbo.privacy;

import dev.jumbo.data.TensorDataset;
import dev.jumbo.loss.Loss;
import dev.jumbo.nn.Module;
import dev.jumbo.optim.Optimizer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.random.RandomGenerator;

/**
 * A DP-SGD training loop: epochs of {@code ceil(n / B)} Poisson-sampled batches through
 * {@link DpSgd}, with the privacy spent so far ({@link RdpAccountant}, improved conversion) after
 * every epoch.
 *
 * <pre>{@code
 * var settings = new DpTrainer.Settings(256, DpTrainer.noiseFor(3, 1e-5, train.size(), 256, 20), 1.0, 1e-5, 20);
 * var trainer = new DpTrainer(model, new Adam(1e-3), new SparseCategoricalCrossentropy(), settings,
 *         new SplittableRandom(), DpSgd.secureNoise());
 * trainer.fit(train, e -> System.out.println("epsilon " + e.epsilon()));
 * }</pre>
 */
public final class DpTrainer {
    /** What a private run is configured with. */
    public record Settings(int expectedBatchSize, double noiseMultiplier, double maxGradNorm, double delta, int epochs) {
        public Settings {
            if (epochs <= 0) throw new IllegalArgumentException("DP training needs at least one epoch, got " + epochs);
            if (!(delta > 0 && delta < 1)) throw new IllegalArgumentException("delta must be in (0, 1), got " + delta);
        }
    }

    /** One epoch's mean training loss and the privacy spent after it. */
    public record Epoch(int epoch, double loss, long steps, double epsilon, double order) {}

    private final Module model;
    private final Optimizer inner;
    private final Loss loss;
    private final Settings settings;
    private final RandomGenerator sampling;
    private final RandomGenerator noise;

    /**
     * @param inner    the optimizer that applies the private gradients; bound here to the model's trainable parameters
     * @param sampling drives Poisson sampling
     * @param noise    the Gaussian noise source, {@link DpSgd#secureNoise()} outside tests
     * @throws IllegalArgumentException if the model holds a layer without per-example gradients
     */
    public DpTrainer(Module model, Optimizer inner, Loss loss, Settings settings, RandomGenerator sampling, RandomGenerator noise) {
        PerExampleGradients.requireSupported(model);
        this.model = model;
        this.inner = inner;
        this.loss = loss;
        this.settings = settings;
        this.sampling = sampling;
        this.noise = noise;
    }

    /**
     * The noise multiplier that spends {@code targetEpsilon} (improved conversion) over
     * {@code epochs} epochs of {@code ceil(n / batchSize)} steps at rate {@code batchSize / n}.
     */
    public static double noiseFor(double targetEpsilon, double delta, int n, int batchSize, int epochs) {
        return RdpAccountant.noiseFor(targetEpsilon, delta, (double) batchSize / n, stepsOf(n, batchSize, epochs));
    }

    /** Steps of {@code epochs} epochs: {@code epochs * ceil(n / batchSize)}. */
    public static long stepsOf(int n, int batchSize, int epochs) {
        if (batchSize <= 0 || batchSize > n) throw new IllegalArgumentException("need 0 < batch size <= n, got batch size " + batchSize + " and n " + n);
        return (long) epochs * Math.ceilDiv(n, batchSize);
    }

    /** Trains for the configured epochs, calling {@code onEpoch} after each; returns them all. */
    public List<Epoch> fit(TensorDataset train, Consumer<Epoch> onEpoch) {
        var sampler = new PoissonSampler(train.size(), settings.expectedBatchSize(), sampling);
        inner.bind(model.parameters().stream().filter(p -> p.trainable()).map(p -> p.value()).toList());
        var dp = new DpSgd(inner, settings.noiseMultiplier(), settings.maxGradNorm(), settings.expectedBatchSize(), noise);
        List<Epoch> epochs = new ArrayList<>();
        model.train(true);
        try {
            for (int e = 1; e <= settings.epochs(); e++) {
                double sum = 0;
                long examples = 0;
                for (int s = 0; s < sampler.batchesPerEpoch(); s++) {
                    int[] batch = sampler.next();
                    double l = dp.step(model, loss, train, batch);
                    if (batch.length > 0) {
                        sum += l * batch.length;
                        examples += batch.length;
                    }
                }
                var spent = RdpAccountant.epsilon(sampler.rate(), settings.noiseMultiplier(), dp.steps(), settings.delta());
                Epoch epoch = new Epoch(e, examples == 0 ? Double.NaN : sum / examples, dp.steps(), spent.epsilon(), spent.order());
                epochs.add(epoch);
                onEpoch.accept(epoch);
            }
        } finally {
            model.train(false);
        }
        return epochs;
    }
}
