package dev.jumbo.nn;

import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import java.util.Arrays;
import java.util.Map;

/**
 * A lookup table from integer ids to vectors: input ids stored as floats, {@code [seq]} per
 * example (any shape works), output {@code [seq, dim]}. The table {@code embeddings}
 * {@code [vocabSize, dim]} starts uniform in ±0.05 (Keras). Ids have no gradient.
 *
 * <pre>{@code
 * Tensor vectors = new Embedding(50_000, 128).forward(Tensor.of(new float[] {17, 4, 9}, 1, 3));   // [1, 3, 128]
 * }</pre>
 */
public final class Embedding extends Layer {
    private final int vocabSize;
    private final int dim;
    private Parameter embeddings;

    /** A table of {@code vocabSize} vectors of length {@code dim}. */
    public Embedding(int vocabSize, int dim) {
        this.vocabSize = Check.positive("Embedding", "vocabulary size", vocabSize);
        this.dim = Check.positive("Embedding", "dim", dim);
    }

    /** The {@code [vocabSize, dim]} table; null until built. */
    public Parameter embeddings() {
        return embeddings;
    }

    @Override
    protected void onBuild(Shape inputShape) {
        embeddings = addParameter("embeddings", Tensor.uniform(Init.random(), -0.05f, 0.05f, vocabSize, dim));
    }

    @Override
    protected Tensor call(Tensor x) {
        float[] values = x.toFloatArray();
        int[] ids = new int[values.length];
        for (int i = 0; i < ids.length; i++) {
            float v = values[i];
            if (v != Math.rint(v)) throw new IllegalArgumentException("embedding id " + v + " at position " + i + " is not an integer");
            if (!(v >= 0 && v < vocabSize))
                throw new IllegalArgumentException("embedding id " + (long) v + " at position " + i + " is outside [0, " + vocabSize + ")");
            ids[i] = (int) v;
        }
        int[] out = Arrays.copyOf(x.shape().toArray(), x.rank() + 1);
        out[x.rank()] = dim;
        return embeddings.value().rows(ids).reshape(out);
    }

    @Override
    public Shape outputShape(Shape inputShape) {
        int[] d = Arrays.copyOf(inputShape.toArray(), inputShape.rank() + 1);
        d[inputShape.rank()] = dim;
        return Shape.of(d);
    }

    @Override
    protected void addConfig(Map<String, Object> config) {
        config.put("input_dim", vocabSize);
        config.put("output_dim", dim);
    }
}
