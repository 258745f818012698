package dev.jumbo.loss;

import java.util.Map;

/**
 * Losses by their Keras identifier, as {@code compile(loss = "...")} names them.
 *
 * <pre>{@code
 * Loss loss = Losses.of("sparse_categorical_crossentropy");   // from probabilities
 * }</pre>
 */
public final class Losses {
    private Losses() {}

    /**
     * The loss named {@code id}: {@code "mse"}, {@code "mean_squared_error"},
     * {@code "binary_crossentropy"}, {@code "categorical_crossentropy"} or
     * {@code "sparse_categorical_crossentropy"}. Cross-entropies read probabilities, as the Keras
     * strings do; construct the class with {@code fromLogits = true} for logits.
     *
     * @throws IllegalArgumentException naming {@code id} when it is not one of these
     */
    public static Loss of(String id) {
        return of(id, false);
    }

    /** The loss described by {@link Loss#config()}: its {@code "type"} and optional {@code "from_logits"}. */
    public static Loss fromConfig(Map<String, Object> config) {
        Object type = config.get("type"), logits = config.getOrDefault("from_logits", false);
        if (!(type instanceof String id)) throw new IllegalArgumentException("loss config has no string \"type\": " + config);
        if (!(logits instanceof Boolean fromLogits)) throw new IllegalArgumentException("loss config \"from_logits\" is not a boolean: " + logits);
        return of(id, fromLogits);
    }

    private static Loss of(String id, boolean fromLogits) {
        return switch (id) {
            case "mse", "mean_squared_error" -> {
                if (fromLogits) throw new IllegalArgumentException("mean_squared_error has no from_logits form");
                yield new MeanSquaredError();
            }
            case "binary_crossentropy" -> new BinaryCrossentropy(fromLogits);
            case "categorical_crossentropy" -> new CategoricalCrossentropy(fromLogits);
            case "sparse_categorical_crossentropy" -> new SparseCategoricalCrossentropy(fromLogits);
            case null -> throw new IllegalArgumentException("loss id is null");
            default -> throw new IllegalArgumentException("unknown loss \"" + id + "\"; known: mse, mean_squared_error, "
                    + "binary_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy");
        };
    }
}
