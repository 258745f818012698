package dev.jumbo.metrics;

import dev.jumbo.loss.BinaryCrossentropy;
import dev.jumbo.loss.CategoricalCrossentropy;
import dev.jumbo.loss.Loss;
import dev.jumbo.loss.SparseCategoricalCrossentropy;

/**
 * Metrics by their Keras identifier, as {@code compile(metrics = [...])} names them.
 *
 * <pre>{@code
 * Metric acc = Metrics.of("accuracy", new SparseCategoricalCrossentropy(true));  // sparse, named "accuracy"
 * }</pre>
 */
public final class Metrics {
    private Metrics() {}

    /**
     * The metric named {@code id}, for a model trained with {@code loss} (may be null).
     *
     * <p>{@code "accuracy"} and {@code "acc"} resolve by the loss as Keras does: binary
     * cross-entropy gives {@link BinaryAccuracy}, categorical gives {@link CategoricalAccuracy},
     * sparse categorical gives {@link SparseCategoricalAccuracy}; for any other loss the first
     * batch's shapes decide (last dimension 1: binary; class-index targets: sparse; otherwise
     * categorical). The metric is named as requested ({@code "accuracy"} or {@code "acc"}).
     *
     * <p>Also {@code "binary_accuracy"}, {@code "categorical_accuracy"},
     * {@code "sparse_categorical_accuracy"}, {@code "top_k_categorical_accuracy"} and
     * {@code "sparse_top_k_categorical_accuracy"} (k = 5), named by their id.
     *
     * <p>Unlike Keras, binary accuracy with a {@code BinaryCrossentropy(fromLogits = true)} loss
     * thresholds at 0 (the logit of 0.5) instead of 0.5, so it measures what the model predicts.
     *
     * @throws IllegalArgumentException naming {@code id} when it is not one of these
     */
    public static Metric of(String id, Loss loss) {
        return switch (id) {
            case "accuracy", "acc" -> switch (loss) {
                case BinaryCrossentropy b -> binary(id, b);
                case CategoricalCrossentropy c -> new CategoricalAccuracy(id);
                case SparseCategoricalCrossentropy s -> new SparseCategoricalAccuracy(id);
                case null, default -> new ShapeInferredAccuracy(id);
            };
            case "binary_accuracy" -> binary(id, loss);
            case "categorical_accuracy" -> new CategoricalAccuracy(id);
            case "sparse_categorical_accuracy" -> new SparseCategoricalAccuracy(id);
            case "top_k_categorical_accuracy" -> new TopKCategoricalAccuracy(5, id);
            case "sparse_top_k_categorical_accuracy" -> new SparseTopKCategoricalAccuracy(5, id);
            case null -> throw new IllegalArgumentException("metric id is null");
            default -> throw new IllegalArgumentException("unknown metric \"" + id + "\"; known: accuracy, acc, binary_accuracy, "
                    + "categorical_accuracy, sparse_categorical_accuracy, top_k_categorical_accuracy, sparse_top_k_categorical_accuracy");
        };
    }

    private static BinaryAccuracy binary(String name, Loss loss) {
        boolean logits = loss instanceof BinaryCrossentropy b && b.fromLogits();
        return new BinaryAccuracy(logits ? 0 : 0.5, name);
    }
}
