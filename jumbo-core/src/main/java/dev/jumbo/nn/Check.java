package dev.jumbo.nn;

/** Constructor argument checks whose messages quote the bad value, shared by the layers. */
final class Check {
    private Check() {}

    /** Returns {@code value} if positive. */
    static int positive(String layer, String what, int value) {
        if (value <= 0) throw new IllegalArgumentException(layer + " " + what + " must be positive, got " + value);
        return value;
    }

    /** True for "same", false for "valid" (case-insensitive). */
    static boolean same(String layer, String padding) {
        if ("same".equalsIgnoreCase(padding)) return true;
        if ("valid".equalsIgnoreCase(padding)) return false;
        throw new IllegalArgumentException(layer + " padding must be 'valid' or 'same', got '" + padding + "'");
    }

    /** Returns {@code a}, rejecting null. */
    static Activation activation(String layer, Activation a) {
        if (a == null) throw new IllegalArgumentException(layer + " activation must not be null (use Activation.LINEAR)");
        return a;
    }

    /** Returns {@code value} if it lies in [lo, hi). */
    static double inRange(String layer, String what, double value, double lo, double hi) {
        if (!(value >= lo && value < hi)) throw new IllegalArgumentException(layer + " " + what + " must be in [" + lo + ", " + hi + "), got " + value);
        return value;
    }

    /** Returns {@code value} if positive and finite. */
    static double positive(String layer, String what, double value) {
        if (!(value > 0 && Double.isFinite(value))) throw new IllegalArgumentException(layer + " " + what + " must be positive, got " + value);
        return value;
    }
}
