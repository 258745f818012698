package dev.jumbo.spark;

import java.io.Serializable;

/**
 * One training example as Spark carries it: the input's values and the target's, each flattened in
 * row-major order (their shapes travel once, in {@link DistributedDataset}).
 */
public record Example(float[] x, float[] y) implements Serializable {}
