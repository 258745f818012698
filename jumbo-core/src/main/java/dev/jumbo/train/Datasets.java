package dev.jumbo.train;

import dev.jumbo.data.Dataset;
import dev.jumbo.data.TensorDataset;

/** Dataset helpers the trainer needs. */
final class Datasets {
    private Datasets() {}

    /** Keras' validation_split: the last {@code fraction} of the examples, unshuffled, become validation. */
    static Dataset[] split(Dataset d, double fraction) {
        if (d instanceof TensorDataset t) return t.split(fraction);
        throw new IllegalArgumentException("validation split needs in-memory data (a TensorDataset); pass validation data instead");
    }
}
