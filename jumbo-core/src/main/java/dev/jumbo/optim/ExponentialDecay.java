package dev.jumbo.optim;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code initial * rate^(step / decaySteps)}, with the exponent floored when {@code staircase}
 * (Keras' {@code ExponentialDecay}; with staircase it is PyTorch's {@code StepLR}).
 */
public record ExponentialDecay(double initialLearningRate, long decaySteps, double decayRate, boolean staircase) implements LearningRateSchedule {
    public ExponentialDecay {
        Configs.requireRate("initial learning rate", initialLearningRate);
        if (decaySteps <= 0) throw new IllegalArgumentException("decay steps must be positive, got " + decaySteps);
        Configs.requireRate("decay rate", decayRate);
    }

    @Override
    public double at(long step) {
        double p = (double) step / decaySteps;
        return initialLearningRate * Math.pow(decayRate, staircase ? Math.floor(p) : p);
    }

    @Override
    public Map<String, Object> config() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("type", "ExponentialDecay");
        c.put("initial_learning_rate", initialLearningRate);
        c.put("decay_steps", decaySteps);
        c.put("decay_rate", decayRate);
        c.put("staircase", staircase);
        return c;
    }
}
