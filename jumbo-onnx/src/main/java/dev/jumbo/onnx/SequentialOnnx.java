package dev.jumbo.onnx;

import static dev.jumbo.onnx.OnnxGraph.integer;
import static dev.jumbo.onnx.OnnxGraph.ints;
import static dev.jumbo.onnx.OnnxGraph.real;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import dev.jumbo.io.AtomicFiles;
import dev.jumbo.nn.Activation;
import dev.jumbo.nn.Layer;
import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.train.Sequential;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A {@link Sequential} written as an ONNX model (opset {@value #OPSET}, IR version {@value #IR_VERSION})
 * that ONNX Runtime runs with the outputs of {@link Sequential#predict} (inference mode: dropout is
 * the identity, batch normalization uses its moving statistics).
 *
 * <p>The graph has one float input {@value #INPUT} of shape {@code [batch, ...inputShape]} and one
 * output {@value #OUTPUT} of shape {@code [batch, ...outputShape]}, {@code batch} symbolic. Images
 * stay NHWC at both ends, as Jumbo keeps them; ONNX's Conv and pooling work on NCHW, so a
 * Transpose goes in before the first convolution or pooling of a run and another after it, and
 * convolution kernels are stored transposed ({@code [kh, kw, c, f]} to ONNX's {@code [f, c, kh, kw]}).
 * Dense is MatMul + Add (its kernel is already ONNX's {@code [in, units]}), so it also applies at
 * every position of a higher-rank input, as Jumbo's does.
 *
 * <p>Covered layers: Dense, Conv2D, MaxPool2D, AvgPool2D, GlobalAveragePooling2D, Flatten,
 * Dropout, BatchNormalization, ActivationLayer, and every {@link Activation} (GELU as Erf, its tanh
 * form as Tanh, since opset 17 has no Gelu). Any other layer is refused, naming it.
 *
 * <pre>{@code
 * SequentialOnnx.write(Sequential.load(Path.of("runs/cnn")), Path.of("cnn.onnx"));
 * }</pre>
 */
public final class SequentialOnnx {
    /** The ONNX operator set the graph is written against. */
    public static final int OPSET = 17;
    /** The IR version that goes with {@link #OPSET} (ONNX 1.12). */
    public static final int IR_VERSION = 8;
    /** Names of the graph's input and output. */
    public static final String INPUT = "input", OUTPUT = "output";

    private SequentialOnnx() {}

    /** Writes {@code model} to {@code file}, atomically (a failure leaves any previous file whole). */
    public static void write(Sequential model, Path file) throws IOException {
        ModelProto proto = toModel(model);
        AtomicFiles.write(file, proto::writeTo);
    }

    /**
     * The model as an ONNX {@link ModelProto}; its weights are copied as they are now.
     *
     * @throws IllegalArgumentException naming the layer (its index and type) that cannot be exported
     */
    public static ModelProto toModel(Sequential model) {
        OnnxGraph g = new OnnxGraph(INPUT);
        Shape shape = model.inputShape();
        List<Layer> layers = model.layers();
        for (int i = 0; i < layers.size(); i++) {
            Layer layer = layers.get(i);
            Map<String, Object> c = layer.config();
            String type = (String) c.get("type");
            if (!layer.isBuilt()) throw new IllegalArgumentException("layer " + i + " (" + type + ") has no weights yet: build the model before exporting it");
            String p = "l" + i + "_";
            Map<String, Tensor> w = layer.stateDict();
            switch (type) {
                case "Dense" -> {
                    g.nhwc();
                    g.apply("MatMul", p + "matmul", g.initializer(p + "kernel", w.get("kernel")));
                    g.apply("Add", p + "bias", g.initializer(p + "bias", w.get("bias")));
                    activation(g, Activation.of((String) c.get("activation")), p);
                }
                case "Conv2D" -> {
                    g.nchw();
                    int[] k = pair(c.get("kernel_size")), s = pair(c.get("strides"));
                    String kernel = g.initializer(p + "kernel", transposeKernel(w.get("kernel"))), bias = g.initializer(p + "bias", w.get("bias"));
                    g.add(g.builder("Conv", p + "conv", List.of(g.x, kernel, bias))
                            .addAttribute(ints("kernel_shape", k)).addAttribute(ints("strides", s))
                            .addAttribute(ints("pads", pads(shape, k, s, "same".equals(c.get("padding"))))));
                    activation(g, Activation.of((String) c.get("activation")), p);
                }
                case "MaxPool2D", "AvgPool2D" -> {
                    g.nchw();
                    int[] k = pair(c.get("pool_size")), s = pair(c.get("strides"));
                    // AveragePool's default count_include_pad = 0 leaves padding out of the mean, as Jumbo does
                    String op = type.equals("MaxPool2D") ? "MaxPool" : "AveragePool";
                    g.add(g.builder(op, p + "pool", List.of(g.x)).addAttribute(ints("kernel_shape", k)).addAttribute(ints("strides", s))
                            .addAttribute(ints("pads", pads(shape, k, s, "same".equals(c.get("padding"))))));
                }
                case "GlobalAveragePooling2D" -> {
                    int[] axes = g.channelFirst ? new int[] {2, 3} : new int[] {1, 2};
                    g.add(g.builder("ReduceMean", p + "mean", List.of(g.x)).addAttribute(ints("axes", axes)).addAttribute(integer("keepdims", 0)));
                    g.channelFirst = false; // [batch, channels] either way
                }
                case "Flatten" -> {
                    g.nhwc(); // Jumbo flattens [h, w, c] in that order
                    g.add(g.builder("Flatten", p + "flatten", List.of(g.x)).addAttribute(integer("axis", 1)));
                }
                case "Dropout" -> { } // the identity at inference
                case "BatchNormalization" -> {
                    int channels = w.get("gamma").size();
                    // per channel; channel-first images broadcast it as [c, 1, 1]
                    int[] dims = g.channelFirst ? new int[] {channels, 1, 1} : new int[] {channels};
                    float eps = (float) ((Number) c.get("epsilon")).doubleValue();
                    float[] var = w.get("moving_variance").toFloatArray(), std = new float[channels];
                    // the operations BatchNormalization runs at inference, in its order: (x - mean) / sqrt(var + eps) * gamma + beta
                    for (int j = 0; j < channels; j++) std[j] = (float) Math.sqrt(var[j] + eps);
                    g.apply("Sub", p + "center", g.initializer(p + "moving_mean", reshape(w.get("moving_mean"), dims)));
                    g.apply("Div", p + "scale", g.initializer(p + "std", Tensor.of(std, dims)));
                    g.apply("Mul", p + "gamma", g.initializer(p + "gamma", reshape(w.get("gamma"), dims)));
                    g.apply("Add", p + "beta", g.initializer(p + "beta", reshape(w.get("beta"), dims)));
                }
                case "ActivationLayer" -> activation(g, Activation.of((String) c.get("activation")), p);
                default -> throw new IllegalArgumentException("layer " + i + " (" + type + ") cannot be exported to ONNX yet; the export covers Dense, Conv2D, "
                        + "MaxPool2D, AvgPool2D, GlobalAveragePooling2D, Flatten, Dropout, BatchNormalization and ActivationLayer");
            }
            shape = layer.outputShape(shape);
        }
        g.nhwc();
        g.node("Identity", OUTPUT, List.of(g.x));
        GraphProto graph = g.graph.setName("jumbo_sequential")
                .addInput(valueInfo(INPUT, model.inputShape()))
                .addOutput(valueInfo(OUTPUT, model.outputShape()))
                .build();
        return ModelProto.newBuilder()
                .setIrVersion(IR_VERSION)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
                .setProducerName("jumbo")
                .setProducerVersion("0.1.0")
                .addMetadataProps(StringStringEntryProto.newBuilder().setKey("jumbo.sequential.config").setValue(model.configJson()))
                .setGraph(graph)
                .build();
    }

    /** Applies {@code a} to the graph's current value. Softmax is over Jumbo's last axis, the channels, so an image goes back to NHWC first. */
    private static void activation(OnnxGraph g, Activation a, String p) {
        String x = g.x;
        switch (a) {
            case LINEAR -> { }
            case RELU -> g.node("Relu", p + "relu", List.of(x));
            case SIGMOID -> g.node("Sigmoid", p + "sigmoid", List.of(x));
            case TANH -> g.node("Tanh", p + "tanh", List.of(x));
            case LEAKY_RELU -> g.add(g.builder("LeakyRelu", p + "leaky_relu", List.of(x))
                    .addAttribute(real("alpha", Activation.LEAKY_RELU_SLOPE)));
            case SOFTMAX -> {
                g.nhwc();
                g.add(g.builder("Softmax", p + "softmax", List.of(g.x)).addAttribute(integer("axis", -1)));
            }
            case GELU -> g.gelu(x, p);
            case GELU_TANH -> g.geluTanh(x, p);
        }
    }

    /** Keras' 'same' padding as ONNX pads {@code [top, left, bottom, right]}: the odd pixel at the bottom/right. */
    private static int[] pads(Shape image, int[] k, int[] s, boolean same) {
        if (!same) return new int[] {0, 0, 0, 0};
        int[] pad = new int[4];
        for (int a = 0; a < 2; a++) {
            int in = image.dim(a), out = Math.ceilDiv(in, s[a]);
            int total = Math.max(0, (out - 1) * s[a] + k[a] - in);
            pad[a] = total / 2;
            pad[a + 2] = total - total / 2;
        }
        return pad;
    }

    private static Tensor transposeKernel(Tensor kernel) {
        int kh = kernel.dim(0), kw = kernel.dim(1), c = kernel.dim(2), f = kernel.dim(3);
        float[] from = kernel.toFloatArray(), to = new float[from.length];
        for (int y = 0; y < kh; y++)
            for (int x = 0; x < kw; x++)
                for (int ci = 0; ci < c; ci++)
                    for (int fi = 0; fi < f; fi++)
                        to[((fi * c + ci) * kh + y) * kw + x] = from[((y * kw + x) * c + ci) * f + fi];
        return Tensor.of(to, f, c, kh, kw);
    }

    private static Tensor reshape(Tensor t, int[] dims) {
        return Tensor.of(t.toFloatArray(), dims);
    }

    /** A float value of shape {@code [batch, ...example]}, {@code batch} symbolic. */
    private static ValueInfoProto valueInfo(String name, Shape example) {
        Object[] dims = new Object[example.rank() + 1];
        dims[0] = "batch";
        for (int i = 0; i < example.rank(); i++) dims[i + 1] = example.dim(i);
        return OnnxGraph.valueInfo(name, TensorProto.DataType.FLOAT_VALUE, dims);
    }

    private static int[] pair(Object listOfTwo) {
        List<?> l = (List<?>) listOfTwo;
        return new int[] {((Number) l.get(0)).intValue(), ((Number) l.get(1)).intValue()};
    }
}
