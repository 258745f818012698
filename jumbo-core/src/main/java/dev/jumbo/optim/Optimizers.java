package dev.jumbo.optim;

import java.util.Locale;
import java.util.Map;

/**
 * Optimizers by Keras identifier (as {@code compile(optimizer = "adam")} names them) and from
 * {@link Optimizer#config()}.
 */
public final class Optimizers {
    private Optimizers() {}

    /**
     * A new optimizer with Keras' default learning rate: {@code "sgd"} (0.01), {@code "adam"},
     * {@code "adamw"}, {@code "rmsprop"} or {@code "adagrad"} (0.001).
     *
     * @throws IllegalArgumentException naming {@code id} when it is not one of these
     */
    public static Optimizer of(String id) {
        return switch (id == null ? "" : id.toLowerCase(Locale.ROOT)) {
            case "sgd" -> new SGD(0.01);
            case "adam" -> new Adam(0.001);
            case "adamw" -> new AdamW(0.001);
            case "rmsprop" -> new RMSprop(0.001);
            case "adagrad" -> new AdaGrad(0.001);
            default -> throw new IllegalArgumentException("unknown optimizer \"" + id + "\"; known: sgd, adam, adamw, rmsprop, adagrad");
        };
    }

    /** The optimizer described by {@link Optimizer#config()}, unbound, with its schedule and clipping. */
    @SuppressWarnings("unchecked")
    public static Optimizer fromConfig(Map<String, Object> c) {
        Object type = c.get("type");
        Object rate = c.get("learning_rate");
        LearningRateSchedule schedule = rate instanceof Map<?, ?> m ? LearningRateSchedule.fromConfig((Map<String, Object>) m) : null;
        double lr = schedule != null ? 0 : Configs.number(c, "learning_rate");
        Optimizer opt = switch (type instanceof String s ? s.toLowerCase(Locale.ROOT) : "") {
            case "sgd" -> new SGD(lr, Configs.number(c, "momentum"), Configs.bool(c, "nesterov"), Configs.number(c, "weight_decay"));
            case "adam" -> new Adam(lr, Configs.number(c, "beta_1"), Configs.number(c, "beta_2"), Configs.number(c, "epsilon"));
            case "adamw" -> new AdamW(lr, Configs.number(c, "beta_1"), Configs.number(c, "beta_2"), Configs.number(c, "epsilon"), Configs.number(c, "weight_decay"));
            case "rmsprop" -> new RMSprop(lr, Configs.number(c, "rho"), Configs.number(c, "momentum"), Configs.number(c, "epsilon"), Configs.bool(c, "centered"));
            case "adagrad" -> new AdaGrad(lr, Configs.number(c, "initial_accumulator_value"), Configs.number(c, "epsilon"));
            default -> throw new IllegalArgumentException("unknown optimizer type \"" + type + "\"; known: SGD, Adam, AdamW, RMSprop, AdaGrad");
        };
        if (schedule != null) opt.schedule(schedule);
        if (c.containsKey("global_clipnorm")) opt.clipNorm(Configs.number(c, "global_clipnorm"));
        if (c.containsKey("clipvalue")) opt.clipValue(Configs.number(c, "clipvalue"));
        return opt;
    }
}
