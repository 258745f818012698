package dev.jumbo.spark;

import java.io.Serializable;
import java.util.Arrays;

/**
 * What an executor needs to rebuild the model and read the examples, broadcast once per run: the
 * Sequential's config JSON, the loss's config JSON, and one input's and one target's shape.
 */
record ModelSpec(String configJson, String lossJson, int[] inputShape, int[] targetShape) implements Serializable {
    int inputSize() {
        return Arrays.stream(inputShape).reduce(1, (a, b) -> a * b);
    }

    int targetSize() {
        return Arrays.stream(targetShape).reduce(1, (a, b) -> a * b);
    }

    /** {@code [k, ...inputShape]} or {@code [k, ...targetShape]}. */
    int[] batchShape(boolean input, int k) {
        int[] one = input ? inputShape : targetShape;
        int[] out = new int[one.length + 1];
        out[0] = k;
        System.arraycopy(one, 0, out, 1, one.length);
        return out;
    }
}
