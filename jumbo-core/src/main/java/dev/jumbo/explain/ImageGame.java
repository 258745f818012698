package dev.jumbo.explain;

import dev.jumbo.tensor.Shape;

import java.util.Arrays;

/**
 * An image's segments (superpixels) as a {@link FeatureGame}: in a coalition, a present segment's
 * pixels keep the image's values and an absent one's take {@code fill}'s, as lime_image hides a
 * superpixel. The image is {@code [H, W, C]} row-major (the model's input shape), {@code segments}
 * holds one label per pixel ({@code H * W}), and the features are the labels 0 to the largest.
 *
 * <pre>{@code
 * int[] labels = Superpixels.slic(image, 28, 28, 1, 50, 0.1);
 * ImageGame game = new ImageGame(f, image, labels, ImageGame.meanFill(image, labels, 1), target);
 * Explanation perSegment = Lime.coalitions(game, Lime.IMAGE, 42);
 * Explanation map = ImageGame.spread(perSegment, labels, f.inputShape());   // a value per pixel
 * }</pre>
 */
public final class ImageGame implements FeatureGame {
    private static final int CHUNK = 64;
    /** Images assembled at once, to bound memory when a caller asks for many coalitions. */
    private static final int BLOCK_VALUES = 1 << 22;

    private final ModelFunction f;
    private final float[] image, fill;
    private final int[] segments;
    private final int features, channels, target;
    private final float[] prediction;

    /**
     * @param f        the model; its input is the image
     * @param image    the image explained, {@code [H, W, C]} row-major
     * @param segments a label 0, 1, ... per pixel
     * @param fill     what an absent segment's pixels become, the image's size (a constant, a blur, {@link #meanFill})
     * @param target   the output explained
     * @throws IllegalArgumentException if the sizes disagree, a label is negative, or the target is not an output
     */
    public ImageGame(ModelFunction f, float[] image, int[] segments, float[] fill, int target) {
        int size = f.inputShape().size();
        if (image.length != size)
            throw new IllegalArgumentException("the model takes inputs of shape " + f.inputShape() + " (" + size
                    + " values), the image has " + image.length);
        this.channels = channels(image, segments);
        if (fill.length != image.length)
            throw new IllegalArgumentException("the fill has " + fill.length + " values, the image " + image.length);
        Gradients.checkTarget(target, f.outputs());
        this.f = f;
        this.image = image.clone();
        this.fill = fill.clone();
        this.segments = segments.clone();
        this.features = count(segments);
        this.target = target;
        this.prediction = Gradients.outputs(f, this.image, 1, 1);
    }

    @Override
    public int features() {
        return features;
    }

    @Override
    public double[] values(boolean[][] present) {
        int size = image.length, k = f.outputs();
        double[] v = new double[present.length];
        int perBlock = Math.max(1, BLOCK_VALUES / size);
        for (int from = 0; from < present.length; from += perBlock) {
            int n = Math.min(perBlock, present.length - from);
            float[] inputs = new float[n * size];
            for (int c = 0; c < n; c++) {
                boolean[] s = present[from + c];
                if (s.length != features)
                    throw new IllegalArgumentException("coalition " + (from + c) + " names " + s.length + " segments, not " + features);
                for (int p = 0; p < segments.length; p++) {
                    float[] source = s[segments[p]] ? image : fill;
                    System.arraycopy(source, p * channels, inputs, c * size + p * channels, channels);
                }
            }
            float[] out = Gradients.outputs(f, inputs, n, CHUNK);
            for (int c = 0; c < n; c++) v[from + c] = out[c * k + target];
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

    /**
     * Each segment's mean colour over its pixels, painted over the segment: lime_image's fill when
     * {@code hide_color} is None.
     *
     * @throws IllegalArgumentException if the image is not {@code segments.length} pixels of {@code channels} values, or a label is negative
     */
    public static float[] meanFill(float[] image, int[] segments, int channels) {
        if (channels < 1 || (long) segments.length * channels != image.length)
            throw new IllegalArgumentException("an image of " + image.length + " values is not " + segments.length
                    + " pixels of " + channels + " channels");
        int k = count(segments);
        double[] sum = new double[k * channels];
        int[] pixels = new int[k];
        for (int p = 0; p < segments.length; p++) {
            pixels[segments[p]]++;
            for (int c = 0; c < channels; c++) sum[segments[p] * channels + c] += image[p * channels + c];
        }
        float[] fill = new float[image.length];
        for (int p = 0; p < segments.length; p++)
            for (int c = 0; c < channels; c++)
                fill[p * channels + c] = (float) (sum[segments[p] * channels + c] / pixels[segments[p]]);
        return fill;
    }

    /**
     * Per-segment attributions spread onto the pixels: every value of a pixel (each of its channels)
     * carries its segment's attribution, as lime paints a superpixel's weight over it. The result has
     * {@code imageShape}; the method, target, prediction, completeness gap and details are kept, and
     * {@code segments} (the count) is added. {@link #segmentValues} reads the per-segment values back.
     *
     * @throws IllegalArgumentException if the labels do not cover {@code imageShape}'s pixels or name a segment the explanation lacks
     */
    public static Explanation spread(Explanation perSegment, int[] segments, Shape imageShape) {
        int size = imageShape.size();
        if (segments.length == 0 || size % segments.length != 0)
            throw new IllegalArgumentException(segments.length + " pixel labels do not cover an image of shape " + imageShape);
        int channels = size / segments.length, k = perSegment.attributions().length;
        float[] pixels = new float[size];
        for (int p = 0; p < segments.length; p++) {
            if (segments[p] < 0 || segments[p] >= k)
                throw new IllegalArgumentException("pixel " + p + " is in segment " + segments[p] + ", the explanation has " + k + " segments");
            Arrays.fill(pixels, p * channels, (p + 1) * channels, perSegment.attributions()[segments[p]]);
        }
        var details = new java.util.LinkedHashMap<>(perSegment.details());
        details.put("segments", (double) k);
        return new Explanation(perSegment.method(), perSegment.target(), perSegment.prediction(), imageShape, pixels,
                perSegment.completenessGap(), details);
    }

    /** The per-segment values of a {@link #spread} explanation: the value at the first pixel of each segment. */
    public static float[] segmentValues(Explanation pixels, int[] segments) {
        int channels = pixels.attributions().length / segments.length;
        float[] values = new float[count(segments)];
        boolean[] seen = new boolean[values.length];
        for (int p = 0; p < segments.length; p++)
            if (!seen[segments[p]]) {
                seen[segments[p]] = true;
                values[segments[p]] = pixels.attributions()[p * channels];
            }
        return values;
    }

    private static int channels(float[] image, int[] segments) {
        if (segments.length == 0 || image.length % segments.length != 0)
            throw new IllegalArgumentException(segments.length + " pixel labels do not cover an image of " + image.length + " values");
        return image.length / segments.length;
    }

    /** The number of segments: the largest label plus one. */
    private static int count(int[] segments) {
        int max = -1;
        for (int p = 0; p < segments.length; p++) {
            if (segments[p] < 0) throw new IllegalArgumentException("pixel " + p + " has the negative segment label " + segments[p]);
            max = Math.max(max, segments[p]);
        }
        return max + 1;
    }
}
