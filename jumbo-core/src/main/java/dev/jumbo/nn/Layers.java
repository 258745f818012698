package dev.jumbo.nn;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Rebuilds layers from their {@link Layer#config()}, e.g. after reading a model's JSON. Optional
 * fields may be left out (the constructor's defaults apply); unknown fields are rejected so a
 * misspelt one is not silently ignored.
 *
 * <pre>{@code
 * Layer dense = Layers.fromConfig(Map.of("type", "Dense", "units", 64, "activation", "relu"));
 * }</pre>
 */
public final class Layers {
    private Layers() {}

    /**
     * A new, unbuilt layer from its config.
     *
     * @throws IllegalArgumentException for an unknown {@code "type"} ("unknown layer type 'Foo'"),
     *     or naming the field that is missing, of the wrong kind, unknown or out of range
     */
    public static Layer fromConfig(Map<String, Object> config) {
        if (config == null) throw new IllegalArgumentException("layer config is null");
        if (!(config.get("type") instanceof String type))
            throw new IllegalArgumentException("layer config needs a string field 'type', got " + config.get("type"));
        Fields f = new Fields(type, config);
        Layer layer = switch (type) {
            case "Dense" -> new Dense(f.integer("units"), f.activation());
            case "Conv2D" -> {
                int[] k = f.pair("kernel_size", null), s = f.pair("strides", new int[] {1, 1});
                yield new Conv2D(f.integer("filters"), k[0], k[1], s[0], s[1], f.string("padding", "valid"), f.activation());
            }
            case "QuantizedDense" -> new QuantizedDense(f.integer("units"), f.activation(), f.activationScale());
            case "QuantizedConv2D" -> {
                int[] k = f.pair("kernel_size", null), s = f.pair("strides", new int[] {1, 1});
                yield new QuantizedConv2D(f.integer("filters"), k[0], k[1], s[0], s[1], f.string("padding", "valid"), f.activation(), f.activationScale());
            }
            case "MaxPool2D", "AvgPool2D" -> {
                int[] p = f.pair("pool_size", null), s = f.pair("strides", p);
                String padding = f.string("padding", "valid");
                yield type.equals("MaxPool2D") ? new MaxPool2D(p[0], p[1], s[0], s[1], padding) : new AvgPool2D(p[0], p[1], s[0], s[1], padding);
            }
            case "GlobalAveragePooling2D" -> new GlobalAveragePooling2D();
            case "Flatten" -> new Flatten();
            case "Dropout" -> new Dropout(f.number("rate", null));
            case "ActivationLayer" -> new ActivationLayer(f.activation());
            case "BatchNormalization" -> new BatchNormalization(f.number("momentum", 0.99), f.number("epsilon", 1e-3));
            case "LayerNorm" -> new LayerNorm(f.number("epsilon", 1e-3));
            case "Embedding" -> new Embedding(f.integer("input_dim"), f.integer("output_dim"));
            case "PositionEmbedding" -> f.bool("sinusoidal", false) ? PositionEmbedding.sinusoidal(f.integer("max_positions")) : new PositionEmbedding(f.integer("max_positions"));
            case "MultiHeadAttention" -> new MultiHeadAttention(f.integer("num_heads"), f.bool("causal", false));
            case "TransformerBlock" -> new TransformerBlock(f.integer("num_heads"), f.integer("ff_units"), f.activation(), f.norm(), f.bool("causal", false), f.number("epsilon", 1e-5));
            case "SimpleRNN" -> new SimpleRNN(f.integer("units"), f.bool("return_sequences", false));
            case "LSTM" -> new LSTM(f.integer("units"), f.bool("return_sequences", false));
            case "GRU" -> new GRU(f.integer("units"), f.bool("return_sequences", false));
            case "ResidualBlock" -> new ResidualBlock(f.integer("filters"), f.integer("strides", 1), f.activationOr(Activation.RELU), f.number("momentum", 0.9));
            default -> throw new IllegalArgumentException("unknown layer type '" + type + "'");
        };
        // Keras writes every layer's trainable flag; Jumbo writes it only for a frozen layer
        if (!f.bool("trainable", true)) layer.trainable(false);
        f.rejectUnread();
        return layer;
    }

    /** Typed reads of a config's fields that remember which were read and name the field on error. */
    private static final class Fields {
        private final String type;
        private final Map<String, Object> config;
        private final Set<String> read = new HashSet<>(Set.of("type"));

        Fields(String type, Map<String, Object> config) {
            this.type = type;
            this.config = config;
        }

        private Object get(String name, boolean required) {
            read.add(name);
            Object v = config.get(name);
            if (v == null && required) throw new IllegalArgumentException(type + " config is missing field '" + name + "'");
            return v;
        }

        private IllegalArgumentException wrong(String name, String expected, Object v) {
            return new IllegalArgumentException(type + " config field '" + name + "' must be " + expected + ", got " + describe(v));
        }

        int integer(String name) {
            return toInt(name, get(name, true));
        }

        int integer(String name, int fallback) {
            Object v = get(name, false);
            return v == null ? fallback : toInt(name, v);
        }

        private int toInt(String name, Object v) {
            // JSON readers hand back Integer, Long, Double or BigDecimal for the same number
            if (v instanceof Number n) {
                double d = n.doubleValue();
                if (d == Math.rint(d) && Math.abs(d) <= Integer.MAX_VALUE) return (int) d;
            }
            throw wrong(name, "an integer", v);
        }

        double number(String name, Double fallback) {
            Object v = get(name, fallback == null);
            if (v == null) return fallback;
            if (v instanceof Number n) return n.doubleValue();
            throw wrong(name, "a number", v);
        }

        boolean bool(String name, boolean fallback) {
            Object v = get(name, false);
            if (v == null) return fallback;
            if (v instanceof Boolean b) return b;
            throw wrong(name, "true or false", v);
        }

        String string(String name, String fallback) {
            Object v = get(name, fallback == null);
            if (v == null) return fallback;
            if (v instanceof String s) return s;
            throw wrong(name, "a string", v);
        }

        /** A list of two integers, or one integer meaning both (as Keras accepts {@code kernel_size=3}). */
        int[] pair(String name, int[] fallback) {
            Object v = get(name, fallback == null);
            if (v == null) return fallback;
            if (v instanceof Number) {
                int k = toInt(name, v);
                return new int[] {k, k};
            }
            if (v instanceof List<?> l && l.size() == 2) return new int[] {toInt(name, l.get(0)), toInt(name, l.get(1))};
            throw wrong(name, "an integer or a list of two integers", v);
        }

        Activation activation() {
            return activationOr(Activation.LINEAR);
        }

        Activation activationOr(Activation fallback) {
            Object v = get("activation", false);
            if (v == null) return fallback;
            if (!(v instanceof String s)) throw wrong("activation", "a string", v);
            try {
                return Activation.of(s);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(type + " config field 'activation': " + e.getMessage(), e);
            }
        }

        ActivationScale activationScale() {
            String s = string("activation_scale", null);
            try {
                return ActivationScale.of(s);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(type + " config field 'activation_scale': " + e.getMessage(), e);
            }
        }

        TransformerBlock.Norm norm() {
            String s = string("norm", "pre");
            return switch (s) {
                case "pre" -> TransformerBlock.Norm.PRE;
                case "post" -> TransformerBlock.Norm.POST;
                default -> throw wrong("norm", "'pre' or 'post'", s);
            };
        }

        void rejectUnread() {
            for (String k : config.keySet())
                if (!read.contains(k)) throw new IllegalArgumentException(type + " config has unknown field '" + k + "'");
        }

        private static String describe(Object v) {
            return v instanceof String s ? "'" + s + "'" : String.valueOf(v);
        }
    }
}
