package dev.jumbo.explain;

import dev.jumbo.tensor.Shape;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * LIME (Ribeiro, Singh and Guestrin, 2016): a linear surrogate fit to the model around one input,
 * on perturbed copies of it weighed by their closeness, {@code sqrt(exp(-d^2 / width^2))}, with
 * scikit-learn's ridge regression (alpha 1) as lime fits it. The attributions are the surrogate's
 * coefficients; {@code r2} in the details is its weighted R² on the perturbed samples (lime's
 * {@code score}), the fidelity to read before trusting them, and {@code intercept} its constant.
 * Every feature is kept in the surrogate (lime's default keeps 10, chosen by forward selection or
 * the largest weights).
 *
 * <pre>{@code
 * Explanation tab = Lime.tabular(f, row, training, target, 5000, Lime.defaultKernelWidth(row.length), 42);
 * if (tab.details().get("r2") < 0.5) System.out.println("the model is not near-linear here");
 * Explanation img = Lime.coalitions(new ImageGame(f, image, labels, fill, target), Lime.IMAGE, 42);
 * }</pre>
 */
public final class Lime {
    private Lime() {}

    /** lime's ridge penalty (scikit-learn's {@code Ridge()} default). */
    public static final double RIDGE_ALPHA = 1.0;
    /** lime_tabular's number of samples. */
    public static final int TABULAR_SAMPLES = 5000;

    /**
     * How binary coalitions are sampled and weighed: {@code samples} of them, distance to the
     * full coalition by cosine times {@code distanceScale}, kernel of width {@code kernelWidth}.
     */
    public record Settings(int samples, double kernelWidth, double distanceScale) {
        public Settings {
            if (samples < 2) throw new IllegalArgumentException("LIME needs at least 2 samples, got " + samples);
            if (!(kernelWidth > 0)) throw new IllegalArgumentException("the kernel width must be positive, got " + kernelWidth);
            if (!(distanceScale > 0)) throw new IllegalArgumentException("the distance scale must be positive, got " + distanceScale);
        }

        public Settings withSamples(int n) {
            return new Settings(n, kernelWidth, distanceScale);
        }

        public Settings withKernelWidth(double width) {
            return new Settings(samples, width, distanceScale);
        }
    }

    /** lime_image's defaults: 1000 samples, kernel width 0.25, cosine distance. */
    public static final Settings IMAGE = new Settings(1000, 0.25, 1);
    /** lime_text's defaults: 5000 samples, kernel width 25, cosine distance times 100. */
    public static final Settings TEXT = new Settings(5000, 25, 100);

    /** lime_tabular's default kernel width, {@code 0.75 sqrt(features)}. */
    public static double defaultKernelWidth(int features) {
        return 0.75 * Math.sqrt(features);
    }

    /** {@link #tabular(ModelFunction, float[], float[][], int, int, double, long)} with lime's 5000 samples and kernel width. */
    public static Explanation tabular(ModelFunction f, float[] x, float[][] training, int target, long seed) {
        return tabular(f, x, training, target, TABULAR_SAMPLES, defaultKernelWidth(x.length), seed);
    }

    /**
     * LIME for a table row: {@code samples} rows drawn around {@code x}, each feature moved by a normal
     * draw scaled by its standard deviation in {@code training} (the first sample is {@code x}
     * itself), weighed by their euclidean distance to {@code x} in standardised units, and the
     * surrogate fit on the standardised differences. The attributions are its coefficients brought
     * back to each feature's own units (the change in the target output per unit of the feature), so
     * on a model linear in its inputs they are the model's own weights.
     *
     * <p>The features stay continuous: lime's default discretises each into quartiles and fits the
     * surrogate on which quartile a feature falls in, which explains a different, binary model. Kept
     * continuous, the surrogate is linear in the same features the user sees, its coefficients can be
     * checked against a model's weights, and R² measures how linear the model is near {@code x}.
     * A feature constant in the training data is not perturbed and gets 0.
     *
     * @param training rows whose spread sets each feature's perturbation (the training set or a sample of it)
     * @param kernelWidth the kernel's width in standardised units; lime's is {@link #defaultKernelWidth}
     * @throws IllegalArgumentException if the row or the training rows are not inputs of {@code f}, the training set is empty,
     *                                  or the target, samples or width are out of range
     */
    public static Explanation tabular(ModelFunction f, float[] x, float[][] training, int target, int samples,
                                      double kernelWidth, long seed) {
        int m = f.inputShape().size();
        if (x.length != m)
            throw new IllegalArgumentException("the model takes inputs of shape " + f.inputShape() + " (" + m
                    + " values), the row explained has " + x.length);
        if (training.length == 0) throw new IllegalArgumentException("LIME needs training rows for the features' spread, got none");
        for (int i = 0; i < training.length; i++)
            if (training[i].length != m)
                throw new IllegalArgumentException("training row " + i + " has " + training[i].length + " values, the model takes " + m);
        Gradients.checkTarget(target, f.outputs());
        new Settings(samples, kernelWidth, 1);   // checks the samples and width as the coalition settings are checked
        double[] std = new double[m];
        for (int j = 0; j < m; j++) {
            double mean = 0, sq = 0;
            for (float[] row : training) mean += row[j];
            mean /= training.length;
            for (float[] row : training) sq += (row[j] - mean) * (row[j] - mean);
            std[j] = Math.sqrt(sq / training.length);   // population deviation, as scikit-learn's StandardScaler
        }
        Random random = new Random(seed);
        double[][] z = new double[samples][m];           // standardised offsets from x; row 0 is x itself
        float[] inputs = new float[samples * m];
        double[] weights = new double[samples];
        for (int i = 0; i < samples; i++) {
            double d2 = 0;
            for (int j = 0; j < m; j++) {
                double offset = i == 0 || std[j] == 0 ? 0 : random.nextGaussian();
                z[i][j] = offset;
                inputs[i * m + j] = (float) (x[j] + offset * std[j]);
                d2 += offset * offset;
            }
            weights[i] = Math.sqrt(Math.exp(-d2 / (kernelWidth * kernelWidth)));
        }
        float[] out = Gradients.outputs(f, inputs, samples, 512);
        int k = f.outputs();
        double[] y = new double[samples];
        for (int i = 0; i < samples; i++) y[i] = out[i * k + target];
        WeightedLeastSquares.Fit fit = WeightedLeastSquares.ridge(z, y, weights, RIDGE_ALPHA);
        float[] attributions = new float[m];
        for (int j = 0; j < m; j++) attributions[j] = std[j] == 0 ? 0 : (float) (fit.coefficients()[j] / std[j]);
        return explanation(target, java.util.Arrays.copyOf(out, k), attributions, fit, samples, kernelWidth);
    }

