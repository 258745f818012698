package dev.jumbo.explain;

import dev.jumbo.nn.Layer;
import dev.jumbo.nn.Parameter;
import dev.jumbo.tensor.GradMode;
import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.train.Sequential;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Grad-CAM (Selvaraju et al., 2017): where in the image a convolutional layer's feature maps
 * {@code A} [h, w, c] (NHWC) supported the explained output {@code y}. Each channel is weighed by
 * its gradient averaged over the map, {@code alpha_c = mean over h, w of dy / dA_c}, and the map is
 * {@code ReLU(sum over c of alpha_c A_c)}: only what pushed {@code y} up. It is then bilinearly
 * upsampled to the input's H x W (half-pixel centres, as PyTorch's {@code interpolate} with
 * {@code align_corners=False} and OpenCV's {@code resize}), so it can lie over the image.
 *
 * <p>The layers up to the chosen one run without a graph; their output is detached and made a
 * leaf that requires a gradient, and only the rest of the model is differentiated, with the
 * model's weights not requiring gradients meanwhile (restored afterwards, as is the model's
 * training mode).
 *
 * <pre>{@code
 * Explanation cam = GradCam.explain(model, ModelFunction.Output.LOGITS, -1, image, 3); // [28, 28]
 * }</pre>
 */
public final class GradCam {
    private GradCam() {}

    /**
     * Everything Grad-CAM computed at one layer.
     *
     * @param layer           the index in {@code model.layers()} of the layer explained
     * @param activationShape {@code [h, w, c]}, that layer's output for the input
     * @param activations     that output, row-major
     * @param alphas          each channel's mean gradient
     * @param coarse          the map at the layer's resolution, {@code [h, w]}, before upsampling
     * @param explanation     the map upsampled to the input's {@code [H, W]}
     */
    public record LayerMap(int layer, Shape activationShape, float[] activations, double[] alphas, float[] coarse,
                           Explanation explanation) {}

    /**
     * The Grad-CAM map of output {@code target} at {@code input}, of shape {@code [H, W]}.
     *
     * @param layer an index in {@code model.layers()} of a layer with a {@code [h, w, c]} output, or -1 for the last such layer
     * @throws IllegalArgumentException if the layer is not such a layer (or the model has none), the input
     *                                  is not one image of the model's {@code [H, W, C]} input shape, or the target is not an output
     */
    public static Explanation explain(Sequential model, ModelFunction.Output output, int layer, float[] input, int target) {
        return compute(model, output, layer, input, target).explanation();
    }

