package dev.jumbo.compress;

import dev.jumbo.kernel.Int8Kernels;
import dev.jumbo.nn.ActivationScale;
import dev.jumbo.nn.Conv2D;
import dev.jumbo.nn.Dense;
import dev.jumbo.nn.Layer;
import dev.jumbo.nn.Layers;
import dev.jumbo.nn.QuantizedConv2D;
import dev.jumbo.nn.QuantizedDense;
import dev.jumbo.tensor.GradMode;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.train.Sequential;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Post-training int8 quantization of a trained {@link Sequential}: a new model in which every
 * {@link Dense} becomes a {@link QuantizedDense} and every {@link Conv2D} a {@link QuantizedConv2D}
 * (weights symmetric per output channel), the other layers copied as they are. The input model is
 * left untouched.
 *
 * <p>Activation scales are either dynamic (each batch's {@code max|x| / 127}) or static: a
 * calibration pass runs the float model over sample inputs and records, for each quantized
 * layer, the <b>maximum</b> {@code |x|} of its input over all of them (not a percentile: a
 * clipped outlier costs more on these small models than the resolution it buys back).
 *
 * <pre>{@code
 * Sequential fast = Quantizer.dynamic(model);
 * Sequential fixed = Quantizer.calibrated(model, trainX.slice(0, 0, 512), 128);
 * fixed.save(Path.of("runs/cnn-int8"));
 * }</pre>
 */
public final class Quantizer {
    private Quantizer() {}

    /** The model with dynamic activation scales. */
    public static Sequential dynamic(Sequential model) {
        return quantize(model, ActivationScale.DYNAMIC, Map.of());
    }

    /** The model with static activation scales calibrated on {@code samples} ({@code [n, ...input shape]}), {@code batchSize} at a time. */
    public static Sequential calibrated(Sequential model, Tensor samples, int batchSize) {
        return quantize(model, ActivationScale.STATIC, calibrate(model, samples, batchSize));
    }

    /**
     * The largest {@code |x|} reaching each Dense and Conv2D layer (by its index in the model) as
     * the float model runs in inference mode over {@code samples}.
     *
     * @throws IllegalArgumentException if there are no samples or the batch size is not positive
     */
    public static Map<Integer, Float> calibrate(Sequential model, Tensor samples, int batchSize) {
        if (samples.rank() < 1 || samples.dim(0) == 0) throw new IllegalArgumentException("calibration needs at least one sample, got shape " + samples.shape());
        if (batchSize < 1) throw new IllegalArgumentException("calibration batch size must be positive, got " + batchSize);
        List<Layer> layers = model.layers();
        Map<Integer, Float> max = new HashMap<>();
        boolean was = model.isTraining();
        model.train(false);
        try (var scope = GradMode.noGrad()) {
            for (int from = 0; from < samples.dim(0); from += batchSize) {
                Tensor x = samples.slice(0, from, Math.min(samples.dim(0), from + batchSize));
                for (int i = 0; i < layers.size(); i++) {
                    Layer l = layers.get(i);
                    if (l instanceof Dense || l instanceof Conv2D) {
                        float[] v = x.toFloatArray();
                        max.merge(i, Int8Kernels.maxAbs(v, 0, v.length), Math::max);
                    }
                    x = l.forward(x);
                }
            }
        } finally {
            model.train(was);
        }
        return max;
    }

    /**
     * The model with its Dense and Conv2D layers quantized; for static scales, {@code inputMax}
     * gives each such layer's calibrated input range by index (see {@link #calibrate}).
     *
     * @throws IllegalArgumentException if a static scale is asked for a layer without a calibrated range
     */
    public static Sequential quantize(Sequential model, ActivationScale scale, Map<Integer, Float> inputMax) {
        Sequential out = new Sequential(model.inputShape());
        List<Layer> layers = model.layers();
        for (int i = 0; i < layers.size(); i++) {
            Layer l = layers.get(i);
            float s = 0;
            if (scale == ActivationScale.STATIC && (l instanceof Dense || l instanceof Conv2D)) {
                Float m = inputMax.get(i);
                if (m == null) throw new IllegalArgumentException("layer " + i + " (" + l.name() + ") has no calibrated input range");
                s = m / 127;
            }
            switch (l) {
                case Dense d -> out.add(QuantizedDense.of(d, scale, s));
                case Conv2D c -> out.add(QuantizedConv2D.of(c, scale, s));
                default -> {
                    Layer copy = Layers.fromConfig(l.config());
                    out.add(copy);
                    copy.loadStateDict(l.stateDict());
                }
            }
        }
        out.train(false);
        return out;
    }
}
