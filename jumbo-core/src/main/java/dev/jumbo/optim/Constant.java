package dev.jumbo.optim;

import java.util.LinkedHashMap;
import java.util.Map;

/** The same learning rate at every step. */
public record Constant(double learningRate) implements LearningRateSchedule {
    public Constant {
        Configs.requireRate("learning rate", learningRate);
    }

    @Override
    public double at(long step) {
        return learningRate;
    }

    @Override
    public Map<String, Object> config() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("type", "Constant");
        c.put("learning_rate", learningRate);
        return c;
    }
}
