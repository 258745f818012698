package dev.jumbo.nn;

import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import java.util.Map;

/**
 * Adds a vector per position to {@code [batch, time, d]}: a learned table
 * {@code embeddings [maxPositions, d]} (GPT-2's {@code wpe}, BERT's {@code position_embeddings}),
 * or the fixed sinusoids of "Attention Is All You Need" ({@link #sinusoidal}), kept as a buffer.
 *
 * <pre>{@code
 * Layer positions = new PositionEmbedding(1024);
 * Tensor y = positions.forward(tokenVectors);   // [b, t, d] + embeddings[0..t)
 * }</pre>
 */
public final class PositionEmbedding extends Layer {
    private final int maxPositions;
    private final boolean sinusoidal;
    private Parameter learned;
    private Tensor fixed;

    /** A learned table of {@code maxPositions} positions, started like {@link Embedding}'s. */
    public PositionEmbedding(int maxPositions) {
        this(maxPositions, false);
    }

    private PositionEmbedding(int maxPositions, boolean sinusoidal) {
        this.maxPositions = Check.positive("PositionEmbedding", "maxPositions", maxPositions);
        this.sinusoidal = sinusoidal;
    }

    /** Fixed sinusoids: {@code sin(p / 10000^(2i/d))} in even columns, {@code cos} of the same in odd ones. */
    public static PositionEmbedding sinusoidal(int maxPositions) {
        return new PositionEmbedding(maxPositions, true);
    }

    /** The {@code [maxPositions, d]} table; null until built. */
    public Tensor table() {
        return learned != null ? learned.value() : fixed;
    }

    @Override
    protected void onBuild(Shape inputShape) {
        int d = inputShape.dim(-1);
        if (!sinusoidal) {
            learned = addParameter("embeddings", Tensor.uniform(Init.random(), -0.05f, 0.05f, maxPositions, d));
            return;
        }
        float[] s = new float[maxPositions * d];
        for (int p = 0; p < maxPositions; p++)
            for (int i = 0; i < d; i++) {
                double angle = p / Math.pow(10000, (i - i % 2) / (double) d);
                s[p * d + i] = (float) (i % 2 == 0 ? Math.sin(angle) : Math.cos(angle));
            }
        fixed = addBuffer("embeddings", Tensor.of(s, maxPositions, d));
    }

    @Override
    protected Tensor call(Tensor x) {
        return x.add(table().slice(0, 0, x.dim(1)));
    }

    /**
     * {@code x} plus the vectors of positions {@code start .. start + time} (decoding after
     * {@code start} cached positions).
     *
     * @throws IllegalArgumentException if the positions run past {@code maxPositions}
     */
    public Tensor forward(Tensor x, int start) {
        if (x.rank() != 3) throw new IllegalArgumentException(name() + " expects [batch, time, d], got " + x.shape());
        build(withoutBatch(x.shape()));
        int t = x.dim(1);
        if (start < 0 || start + t > maxPositions)
            throw new IllegalArgumentException("positions " + start + ".." + (start + t) + " run past the " + maxPositions + " this " + name() + " has");
        return x.add(table().slice(0, start, start + t));
    }

    @Override
    public Shape outputShape(Shape inputShape) {
        if (inputShape.rank() != 2 || inputShape.dim(1) == 0) throw badInput(inputShape, "[time, d]");
        if (inputShape.dim(0) > maxPositions) throw badInput(inputShape, "at most " + maxPositions + " positions");
        Tensor table = table();
        if (table != null && inputShape.dim(1) != table.dim(1)) throw badInput(inputShape, "width " + table.dim(1) + " (it was built for that)");
        return inputShape;
    }

    @Override
    protected void addConfig(Map<String, Object> config) {
        config.put("max_positions", maxPositions);
        config.put("sinusoidal", sinusoidal);
    }
}