    /** {@link #explain} with the layer's activations, the channels' weights and the map before upsampling. */
    public static LayerMap compute(Sequential model, ModelFunction.Output output, int layer, float[] input, int target) {
        Shape in = model.inputShape();
        if (in.rank() != 3) throw new IllegalArgumentException("Grad-CAM explains images [H, W, C]; the model takes inputs of shape " + in);
        if (input.length != in.size())
            throw new IllegalArgumentException("Grad-CAM needs an input of shape " + in + " (" + in.size() + " values), got " + input.length + " values");
        int k = model.outputShape().size();
        Gradients.checkTarget(target, k);
        List<Layer> layers = model.layers();
        int chosen = chooseLayer(layers, in, layer);

        boolean wasTraining = model.isTraining();
        model.train(false);
        List<Parameter> frozen = new ArrayList<>();
        try {
            Tensor a;
            try (var scope = GradMode.noGrad()) {
                Tensor x = Tensor.of(input.clone(), 1, in.dim(0), in.dim(1), in.dim(2));
                for (int i = 0; i <= chosen; i++) x = layers.get(i).forward(x);
                a = Tensor.of(x.toFloatArray(), x.shape().toArray()); // a new leaf: nothing before it is differentiated
            }
            a.requiresGrad(true);
            for (Parameter p : model.parameters())
                if (p.value().requiresGrad()) {
                    p.value().requiresGrad(false);
                    frozen.add(p);
                }
            Tensor y = a;
            for (int i = chosen + 1; i < layers.size(); i++) y = layers.get(i).forward(y);
            if (output == ModelFunction.Output.LOGITS) {
                Tensor logits = y.logitsOf(Tensor.Squash.SOFTMAX);
                if (logits == null) logits = y.logitsOf(Tensor.Squash.SIGMOID);
                if (logits != null) y = logits;
            }
            y = y.reshape(1, k);
            float[] prediction = y.toFloatArray();
            float[] seed = new float[k];
            seed[target] = 1;
            if (!y.requiresGrad())
                throw new IllegalStateException("the model's output does not depend differentiably on layer " + chosen + "'s output");
            y.backward(Tensor.of(seed, 1, k));
            int h = a.dim(1), w = a.dim(2), c = a.dim(3);
            float[] activations = a.toFloatArray();
            float[] gradient = a.grad() == null ? new float[activations.length] : a.grad().toFloatArray();
            double[] alphas = new double[c];
            for (int i = 0; i < h * w; i++)
                for (int ch = 0; ch < c; ch++) alphas[ch] += gradient[i * c + ch];
            for (int ch = 0; ch < c; ch++) alphas[ch] /= h * w;
            float[] coarse = new float[h * w];
            for (int i = 0; i < h * w; i++) {
                double s = 0;
                for (int ch = 0; ch < c; ch++) s += alphas[ch] * activations[i * c + ch];
                coarse[i] = (float) Math.max(0, s);
            }
            Map<String, Double> details = new LinkedHashMap<>();
            details.put("layer", (double) chosen);
            details.put("map_height", (double) h);
            details.put("map_width", (double) w);
            Explanation e = new Explanation("gradcam", target, prediction, Shape.of(in.dim(0), in.dim(1)),
                    upsample(coarse, h, w, in.dim(0), in.dim(1)), Double.NaN, details);
            return new LayerMap(chosen, Shape.of(h, w, c), activations, alphas, coarse, e);
        } finally {
            for (Parameter p : frozen) p.value().requiresGrad(true);
            model.train(wasTraining);
        }
    }

    /** The layer asked for, or the last with an [h, w, c] output for -1; any other index is refused, saying why. */
    static int chooseLayer(List<Layer> layers, Shape inputShape, int layer) {
        List<Shape> outputs = new ArrayList<>();
        Shape s = inputShape;
        for (Layer l : layers) outputs.add(s = l.outputShape(s));
        if (layer == -1) {
            for (int i = layers.size() - 1; i >= 0; i--)
                if (outputs.get(i).rank() == 3) return i;
            throw new IllegalArgumentException("Grad-CAM needs a convolutional layer: no layer of the model has an output [h, w, c] (outputs: " + outputs + ")");
        }
        if (layer < 0 || layer >= layers.size())
            throw new IllegalArgumentException("Grad-CAM needs a convolutional layer: there is no layer " + layer
                    + " (the model's layers are 0 to " + (layers.size() - 1) + ", or -1 for the last convolutional one)");
        if (outputs.get(layer).rank() != 3)
            throw new IllegalArgumentException("Grad-CAM needs a convolutional layer: layer " + layer + " ("
                    + layers.get(layer).getClass().getSimpleName() + ") has output " + outputs.get(layer) + ", not [h, w, c]");
        return layer;
    }

    /**
     * Bilinear resize of a row-major {@code [h, w]} map to {@code [outH, outW]} with half-pixel centres:
     * output pixel {@code d} samples the input at {@code (d + 0.5) * in / out - 0.5}, clamped to the
     * edge pixels, from its two neighbours along each axis.
     */
    static float[] upsample(float[] map, int h, int w, int outH, int outW) {
        float[] out = new float[outH * outW];
        for (int y = 0; y < outH; y++) {
            double sy = Math.max(0, (y + 0.5) * h / outH - 0.5);
            int y0 = Math.min((int) sy, h - 1), y1 = Math.min(y0 + 1, h - 1);
            double ly = sy - y0;
            for (int x = 0; x < outW; x++) {
                double sx = Math.max(0, (x + 0.5) * w / outW - 0.5);
                int x0 = Math.min((int) sx, w - 1), x1 = Math.min(x0 + 1, w - 1);
                double lx = sx - x0;
                double top = (1 - lx) * map[y0 * w + x0] + lx * map[y0 * w + x1];
                double bottom = (1 - lx) * map[y1 * w + x0] + lx * map[y1 * w + x1];
                out[y * outW + x] = (float) ((1 - ly) * top + ly * bottom);
            }
        }
        return out;
    }
}
