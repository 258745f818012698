package dev.jumbo.loss;

import dev.jumbo.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A training objective: turns a batch of predictions and targets into one differentiable number,
 * the mean of the per-example losses (Keras' {@code sum_over_batch_size} reduction).
 *
 * <p>A loss does not reject a NaN or infinite result (for example probabilities that sum to zero
 * or NaN predictions): it returns it, and the trainer decides what to do with a non-finite loss.
 * It does reject malformed input (shapes that do not match, sparse targets that are not class
 * indices) with an exception naming the problem.
 *
 * <pre>{@code
 * Loss loss = new SparseCategoricalCrossentropy(true);
 * Tensor value = loss.compute(logits, labels);   // rank 0
 * value.backward();
 * }</pre>
 */
public interface Loss {
    /** The mean loss over the batch, a rank-0 tensor that gradients flow back from. */
    Tensor compute(Tensor predictions, Tensor targets);

    /** The Keras identifier, e.g. {@code "sparse_categorical_crossentropy"}. */
    String name();

    /** A JSON-ready description that {@link Losses#fromConfig} turns back into this loss. */
    default Map<String, Object> config() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("type", name());
        return c;
    }
}
