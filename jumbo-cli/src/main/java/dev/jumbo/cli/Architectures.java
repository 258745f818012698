package dev.jumbo.cli;

import dev.jumbo.nn.Activation;
import dev.jumbo.nn.ActivationLayer;
import dev.jumbo.nn.BatchNormalization;
import dev.jumbo.nn.Conv2D;
import dev.jumbo.nn.Dense;
import dev.jumbo.nn.Flatten;
import dev.jumbo.nn.GlobalAveragePooling2D;
import dev.jumbo.nn.MaxPool2D;
import dev.jumbo.nn.ResidualBlock;
import dev.jumbo.tensor.Shape;
import dev.jumbo.train.Sequential;

/** The built-in architectures of {@code jumbo train --arch}. */
final class Architectures {
    private Architectures() {}

    /**
     * {@code mlp}: Dense(64, relu) - Dense(64, relu) - Dense(classes, softmax) on flattened inputs;
     * {@code cnn}: Conv2D(32, 3x3, relu) - MaxPool(2) - Conv2D(64, 3x3, relu) - MaxPool(2) - Flatten -
     * Dense(64, relu) - Dense(classes, softmax) on [h, w, c] images; {@code dp-cnn}: Conv2D(16, 8x8,
     * stride 2, same, tanh) - MaxPool(2, stride 1) - Conv2D(32, 4x4, stride 2, tanh) - MaxPool(2,
     * stride 1) - Flatten - Dense(32, tanh) - Dense(classes, softmax), small and BatchNorm-free for DP-SGD;
     * {@code vgg}: two VGG blocks (Conv2D(8, 3x3, same, relu) twice - MaxPool(2), then the same with
     * 16 filters) - Flatten - Dense(64, relu) - Dense(classes, softmax); {@code vgg-bn}: the same with
     * BatchNorm between each convolution and its ReLU; {@code resnet}: a stride-2 stem
     * Conv2D(16, 3x3, same) - BatchNorm - ReLU, ResidualBlock(16), ResidualBlock(32, stride 2),
     * GlobalAveragePooling - Dense(classes, softmax); their batch norms have momentum 0.9 (torchvision's,
     * see {@link ResidualBlock}). vgg and resnet are kept small (2-3 MFLOPs per
     * 28x28 image, against cnn's 5) so a few Fashion-MNIST epochs take minutes on two cores.
     */
    static Sequential build(String arch, Shape example, int classes) {
        return build(arch, example, classes, 1);
    }

    /**
     * The same architectures with every hidden layer's units and filters multiplied by
     * {@code width} (rounded, at least 1): {@code cnn} at 0.5 has about a quarter of the
     * parameters, as {@code jumbo distill}'s {@code cnn-small} student.
     */
    static Sequential build(String arch, Shape example, int classes, double width) {
        if (!(width > 0 && width <= 16)) throw new IllegalArgumentException("width factor must be in (0, 16], got " + width);
        int d64 = scaled(64, width), c32 = scaled(32, width);
        return switch (arch) {
            case "mlp" -> new Sequential(Shape.of(example.size()),
                    new Dense(d64, Activation.RELU), new Dense(d64, Activation.RELU), new Dense(classes, Activation.SOFTMAX));
            case "cnn" -> {
                if (example.rank() != 3) throw new IllegalArgumentException("--arch cnn needs image data [height, width, channels], got examples of shape " + example);
                yield new Sequential(example,
                        new Conv2D(c32, 3, Activation.RELU), new MaxPool2D(2),
                        new Conv2D(d64, 3, Activation.RELU), new MaxPool2D(2),
                        new Flatten(), new Dense(d64, Activation.RELU), new Dense(classes, Activation.SOFTMAX));
            }
            case "dp-cnn" -> {
                // TF Privacy's MNIST tutorial CNN with Papernot et al.'s tempered sigmoid (tanh), for DP-SGD
                if (example.rank() != 3) throw new IllegalArgumentException("--arch dp-cnn needs image data [height, width, channels], got examples of shape " + example);
                yield new Sequential(example,
                        new Conv2D(scaled(16, width), 8, 8, 2, 2, "same", Activation.TANH), new MaxPool2D(2, 2, 1, 1, "valid"),
                        new Conv2D(c32, 4, 4, 2, 2, "valid", Activation.TANH), new MaxPool2D(2, 2, 1, 1, "valid"),
                        new Flatten(), new Dense(c32, Activation.TANH), new Dense(classes, Activation.SOFTMAX));
            }
            case "vgg", "vgg-bn" -> {
                if (example.rank() != 3) throw new IllegalArgumentException("--arch " + arch + " needs image data [height, width, channels], got examples of shape " + example);
                boolean bn = arch.equals("vgg-bn");
                Sequential m = new Sequential(example);
                for (int filters : new int[] {scaled(8, width), scaled(16, width)}) {
                    for (int k = 0; k < 2; k++) {
                        m.add(new Conv2D(filters, 3, 3, 1, 1, "same", bn ? Activation.LINEAR : Activation.RELU));
                        if (bn) m.add(new BatchNormalization(0.9, 1e-3)).add(new ActivationLayer(Activation.RELU));
                    }
                    m.add(new MaxPool2D(2));
                }
                yield m.add(new Flatten()).add(new Dense(d64, Activation.RELU)).add(new Dense(classes, Activation.SOFTMAX));
            }
            case "resnet" -> {
                if (example.rank() != 3) throw new IllegalArgumentException("--arch resnet needs image data [height, width, channels], got examples of shape " + example);
                int c16 = scaled(16, width);
                yield new Sequential(example,
                        new Conv2D(c16, 3, 3, 2, 2, "same", Activation.LINEAR), new BatchNormalization(0.9, 1e-3), new ActivationLayer(Activation.RELU),
                        new ResidualBlock(c16, 1), new ResidualBlock(c32, 2),
                        new GlobalAveragePooling2D(), new Dense(classes, Activation.SOFTMAX));
            }
            default -> throw new IllegalArgumentException("unknown architecture '" + arch + "': use mlp, cnn, dp-cnn, vgg, vgg-bn or resnet");
        };
    }

    private static int scaled(int units, double width) {
        return Math.max(1, (int) Math.round(units * width));
    }

    /** Batch size each architecture is trained with by default (the peers' settings). */
    static int defaultBatchSize(String arch) {
        return switch (arch) {
            case "cnn", "vgg", "vgg-bn", "resnet" -> 64;
            default -> 32;
        };
    }
}
