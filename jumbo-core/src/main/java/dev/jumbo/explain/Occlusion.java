package dev.jumbo.explain;

import dev.jumbo.tensor.Shape;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Occlusion (Zeiler and Fergus, 2014), with Captum's semantics: a {@code window x window} patch of
 * an {@code [H, W, C]} input (every channel at once; {@code [H, W]} is taken as one channel) is set
 * to {@code fill} at each position of a slide over H and W by {@code stride}, and each element's
 * attribution is the mean, over the windows that covered it, of {@code f(x) - f(x occluded)}. A
 * 1-D input of {@code n} features is slid over the same way. As in Captum the slide takes
 * {@code ceil((H - window) / stride) + 1} positions per axis, so the last window may hang over the
 * edge (it is cut there) and every element is covered at least once. Only forward passes: the
 * occluded copies go through the model {@value #BATCH} at a time without a graph.
 *
 * <p>Defaults for 28x28 images (MNIST, Fashion-MNIST): a 4x4 window, about a stroke's width or a
 * seventh of the object, moved by 2, so each pixel away from the edges is covered by exactly four
 * windows (a smoother map than a stride equal to the window) for 13 x 13 = 169 forward passes; the
 * fill is 0, these datasets' background, so occluding means "this part is not there".
 *
 * <pre>{@code
 * Explanation e = Occlusion.defaults().explain(ModelFunction.of(model, Output.AS_IS), image, 3);
 * }</pre>
 *
 * @param window the patch's side (elements of a 1-D input)
 * @param stride how far the patch moves between positions
 * @param fill   the value the patch is set to
 */
public record Occlusion(int window, int stride, float fill) {
    /** Occluded inputs per forward pass. */
    static final int BATCH = 64;

    public Occlusion {
        if (window < 1) throw new IllegalArgumentException("occlusion's window must be at least 1, got " + window);
        if (stride < 1) throw new IllegalArgumentException("occlusion's stride must be at least 1, got " + stride);
        if (stride > window)
            throw new IllegalArgumentException("occlusion's stride " + stride + " is larger than its window " + window
                    + ": elements between the windows would get no attribution");
        if (!Float.isFinite(fill)) throw new IllegalArgumentException("occlusion's fill must be a finite number, got " + fill);
    }

    /** A 4x4 window moved by 2, filled with 0: for 28x28 images (see the class comment). */
    public static Occlusion defaults() {
        return new Occlusion(4, 2, 0f);
    }

    /**
     * The mean drop of output {@code target} when a window over each element is occluded.
     *
     * @throws IllegalArgumentException if the input is not one input of {@code f}'s shape, the shape is not
     *                                  1-D, [H, W] or [H, W, C], the window is larger than the input, or the target is not an output
     */
    public Explanation explain(ModelFunction f, float[] input, int target) {
        Saliency.checkInput(f, input, "occlusion");
        Gradients.checkTarget(target, f.outputs());
        Shape shape = f.inputShape();
        int h, w, c;
        switch (shape.rank()) {
            case 1 -> { h = 1; w = shape.dim(0); c = 1; }
            case 2 -> { h = shape.dim(0); w = shape.dim(1); c = 1; }
            case 3 -> { h = shape.dim(0); w = shape.dim(1); c = shape.dim(2); }
            default -> throw new IllegalArgumentException("occlusion slides over 1-D inputs and [H, W, C] images, not inputs of shape " + shape);
        }
        int windowH = shape.rank() == 1 ? 1 : window;
        if (windowH > h || window > w)
            throw new IllegalArgumentException("occlusion's window " + window + " is larger than the input " + shape);
        int rows = positions(h, windowH), cols = positions(w, window), windows = rows * cols, size = input.length, k = f.outputs();

        float[] prediction = Gradients.outputs(f, input, 1, 1);
        double fx = prediction[target];
        double[] total = new double[size];
        int[] covered = new int[size];
        for (int from = 0; from < windows; from += BATCH) {
            int n = Math.min(BATCH, windows - from);
            float[] batch = new float[n * size];
            for (int j = 0; j < n; j++) {
                System.arraycopy(input, 0, batch, j * size, size);
                int r = (from + j) / cols * stride, q = (from + j) % cols * stride;
                for (int y = r; y < Math.min(h, r + windowH); y++)
                    Arrays.fill(batch, j * size + (y * w + q) * c, j * size + (y * w + Math.min(w, q + window)) * c, fill);
            }
            float[] out = Gradients.outputs(f, batch, n, Gradients.DEFAULT_CHUNK);
            for (int j = 0; j < n; j++) {
                double drop = fx - out[j * k + target];
                int r = (from + j) / cols * stride, q = (from + j) % cols * stride;
                for (int y = r; y < Math.min(h, r + windowH); y++)
                    for (int i = (y * w + q) * c; i < (y * w + Math.min(w, q + window)) * c; i++) {
                        total[i] += drop;
                        covered[i]++;
                    }
            }
        }
        float[] attributions = new float[size];
        for (int i = 0; i < size; i++) attributions[i] = (float) (total[i] / covered[i]);
        Map<String, Double> details = new LinkedHashMap<>();
        details.put("window", (double) window);
        details.put("stride", (double) stride);
        details.put("fill", (double) fill);
        details.put("windows", (double) windows);
        return new Explanation("occlusion", target, prediction, shape, attributions, Double.NaN, details);
    }

    /** Captum's count of window positions along an axis: {@code ceil((length - window) / stride) + 1}. */
    private int positions(int length, int windowLength) {
        return (length - windowLength + stride - 1) / stride + 1;
    }
}
