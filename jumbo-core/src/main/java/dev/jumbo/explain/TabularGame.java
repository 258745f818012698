package dev.jumbo.explain;

/**
 * A table row's features as a {@link FeatureGame}, absent features filled in from a background set:
 * {@code v(S)} is the mean over the background rows {@code b} of the target output at the row that
 * takes {@code x}'s values on {@code S} and {@code b}'s elsewhere. That is the interventional value
 * shap's {@code KernelExplainer} estimates, so {@code v(none)} is {@code E[f]} over the background and
 * {@code v(all)} is {@code f(x)}.
 *
 * <pre>{@code
 * FeatureGame game = new TabularGame(f, row, background, target);
 * Explanation shap = KernelShap.explain(game, 0, 42);
 * }</pre>
 *
 * <p>Each coalition costs one forward pass per background row; the rows of many coalitions go
 * through the model together, a bounded block at a time.
 */
public final class TabularGame implements FeatureGame {
    /** Inputs per forward pass. */
    private static final int CHUNK = 512;
    /** The most input values assembled at once, to bound memory when a caller asks for many coalitions. */
    private static final int BLOCK_VALUES = 1 << 22;

    private final ModelFunction f;
    private final float[] x;
    private final float[][] background;
    private final int target;
    private final float[] prediction;

    /**
     * @param f          the model; its input is one row of {@code x.length} values
     * @param x          the row explained
     * @param background rows standing for "feature unknown" (a sample of the training data, as shap's)
     * @param target     the output explained
     * @throws IllegalArgumentException if the row is not one input of {@code f}, the background is empty or a background row's width differs, or the target is not an output
     */
    public TabularGame(ModelFunction f, float[] x, float[][] background, int target) {
        int size = f.inputShape().size();
        if (x.length != size)
            throw new IllegalArgumentException("the model takes inputs of shape " + f.inputShape() + " (" + size
                    + " values), the row explained has " + x.length);
        if (background.length == 0) throw new IllegalArgumentException("the background set is empty: give at least one row");
        for (int i = 0; i < background.length; i++)
            if (background[i].length != size)
                throw new IllegalArgumentException("background row " + i + " has " + background[i].length
                        + " values, the model takes " + size);
        Gradients.checkTarget(target, f.outputs());
        this.f = f;
        this.x = x.clone();
        this.background = new float[background.length][];
        for (int i = 0; i < background.length; i++) this.background[i] = background[i].clone();
        this.target = target;
        this.prediction = Gradients.outputs(f, this.x, 1, 1);
    }

    @Override
    public int features() {
        return x.length;
    }

    @Override
    public double[] values(boolean[][] present) {
        int m = x.length, rows = background.length, k = f.outputs();
        double[] v = new double[present.length];
        int perBlock = Math.max(1, BLOCK_VALUES / (rows * m));
        for (int from = 0; from < present.length; from += perBlock) {
            int n = Math.min(perBlock, present.length - from);
            float[] inputs = new float[n * rows * m];
            for (int c = 0; c < n; c++) {
                boolean[] s = present[from + c];
                if (s.length != m) throw new IllegalArgumentException("coalition " + (from + c) + " names " + s.length + " features, not " + m);
                for (int b = 0; b < rows; b++) {
                    int at = (c * rows + b) * m;
                    for (int j = 0; j < m; j++) inputs[at + j] = s[j] ? x[j] : background[b][j];
                }
            }
            float[] out = Gradients.outputs(f, inputs, n * rows, CHUNK);
            for (int c = 0; c < n; c++) {
                double sum = 0;
                for (int b = 0; b < rows; b++) sum += out[(c * rows + b) * k + target];
                v[from + c] = sum / rows;
            }
        }
        return v;
    }

    @Override
    public float[] prediction() {
        return prediction.clone();
    }

    @Override
    public int target() {
        return target;
    }

    @Override
    public String toString() {
        return "TabularGame[" + x.length + " features, " + background.length + " background rows, target " + target + "]";
    }
}