    /** {@link #coalitions(FeatureGame, int, double, double, long)} with the given settings ({@link #IMAGE}, {@link #TEXT}). */
    public static Explanation coalitions(FeatureGame game, Settings settings, long seed) {
        return coalitions(game, settings.samples(), settings.kernelWidth(), settings.distanceScale(), seed);
    }

    /**
     * LIME over a game's features (superpixels, tokens): the first sample has every feature present,
     * each next one a uniformly drawn number of them (1 to all) switched off at random, as lime_text
     * samples (lime_image flips each superpixel with probability 1/2 instead; drawing the count first
     * covers the near-complete coalitions, which weigh the most, far better). The surrogate is fit on
     * the 0/1 presence of each feature, weighed by the cosine distance to the full coalition times
     * {@code distanceScale}; the attributions are its coefficients, what each feature's presence adds.
     *
     * @throws IllegalArgumentException if the game has no feature or the settings are out of range
     */
    public static Explanation coalitions(FeatureGame game, int samples, double kernelWidth, double distanceScale, long seed) {
        new Settings(samples, kernelWidth, distanceScale);   // checks them
        int m = game.features();
        if (m < 1) throw new IllegalArgumentException("LIME needs at least one feature, the game has " + m);
        Random random = new Random(seed);
        boolean[][] present = new boolean[samples][m];
        double[][] z = new double[samples][m];
        double[] weights = new double[samples];
        int[] order = new int[m];
        for (int i = 0; i < samples; i++) {
            java.util.Arrays.fill(present[i], true);
            if (i > 0) {
                int off = 1 + random.nextInt(m);
                for (int j = 0; j < m; j++) order[j] = j;
                for (int j = 0; j < off; j++) {
                    int r = j + random.nextInt(m - j);
                    int t = order[j]; order[j] = order[r]; order[r] = t;
                    present[i][order[j]] = false;
                }
            }
            int on = 0;
            for (int j = 0; j < m; j++)
                if (present[i][j]) {
                    z[i][j] = 1;
                    on++;
                }
            // cosine distance of a 0/1 row with `on` ones to the all-ones row; an empty row is at distance 1, as scikit-learn puts it
            double d = on == 0 ? 1 : 1 - Math.sqrt((double) on / m);
            d *= distanceScale;
            weights[i] = Math.sqrt(Math.exp(-d * d / (kernelWidth * kernelWidth)));
        }
        double[] y = game.values(present);
        if (y.length != samples) throw new IllegalStateException("the game returned " + y.length + " values for " + samples + " coalitions");
        WeightedLeastSquares.Fit fit = WeightedLeastSquares.ridge(z, y, weights, RIDGE_ALPHA);
        float[] attributions = new float[m];
        for (int j = 0; j < m; j++) attributions[j] = (float) fit.coefficients()[j];
        return explanation(game.target(), game.prediction(), attributions, fit, samples, kernelWidth);
    }

    private static Explanation explanation(int target, float[] prediction, float[] attributions, WeightedLeastSquares.Fit fit,
                                           int samples, double kernelWidth) {
        Map<String, Double> details = new LinkedHashMap<>();
        details.put("r2", fit.r2());
        details.put("intercept", fit.intercept());
        details.put("samples", (double) samples);
        details.put("kernel_width", kernelWidth);
        return new Explanation("lime", target, prediction, Shape.of(attributions.length), attributions, Double.NaN, details);
    }
}
