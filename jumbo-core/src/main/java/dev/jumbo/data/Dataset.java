package dev.jumbo.data;

import dev.jumbo.tensor.Shape;

/**
 * Examples addressed by index, gathered into batches on request. A {@link DataLoader} decides
 * which indices go together; a dataset only knows how to fetch them.
 *
 * <pre>{@code
 * Dataset d = new TensorDataset(x, y);
 * Batch b = d.batch(new int[] {4, 0, 7});   // b.x().dim(0) == 3
 * }</pre>
 */
public interface Dataset {
    /** Number of examples. */
    int size();

    /**
     * The examples at {@code indices}, in that order, stacked along a new first dimension.
     *
     * @throws IndexOutOfBoundsException if an index is outside {@code [0, size())}
     */
    Batch batch(int[] indices);

    /** Shape of one input example (without the batch dimension). */
    Shape exampleShape();
}
