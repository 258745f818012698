package dev.jumbo.privacy;

import dev.jumbo.data.TensorDataset;
import dev.jumbo.kernel.Parallel;
import dev.jumbo.kernel.VectorMath;
import dev.jumbo.loss.Loss;
import dev.jumbo.nn.Module;
import dev.jumbo.nn.Parameter;
import dev.jumbo.optim.Optimizer;
import dev.jumbo.tensor.Tensor;
import java.security.SecureRandom;
import java.util.List;
import java.util.random.RandomGenerator;
import java.util.random.RandomGeneratorFactory;

/**
 * Differentially private SGD (Abadi et al. 2016) with Opacus's semantics, around any optimizer:
 * for a Poisson-sampled batch, each example's gradient over all parameters together is clipped
 * to L2 norm at most {@code maxGradNorm} C (scaled by {@code min(1, C / (norm + 1e-6))}), the
 * clipped gradients are summed, Gaussian noise {@code N(0, (sigma C)^2)} is added to every
 * coordinate of the sum, and the result divided by the EXPECTED batch size becomes the gradient
 * the inner optimizer (SGD, Adam ...) steps with. An empty batch still takes a step of noise.
 *
 * <p>The noise comes from an L64X256MixRandom seeded with 32 bytes of {@link SecureRandom}
 * ({@link #secureNoise()}); tests may pass a seeded generator instead. A step needs one draw
 * per parameter (millions per epoch), which is why this is not {@link SecureNoise}'s draw-by-draw
 * SecureRandom; the floating-point caveat in {@link SecureNoise} applies here too.
 *
 * <pre>{@code
 * Optimizer adam = new Adam(1e-3).bind(model.parameters());
 * var sampler = new PoissonSampler(train.size(), 256, new SplittableRandom());
 * var dp = new DpSgd(adam, 1.1, 1.0, 256, DpSgd.secureNoise());
 * for (int s = 0; s < sampler.batchesPerEpoch(); s++) dp.step(model, loss, train, sampler.next());
 * double eps = RdpAccountant.epsilon(sampler.rate(), 1.1, dp.steps(), 1e-5).epsilon();
 * }</pre>
 */
public final class DpSgd {
    private final Optimizer inner;
    private final double noiseMultiplier;
    private final double maxGradNorm;
    private final int expectedBatchSize;
    private final RandomGenerator noise;
    private long steps;

    /**
     * @param inner             the optimizer that applies the private gradient, bound to the model's parameters
     * @param noiseMultiplier   sigma, the noise's standard deviation in units of {@code maxGradNorm}
     * @param maxGradNorm       C, the largest L2 norm an example's gradient keeps
     * @param expectedBatchSize B = q N, what the noisy sum is divided by
     * @param noise             the Gaussian source ({@link #secureNoise()} outside tests)
     */
    public DpSgd(Optimizer inner, double noiseMultiplier, double maxGradNorm, int expectedBatchSize, RandomGenerator noise) {
        if (!(noiseMultiplier >= 0) || Double.isInfinite(noiseMultiplier))
            throw new IllegalArgumentException("DP-SGD noise multiplier must be finite and >= 0, got " + noiseMultiplier);
        if (!(maxGradNorm > 0) || Double.isInfinite(maxGradNorm))
            throw new IllegalArgumentException("DP-SGD max gradient norm must be positive, got " + maxGradNorm);
        if (expectedBatchSize <= 0) throw new IllegalArgumentException("DP-SGD expected batch size must be positive, got " + expectedBatchSize);
        this.inner = inner;
        this.noiseMultiplier = noiseMultiplier;
        this.maxGradNorm = maxGradNorm;
        this.expectedBatchSize = expectedBatchSize;
        this.noise = noise;
    }

    /** A fast Gaussian source seeded from {@link SecureRandom}. */
    public static RandomGenerator secureNoise() {
        byte[] seed = new byte[32];
        new SecureRandom().nextBytes(seed);
        return RandomGeneratorFactory.of("L64X256MixRandom").create(seed);
    }

    /** Steps taken so far (what the accountant counts). */
    public long steps() {
        return steps;
    }

    /** The noise multiplier sigma. */
    public double noiseMultiplier() {
        return noiseMultiplier;
    }

    /**
     * One private step on the examples {@code indices} of {@code data} (a Poisson-sampled batch).
     *
     * @return the batch's mean loss before the step, NaN for an empty batch
     */
    public double step(Module model, Loss loss, TensorDataset data, int[] indices) {
        List<Parameter> params = model.parameters().stream().filter(Parameter::trainable).toList();
        float[][] sums = new float[params.size()][];
        for (int p = 0; p < sums.length; p++) sums[p] = new float[params.get(p).value().size()];
        double value = Double.NaN;
        if (indices.length > 0) {
            var batch = data.batch(indices);
            var g = PerExampleGradients.compute(model, loss, batch.x(), batch.y());
            value = g.loss();
            addClipped(g, sums);
        }
        double std = noiseMultiplier * maxGradNorm;
        for (int p = 0; p < sums.length; p++) {
            float[] s = sums[p];
            for (int i = 0; i < s.length; i++) s[i] = (float) ((s[i] + std * noise.nextGaussian()) / expectedBatchSize);
            Tensor value0 = params.get(p).value();
            value0.zeroGrad();
            value0.addToGrad(Tensor.of(s, value0.shape()));
        }
        inner.step();
        inner.zeroGrad();
        steps++;
        return value;
    }

    /** Adds each example's gradient, scaled to norm at most C over all parameters, into {@code sums}. */
    void addClipped(PerExampleGradients.Result g, float[][] sums) {
        int batch = g.batch();
        List<float[]> per = g.perExample();
        float[] factor = new float[batch];
        long total = 0;
        for (float[] s : sums) total += s.length;
        Parallel.forEach(batch, total, b -> {
            double sq = 0;
            for (int p = 0; p < sums.length; p++) {
                int n = sums[p].length;
                sq += VectorMath.dot(per.get(p), b * n, per.get(p), b * n, n);
            }
            factor[b] = (float) Math.min(1.0, maxGradNorm / (Math.sqrt(sq) + 1e-6));
        });
        for (int p = 0; p < sums.length; p++) {
            float[] e = per.get(p), s = sums[p];
            int n = s.length;
            // each thread sums its own stretch of coordinates over the examples
            Parallel.forRange(n, batch, (i0, i1) -> {
                for (int b = 0; b < batch; b++) VectorMath.axpy(factor[b], e, b * n + i0, s, i0, i1 - i0);
            });
        }
    }
}
