package dev.jumbo.optim;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code values[0]} up to and including step {@code boundaries[0]}, {@code values[1]} up to
 * {@code boundaries[1]}, ..., and the last value after the last boundary (Keras'
 * {@code PiecewiseConstantDecay}; PyTorch's {@code MultiStepLR} with explicit rates).
 *
 * <pre>{@code
 * new PiecewiseConstant(List.of(1000L, 2000L), List.of(0.1, 0.01, 0.001));
 * }</pre>
 */
public record PiecewiseConstant(List<Long> boundaries, List<Double> values) implements LearningRateSchedule {
    public PiecewiseConstant {
        boundaries = List.copyOf(boundaries);
        values = List.copyOf(values);
        if (values.size() != boundaries.size() + 1)
            throw new IllegalArgumentException("piecewise constant schedule needs one more value than boundaries, got " + boundaries.size() + " boundaries and " + values.size() + " values");
        for (int i = 1; i < boundaries.size(); i++)
            if (boundaries.get(i) <= boundaries.get(i - 1)) throw new IllegalArgumentException("boundaries must increase: " + boundaries);
        for (double v : values) Configs.requireRate("learning rate", v);
    }

    @Override
    public double at(long step) {
        int i = 0;
        while (i < boundaries.size() && step > boundaries.get(i)) i++;
        return values.get(i);
    }

    @Override
    public Map<String, Object> config() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("type", "PiecewiseConstant");
        c.put("boundaries", boundaries);
        c.put("values", values);
        return c;
    }
}
