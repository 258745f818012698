package dev.jumbo.optim;

import java.util.Map;

/**
 * The learning rate as a function of the optimizer's iteration count (0 for the first update),
 * Keras' {@code LearningRateSchedule}.
 *
 * <pre>{@code
 * Optimizer opt = new Adam(1e-3).schedule(new CosineDecay(0, 10_000, 0.0, 1e-3, 500));  // 500 warm-up steps
 * }</pre>
 */
public interface LearningRateSchedule {
    /** The learning rate for the update made at iteration {@code step}. */
    double at(long step);

    /** A JSON-ready description with a {@code "type"} and Keras' argument names; {@link #fromConfig} reverses it. */
    Map<String, Object> config();

    /** The schedule described by {@link #config()}. */
    static LearningRateSchedule fromConfig(Map<String, Object> config) {
        String type = config.get("type") instanceof String s ? s : null;
        return switch (type) {
            case "Constant" -> new Constant(Configs.number(config, "learning_rate"));
            case "ExponentialDecay" -> new ExponentialDecay(Configs.number(config, "initial_learning_rate"), Configs.integer(config, "decay_steps"),
                    Configs.number(config, "decay_rate"), Configs.bool(config, "staircase"));
            case "PiecewiseConstant" -> new PiecewiseConstant(Configs.list(config, "boundaries").stream().map(b -> Configs.integer("boundaries", b)).toList(),
                    Configs.list(config, "values").stream().map(v -> Configs.number("values", v)).toList());
            case "CosineDecay" -> new CosineDecay(Configs.number(config, "initial_learning_rate"), Configs.integer(config, "decay_steps"),
                    Configs.number(config, "alpha"), Configs.number(config, "warmup_target"), Configs.integer(config, "warmup_steps"));
            case null, default -> throw new IllegalArgumentException("unknown learning-rate schedule type \"" + config.get("type") + "\"; known: Constant, ExponentialDecay, PiecewiseConstant, CosineDecay");
        };
    }
}
