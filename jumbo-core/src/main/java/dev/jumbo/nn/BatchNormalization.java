package dev.jumbo.nn;

import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import java.util.Map;

/**
 * Batch normalization over every axis but the last (channels), Keras conventions. While
 * training it normalises with the batch's mean and (biased) variance and moves the buffers
 * {@code moving = momentum · moving + (1 - momentum) · batch}; otherwise it uses the moving
 * statistics. A frozen layer ({@code trainable(false)}) always uses the moving statistics and
 * never updates them, even in training mode, as Keras does since TF 2. Output:
 * {@code gamma · (x - mean) / sqrt(var + epsilon) + beta}.
 *
 * <pre>{@code
 * Layer bn = new BatchNormalization();   // momentum 0.99, epsilon 1e-3
 * bn.train(false);                       // inference: moving statistics, no updates
 * }</pre>
 */
public final class BatchNormalization extends Layer {
    private final double momentum;
    private final double epsilon;
    private Parameter gamma;
    private Parameter beta;
    private Tensor movingMean;
    private Tensor movingVariance;

    /** Keras defaults: momentum 0.99, epsilon 1e-3. */
    public BatchNormalization() {
        this(0.99, 1e-3);
    }

    /** {@code momentum} in [0, 1], {@code epsilon} positive. */
    public BatchNormalization(double momentum, double epsilon) {
        if (!(momentum >= 0 && momentum <= 1))
            throw new IllegalArgumentException("BatchNormalization momentum must be in [0, 1], got " + momentum);
        this.momentum = momentum;
        this.epsilon = Check.positive("BatchNormalization", "epsilon", epsilon);
    }

    /** The moving mean per channel (a buffer, updated in place while training); null until built. */
    public Tensor movingMean() {
        return movingMean;
    }

    /** The moving variance per channel (a buffer, updated in place while training); null until built. */
    public Tensor movingVariance() {
        return movingVariance;
    }

    @Override
    protected void onBuild(Shape inputShape) {
        int c = inputShape.dim(-1);
        gamma = addParameter("gamma", Tensor.ones(c));
        beta = addParameter("beta", Init.zeros(c));
        movingMean = addBuffer("moving_mean", Init.zeros(c));
        movingVariance = addBuffer("moving_variance", Tensor.ones(c));
    }

    @Override
    protected Tensor call(Tensor x) {
        int c = x.dim(-1);
        Tensor flat = x.reshape(-1, c);
        Tensor normalised;
        // a frozen BN normalises with its moving statistics and leaves them alone (Keras since TF 2):
        // fine-tuning a frozen backbone must not drift statistics learnt on the original data
        if (isTraining() && trainable()) {
            Tensor mean = flat.mean(0, false);
            Tensor centered = flat.sub(mean);
            Tensor variance = centered.square().mean(0, false);
            updateMoving(movingMean, mean);
            updateMoving(movingVariance, variance);
            normalised = centered.div(variance.add((float) epsilon).sqrt());
        } else {
            normalised = flat.sub(movingMean).div(movingVariance.add((float) epsilon).sqrt());
        }
        return normalised.mul(gamma.value()).add(beta.value()).reshape(x.shape().toArray());
    }

    /** Reads the batch statistic's values only: the update is bookkeeping, not part of the graph. */
    private void updateMoving(Tensor moving, Tensor batch) {
        float[] m = moving.buffer(), b = batch.toFloatArray();
        for (int i = 0; i < m.length; i++) m[i] = (float) (momentum * m[i] + (1 - momentum) * b[i]);
    }

    @Override
    public Shape outputShape(Shape inputShape) {
        if (inputShape.rank() < 1 || inputShape.dim(-1) == 0) throw badInput(inputShape, "rank >= 1 with a non-empty channel (last) axis");
        if (gamma != null && inputShape.dim(-1) != gamma.value().dim(0))
            throw badInput(inputShape, gamma.value().dim(0) + " channels (it was built for that)");
        return inputShape;
    }

    @Override
    protected void addConfig(Map<String, Object> config) {
        config.put("momentum", momentum);
        config.put("epsilon", epsilon);
    }
}
