package dev.jumbo.explain;

/**
 * A model's output as a function of which of its input's features are present: the view that
 * LIME, KernelSHAP, exact Shapley values and occlusion share. A feature may be a column of a table,
 * a superpixel of an image or a token of a text; an absent one is replaced by whatever stands for
 * "missing" in that setting (a background row's value, the baseline's pixels, a mask token).
 *
 * <p>{@link #values} is called with many coalitions at once so an implementation can run them
 * through the model as one batch.
 */
public interface FeatureGame {

    /** The number of features. */
    int features();

    /** The explained output for each coalition ({@code present[i][j]}: feature j is present in coalition i). */
    double[] values(boolean[][] present);

    /** The model's whole output for the input itself (every feature present), for {@link Explanation#prediction}. */
    float[] prediction();

    /** The index of the output explained. */
    int target();
}
