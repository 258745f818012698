package dev.jumbo.optim;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Cosine decay with an optional linear warm-up (Keras' {@code CosineDecay}). During the first
 * {@code warmupSteps} steps the rate rises linearly from {@code initialLearningRate} to
 * {@code warmupTarget}; then over {@code decaySteps} it falls along a half cosine from
 * {@code warmupTarget} to {@code alpha * warmupTarget}, and stays there. Without warm-up it decays
 * from {@code initialLearningRate}.
 */
public record CosineDecay(double initialLearningRate, long decaySteps, double alpha, double warmupTarget, long warmupSteps) implements LearningRateSchedule {
    public CosineDecay {
        Configs.requireRate("initial learning rate", initialLearningRate);
        if (decaySteps <= 0) throw new IllegalArgumentException("decay steps must be positive, got " + decaySteps);
        if (!(alpha >= 0 && alpha <= 1)) throw new IllegalArgumentException("alpha (the final fraction of the rate) must be in [0, 1], got " + alpha);
        Configs.requireRate("warm-up target", warmupTarget);
        if (warmupSteps < 0) throw new IllegalArgumentException("warm-up steps must be non-negative, got " + warmupSteps);
    }

    /** Decay from {@code initialLearningRate} to {@code alpha * initialLearningRate} in {@code decaySteps}, no warm-up. */
    public CosineDecay(double initialLearningRate, long decaySteps, double alpha) {
        this(initialLearningRate, decaySteps, alpha, initialLearningRate, 0);
    }

    @Override
    public double at(long step) {
        if (step < warmupSteps) return initialLearningRate + (warmupTarget - initialLearningRate) * step / warmupSteps;
        double peak = warmupSteps == 0 ? initialLearningRate : warmupTarget;
        double done = Math.min(step - warmupSteps, decaySteps) / (double) decaySteps;
        return peak * ((1 - alpha) * 0.5 * (1 + Math.cos(Math.PI * done)) + alpha);
    }

    @Override
    public Map<String, Object> config() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("type", "CosineDecay");
        c.put("initial_learning_rate", initialLearningRate);
        c.put("decay_steps", decaySteps);
        c.put("alpha", alpha);
        c.put("warmup_target", warmupTarget);
        c.put("warmup_steps", warmupSteps);
        return c;
    }
}
