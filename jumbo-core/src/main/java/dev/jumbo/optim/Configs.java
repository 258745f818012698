package dev.jumbo.optim;

import java.util.List;
import java.util.Map;

/** Reading numbers back from JSON-ready config maps, whose numbers may arrive as any {@link Number}. */
final class Configs {
    private Configs() {}

    /** Checks a rate: finite and non-negative. */
    static double requireRate(String what, double value) {
        if (!(value >= 0) || Double.isInfinite(value)) throw new IllegalArgumentException(what + " must be a finite non-negative number, got " + value);
        return value;
    }

    static double number(Map<String, Object> config, String key) {
        return number(key, require(config, key));
    }

    static double number(String key, Object v) {
        if (!(v instanceof Number n)) throw new IllegalArgumentException("config \"" + key + "\" is not a number: " + v);
        return n.doubleValue();
    }

    static long integer(Map<String, Object> config, String key) {
        return integer(key, require(config, key));
    }

    static long integer(String key, Object v) {
        double d = number(key, v);
        if (d != Math.rint(d) || Math.abs(d) > 0x1p53) throw new IllegalArgumentException("config \"" + key + "\" is not an integer: " + v);
        return v instanceof Long l ? l : (long) d;
    }

    static boolean bool(Map<String, Object> config, String key) {
        if (!(require(config, key) instanceof Boolean b)) throw new IllegalArgumentException("config \"" + key + "\" is not a boolean: " + config.get(key));
        return b;
    }

    static List<?> list(Map<String, Object> config, String key) {
        if (!(require(config, key) instanceof List<?> l)) throw new IllegalArgumentException("config \"" + key + "\" is not a list: " + config.get(key));
        return l;
    }

    private static Object require(Map<String, Object> config, String key) {
        Object v = config.get(key);
        if (v == null) throw new IllegalArgumentException("config has no \"" + key + "\": " + config);
        return v;
    }
}
