package dev.jumbo.nn;

import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import java.util.Map;
import java.util.Random;

/**
 * Inverted dropout: while training, zeroes each element with probability {@code rate} and
 * scales the survivors by {@code 1 / (1 - rate)}, so the expected value is unchanged and
 * inference needs no rescaling; outside training it is the identity. Masks come from
 * {@link Init#random()}.
 */
public final class Dropout extends Layer {
    private final double rate;

    /** Drops with probability {@code rate} in [0, 1). */
    public Dropout(double rate) {
        this.rate = Check.inRange("Dropout", "rate", rate, 0, 1);
    }

    /** The drop probability. */
    public double rate() {
        return rate;
    }

    @Override
    protected void onBuild(Shape inputShape) {}

    @Override
    protected Tensor call(Tensor x) {
        if (!isTraining() || rate == 0) return x;
        Random random = Init.random();
        float keep = (float) (1 - rate), scale = 1 / keep;
        float[] mask = new float[x.size()];
        for (int i = 0; i < mask.length; i++) mask[i] = random.nextFloat() < keep ? scale : 0f;
        return x.mul(Tensor.of(mask, x.shape()));
    }

    @Override
    public Shape outputShape(Shape inputShape) {
        return inputShape;
    }

    @Override
    protected void addConfig(Map<String, Object> config) {
        config.put("rate", rate);
    }
}
