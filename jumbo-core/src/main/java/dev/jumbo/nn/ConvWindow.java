package dev.jumbo.nn;

import dev.jumbo.tensor.Shape;
import java.util.List;
import java.util.Map;

/**
 * What a 2-D convolution layer slides over its input, whatever its weights hold: filters, kernel
 * size, strides and padding, checked once, with the output shape, FLOPs and config entries they
 * make. {@link Conv2D} and {@link QuantizedConv2D} share it.
 */
record ConvWindow(int filters, int kh, int kw, int strideH, int strideW, boolean same) {
    /** The arguments checked, errors naming {@code layer}; {@code padding} is "valid" or "same". */
    static ConvWindow of(String layer, int filters, int kh, int kw, int strideH, int strideW, String padding) {
        return new ConvWindow(Check.positive(layer, "filters", filters), Check.positive(layer, "kernel height", kh),
                Check.positive(layer, "kernel width", kw), Check.positive(layer, "stride height", strideH),
                Check.positive(layer, "stride width", strideW), Check.same(layer, padding));
    }

    /**
     * {@code [outH, outW, filters]} for a {@code [h, w, channels]} input, or {@code layer}'s error
     * saying why it does not fit ({@code builtChannels}: the channels its weights take, or -1 unbuilt).
     */
    Shape outputShape(Layer layer, Shape in, int builtChannels) {
        if (in.rank() != 3 || in.size() == 0) throw layer.badInput(in, "a non-empty [height, width, channels] image");
        if (builtChannels >= 0 && in.dim(2) != builtChannels) throw layer.badInput(in, builtChannels + " channels (it was built for that)");
        if (!same && (kh > in.dim(0) || kw > in.dim(1)))
            throw layer.badInput(in, "at least " + kh + "x" + kw + " pixels for its kernel with 'valid' padding");
        return Shape.of(outSize(in.dim(0), kh, strideH, same), outSize(in.dim(1), kw, strideW, same), filters);
    }

    /** {@code 2 · outH · outW · filters · kh · kw · channels}; bias and activation are not counted. */
    long flops(Shape in, Shape out) {
        return 2L * out.dim(0) * out.dim(1) * filters * kh * kw * in.dim(2);
    }

    /** The entries of a layer's config that rebuild this window. */
    void addConfig(Map<String, Object> config) {
        config.put("filters", filters);
        config.put("kernel_size", List.of(kh, kw));
        config.put("strides", List.of(strideH, strideW));
        config.put("padding", same ? "same" : "valid");
    }

    /** Output length of a sliding window along one axis, Keras rules. */
    static int outSize(int in, int window, int stride, boolean same) {
        return same ? Math.ceilDiv(in, stride) : (in - window) / stride + 1;
    }
}
