package dev.jumbo.nn;

import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import java.util.Map;

/**
 * ResNet's basic block (He et al. 2015, v1) over NHWC images:
 * {@code relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))}, where conv1 is 3x3 with the
 * block's stride, conv2 is 3x3 with stride 1 (both 'same' padding), and the shortcut is the
 * identity when the shape is kept, or a strided 1x1 convolution followed by batch normalization
 * when the stride or the channel count changes. Its parts are ordinary {@link Conv2D} and
 * {@link BatchNormalization} layers registered as {@code conv1, bn1, conv2, bn2} (and
 * {@code shortcut_conv, shortcut_bn}), so their gradients, moving statistics, freezing and saved
 * weights are theirs; the convolutions keep a bias, redundant before batch norm but harmless.
 * The activation is ReLU unless another is given (a smooth one lets a gradient check avoid
 * ReLU's kink, which batch-normalised values sit next to). The norms' momentum defaults to 0.9,
 * torchvision's ResNet (PyTorch's momentum 0.1), not Keras' 0.99: the moving statistics then follow
 * the last ~10 steps, not ~100, and a small ResNet that changes fast in its first epochs is
 * evaluated with statistics of its current weights (Fashion-MNIST classes 0-4 after one epoch:
 * test accuracy 0.64 with 0.99, against 0.89 once the statistics were re-estimated).
 *
 * <pre>{@code
 * Layer same = new ResidualBlock(16, 1);    // [14, 14, 16] -> [14, 14, 16], identity shortcut
 * Layer down = new ResidualBlock(32, 2);    // [14, 14, 16] -> [7, 7, 32], 1x1 projection shortcut
 * }</pre>
 */
public final class ResidualBlock extends Layer {
    private final int filters;
    private final int strides;
    private final Activation activation;
    private final double momentum;
    private Conv2D conv1, conv2, shortcutConv;
    private BatchNormalization bn1, bn2, shortcutBn;

    /** {@code filters} output channels; {@code strides} 1 keeps height and width, 2 halves them (rounding up); ReLU. */
    public ResidualBlock(int filters, int strides) {
        this(filters, strides, Activation.RELU);
    }

    /** The block with another activation in place of both ReLUs. */
    public ResidualBlock(int filters, int strides, Activation activation) {
        this(filters, strides, activation, 0.9);
    }

    /** The full form: {@code momentum} of the batch norms, in [0, 1]. */
    public ResidualBlock(int filters, int strides, Activation activation, double momentum) {
        this.filters = Check.positive("ResidualBlock", "filters", filters);
        this.strides = Check.positive("ResidualBlock", "strides", strides);
        this.activation = Check.activation("ResidualBlock", activation);
        if (!(momentum >= 0 && momentum <= 1)) throw new IllegalArgumentException("ResidualBlock momentum must be in [0, 1], got " + momentum);
        this.momentum = momentum;
    }

    /** Whether the shortcut needs a projection for an input with {@code channels} channels. */
    private boolean projects(int channels) {
        return strides != 1 || channels != filters;
    }

    @Override
    protected void onBuild(Shape inputShape) {
        conv1 = register("conv1", new Conv2D(filters, 3, 3, strides, strides, "same", Activation.LINEAR));
        bn1 = register("bn1", new BatchNormalization(momentum, 1e-3));
        conv2 = register("conv2", new Conv2D(filters, 3, 3, 1, 1, "same", Activation.LINEAR));
        bn2 = register("bn2", new BatchNormalization(momentum, 1e-3));
        Shape inner = conv1.outputShape(inputShape);
        conv1.build(inputShape);
        bn1.build(inner);
        conv2.build(inner);
        bn2.build(inner);
        if (projects(inputShape.dim(2))) {
            shortcutConv = register("shortcut_conv", new Conv2D(filters, 1, 1, strides, strides, "same", Activation.LINEAR));
            shortcutBn = register("shortcut_bn", new BatchNormalization(momentum, 1e-3));
            shortcutConv.build(inputShape);
            shortcutBn.build(inner);
        }
        train(isTraining()); // parts made now follow the mode the block was put in before it was built
    }

    @Override
    protected Tensor call(Tensor x) {
        Tensor h = activation.apply(bn1.forward(conv1.forward(x)));
        h = bn2.forward(conv2.forward(h));
        Tensor shortcut = shortcutConv == null ? x : shortcutBn.forward(shortcutConv.forward(x));
        return activation.apply(h.add(shortcut));
    }

    @Override
    public Shape outputShape(Shape inputShape) {
        if (inputShape.rank() != 3 || inputShape.size() == 0) throw badInput(inputShape, "a non-empty [height, width, channels] image");
        if (conv1 != null) {
            int built = conv1.kernel().value().dim(2);
            if (inputShape.dim(2) != built) throw badInput(inputShape, built + " channels (it was built for that)");
        }
        return Shape.of(Math.ceilDiv(inputShape.dim(0), strides), Math.ceilDiv(inputShape.dim(1), strides), filters);
    }

    /** The three convolutions' multiply-adds (two 3x3, and the 1x1 projection when there is one). */
    @Override
    public long flops(Shape inputShape) {
        Shape out = outputShape(inputShape);
        long perPixel = 9L * inputShape.dim(2) + 9L * filters + (projects(inputShape.dim(2)) ? inputShape.dim(2) : 0);
        return 2L * out.dim(0) * out.dim(1) * filters * perPixel;
    }

    @Override
    protected void addConfig(Map<String, Object> config) {
        config.put("filters", filters);
        config.put("strides", strides);
        config.put("activation", activation.id());
        config.put("momentum", momentum);
    }
}
