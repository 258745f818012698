package dev.jumbo.onnx;

import static dev.jumbo.onnx.OnnxGraph.integer;
import static dev.jumbo.onnx.OnnxGraph.ints;
import static dev.jumbo.onnx.OnnxGraph.real;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.jumbo.io.FormatException;
import dev.jumbo.nn.Activation;
import dev.jumbo.nn.ActivationLayer;
import dev.jumbo.nn.AvgPool2D;
import dev.jumbo.nn.BatchNormalization;
import dev.jumbo.nn.Conv2D;
import dev.jumbo.nn.Dense;
import dev.jumbo.nn.Dropout;
import dev.jumbo.nn.Flatten;
import dev.jumbo.nn.GlobalAveragePooling2D;
import dev.jumbo.nn.Init;
import dev.jumbo.nn.Layer;
import dev.jumbo.nn.MaxPool2D;
import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.optim.Adam;
import dev.jumbo.train.FitOptions;
import dev.jumbo.train.Sequential;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ONNX files read back into Sequentials: Jumbo's own exports (round trip, same predictions and
 * config), PyTorch-shaped NCHW graphs built here with the protobuf builders and run in ONNX Runtime,
 * and the graphs the loader must refuse, naming the node.
 */
class OnnxSequentialTest {
    @TempDir
    Path tmp;

    private final Random rnd = new Random(20261201);

    // ---------------------------------------------------------------- round trips of SequentialOnnx's files

    @Test
    void cnnWithBatchNormRoundTripsToTheSamePredictionsAndConfig() throws Exception {
        Init.seed(11);
        Sequential m = new Sequential(Shape.of(12, 10, 3),
                new Conv2D(4, 3, Activation.RELU), new BatchNormalization(), new MaxPool2D(2),
                new Conv2D(6, 3, 2, 1, 2, "same", Activation.TANH), new AvgPool2D(2, 2, 2, 2, "same"), new BatchNormalization(0.99, 1e-3),
                new Flatten(), new Dense(8, Activation.SIGMOID), new BatchNormalization(), new Dense(5, Activation.SOFTMAX));
        randomizeBatchNorm(m);
        Sequential back = roundTrip(m);
        assertThat(back.configJson()).isEqualTo(m.configJson());
        assertSamePredictions(m, back, 5);
    }

    @Test
    void mlpRoundTripsWithoutItsDropoutLayers() throws Exception {
        Init.seed(12);
        Sequential m = new Sequential(Shape.of(20), new Dense(16, Activation.LEAKY_RELU), new Dropout(0.3), new BatchNormalization(),
                new Dense(12, Activation.GELU), new Dense(7), new ActivationLayer(Activation.SOFTMAX));
        randomizeBatchNorm(m);
        Sequential back = roundTrip(m);
        // an inference graph has no dropout: the same model without it
        Sequential noDropout = new Sequential(Shape.of(20), new Dense(16, Activation.LEAKY_RELU), new BatchNormalization(),
                new Dense(12, Activation.GELU), new Dense(7, Activation.SOFTMAX));
        assertThat(back.configJson()).isEqualTo(noDropout.configJson());
        assertSamePredictions(m, back, 6);
    }

    @Test
    void everyLayerSequentialOnnxWritesRoundTrips() throws Exception {
        Init.seed(13);
        Sequential m = new Sequential(Shape.of(11, 9, 3),
                new Conv2D(5, 3, 2, 2, 1, "same", Activation.LEAKY_RELU), new BatchNormalization(0.99, 1e-3),
                new AvgPool2D(3, 2, 2, 2, "same"), new Conv2D(6, 2, 3, 1, 2, "valid", Activation.GELU_TANH), new ActivationLayer(Activation.SOFTMAX),
                new MaxPool2D(2, 2, 1, 1, "same"), new Conv2D(4, 1, Activation.SIGMOID), new BatchNormalization(),
                new GlobalAveragePooling2D(), new Dense(7, Activation.TANH), new Dense(3));
        randomizeBatchNorm(m);
        Sequential back = roundTrip(m);
        assertThat(back.configJson()).isEqualTo(m.configJson());
        assertSamePredictions(m, back, 4);

        // Dense on every pixel of an NHWC image, softmax over its channels, batch norm on raw pixels
        Sequential pixels = new Sequential(Shape.of(4, 5, 3), new BatchNormalization(), new Dense(6, Activation.RELU), new MaxPool2D(2),
                new Dense(4, Activation.SOFTMAX));
        randomizeBatchNorm(pixels);
        Sequential pixelsBack = roundTrip(pixels);
        assertThat(pixelsBack.configJson()).isEqualTo(pixels.configJson());
        assertSamePredictions(pixels, pixelsBack, 3);
    }

    @Test
    void anNhwcInputTransposedFirstIsReadAsNhwcWhoeverWroteIt() throws Exception {
        Init.seed(15);
        Sequential m = new Sequential(Shape.of(8, 7, 2), new Conv2D(3, 3, Activation.RELU), new MaxPool2D(2), new Flatten(), new Dense(4, Activation.SOFTMAX));
        // as tf2onnx writes a Keras model: NHWC input, a Transpose to NCHW before the first Conv
        ModelProto foreign = SequentialOnnx.toModel(m).toBuilder().setProducerName("tf2onnx").clearMetadataProps().build();
        Path file = tmp.resolve("nhwc.onnx");
        save(foreign, file);
        Sequential back = OnnxSequential.load(file);
        assertThat(back.inputShape()).isEqualTo(Shape.of(8, 7, 2));
        assertThat(back.configJson()).isEqualTo(m.configJson());
        assertSamePredictions(m, back, 3);
    }

    @Test
    void theLoadedModelTrainsLikeAnyOther() throws Exception {
        Init.seed(14);
        Sequential back = roundTrip(new Sequential(Shape.of(6, 6, 1), new Conv2D(2, 3, Activation.RELU), new Flatten(), new Dense(3, Activation.SOFTMAX)));
        assertThat(back.parameters()).allMatch(p -> p.trainable());
        assertThat(back.layers().getFirst()).isInstanceOf(Conv2D.class);
        float[] before = back.stateDict().get("0.kernel").toFloatArray();
        float[] y = new float[32];
        for (int i = 0; i < y.length; i++) y[i] = rnd.nextInt(3);
        back.compile(new Adam(1e-2), "sparse_categorical_crossentropy");
        var history = back.fit(Tensor.randn(rnd, 32, 6, 6, 1), Tensor.of(y, 32), FitOptions.defaults().epochs(3).batchSize(8));
        List<Double> loss = history.get("loss");
        assertThat(loss).hasSize(3);
        assertThat(loss.getLast()).isLessThan(loss.getFirst());
        assertThat(back.stateDict().get("0.kernel").toFloatArray()).isNotEqualTo(before);
    }

    // ---------------------------------------------------------------- PyTorch-shaped NCHW graphs

    @Test
    void pytorchStyleCnnMatchesOnnxRuntimeOnTheNhwcTranspose() throws Exception {
        Path file = tmp.resolve("torch_like.onnx");
        save(pytorchCnn(true), file);
        Sequential m = OnnxSequential.load(file);
        assertThat(m.inputShape()).isEqualTo(Shape.of(14, 12, 3));
        assertThat(m.layers().stream().map(l -> (String) l.config().get("type")).toList())
                .containsExactly("Conv2D", "MaxPool2D", "Conv2D", "MaxPool2D", "Flatten", "Dense", "Dense");
        assertThat(m.layers().get(0).config().get("padding")).isEqualTo("same"); // pads [1, 1, 1, 1] on a 3x3, stride 1
        assertThat(m.layers().get(0).config().get("activation")).isEqualTo("relu");
        assertThat(m.layers().getLast().config().get("activation")).isEqualTo("softmax");
        assertMatchesOnnxRuntime(file, m, 3, 14, 12, 4);
    }

    @Test
    void reshapeToBatchByMinusOneIsAFlatten() throws Exception {
        Path file = tmp.resolve("reshape.onnx");
        save(pytorchCnn(false), file);
        assertMatchesOnnxRuntime(file, OnnxSequential.load(file), 3, 14, 12, 2);
    }

    @Test
    void batchNormGlobalPoolingAndGemmAttributesMatchOnnxRuntime() throws Exception {
        // Conv (no bias) + BatchNormalization op + Relu + GlobalAveragePool + Flatten + Gemm(alpha, beta, transB=0) + Sigmoid, opset 13
        Graph g = new Graph(13, "x", 2, 9, 7);
        g.conv(5, 2, 3, 3, 1, new int[] {0, 0, 0, 0}, false, n -> { });
        String[] bn = {g.init("bn_scale", positive(5)), g.init("bn_bias", random(0.5f, 5)), g.init("bn_mean", random(0.5f, 5)), g.init("bn_var", positive(5))};
        g.g.add(g.g.builder("BatchNormalization", "bn", List.of(g.g.x, bn[0], bn[1], bn[2], bn[3])).addAttribute(real("epsilon", 1e-4f)));
        g.g.node("Relu", "relu", List.of(g.g.x));
        g.g.node("GlobalAveragePool", "gap", List.of(g.g.x));
        g.g.add(g.g.builder("Flatten", "flatten", List.of(g.g.x)).addAttribute(integer("axis", 1)));
        String w = g.init("fc_w", random(0.5f, 5, 4)), b = g.init("fc_b", random(0.5f, 4));
        g.g.add(g.g.builder("Gemm", "fc", List.of(g.g.x, w, b)).addAttribute(real("alpha", 0.7f)).addAttribute(real("beta", 1.5f)));
        g.g.node("Sigmoid", "out", List.of(g.g.x));
        Path file = tmp.resolve("bn_gap.onnx");
        save(g.model("out", 4), file);
        Sequential m = OnnxSequential.load(file);
        assertThat(m.layers().stream().map(l -> (String) l.config().get("type")).toList())
                .containsExactly("Conv2D", "BatchNormalization", "ActivationLayer", "GlobalAveragePooling2D", "Dense");
        assertMatchesOnnxRuntime(file, m, 2, 9, 7, 3);
    }

    @Test
    void perChannelInputNormalizationIsABatchNormalization() throws Exception {
        // (x - mean) / std per channel, as a torchvision-style preprocessing folded into the graph, then Conv + Tanh + Flatten + Gemm
        Graph g = new Graph(17, "x", 3, 6, 5);
        g.g.apply("Sub", "center", g.init("mean", Tensor.of(new float[] {0.485f, 0.456f, 0.406f}, 1, 3, 1, 1)));
        g.g.apply("Div", "scale", g.init("std", Tensor.of(new float[] {0.229f, 0.224f, 0.225f}, 3, 1, 1)));
        g.conv(4, 3, 3, 3, 1, new int[] {1, 1, 1, 1}, true, n -> { });
        g.g.node("Tanh", "tanh", List.of(g.g.x));
        g.g.add(g.g.builder("Flatten", "flatten", List.of(g.g.x)).addAttribute(integer("axis", 1)));
        gemm(g, "fc", 4 * 6 * 5, 3);
        Path file = tmp.resolve("normalized.onnx");
        save(g.model("fc", 3), file);
        Sequential m = OnnxSequential.load(file);
        assertThat(m.layers().stream().map(l -> (String) l.config().get("type")).toList()).containsExactly("BatchNormalization", "Conv2D", "Flatten", "Dense");
        assertMatchesOnnxRuntime(file, m, 3, 6, 5, 3);
    }

    @Test
    void torchExportedFixturesMatchOnnxRuntimeAndTorch() throws Exception {
        // written by src/test/resources/onnx/make_torch_cnn.py with PyTorch 1.13's exporter (opset 13, dynamic batch);
        // batch norm folded into the first convolution by the exporter, GELU read back from Div, Erf, Add, Mul, Mul
        assertTorchFixture("torch_cnn", "Conv2D:relu", "MaxPool2D:", "Conv2D:relu", "AvgPool2D:", "Flatten:", "Dense:gelu", "Dense:softmax");
        // x.view(x.size(0), -1): Shape, Gather, Unsqueeze, Concat and Reshape read as a Flatten
        assertTorchFixture("torch_view", "Conv2D:tanh", "Flatten:", "Dense:sigmoid");
    }

    private void assertTorchFixture(String name, String... layers) throws Exception {
        Path file = Path.of(getClass().getResource("/onnx/" + name + ".onnx").toURI());
        Sequential m = OnnxSequential.load(file);
        assertThat(m.inputShape()).isEqualTo(Shape.of(16, 16, 3));
        assertThat(m.layers().stream().map(l -> l.config().get("type") + ":" + l.config().getOrDefault("activation", "")).toList())
                .containsExactly(layers);
        assertMatchesOnnxRuntime(file, m, 3, 16, 16, 3);

        // PyTorch's own outputs for the input the script makes, x[i] = sin(0.37 i) in NCHW order
        List<String> lines = Files.readAllLines(Path.of(getClass().getResource("/onnx/" + name + "_expected.txt").toURI()));
        float[] want = new float[lines.size()];
        for (int i = 0; i < want.length; i++) want[i] = Float.parseFloat(lines.get(i).trim());
        float[] nchw = new float[2 * 3 * 16 * 16];
        for (int i = 0; i < nchw.length; i++) nchw[i] = (float) Math.sin(0.37 * i);
        float[] got = m.predict(Tensor.of(nchw, 2, 3, 16, 16).permute(0, 2, 3, 1).contiguous(), 2).toFloatArray();
        double max = maxAbsDiff(got, want);
        System.out.printf("%s: max abs difference from PyTorch %.2e%n", name, max);
        assertThat(max).as("Jumbo against PyTorch").isLessThanOrEqualTo(1e-4);
    }

    // ---------------------------------------------------------------- refusals

    @Test
    void refusesAResidualAddNamingIt() throws Exception {
        Graph g = new Graph(17, "x", 4, 6, 6);
        g.conv(4, 4, 3, 3, 1, new int[] {1, 1, 1, 1}, true, n -> { });
        String skip = g.g.node("Relu", "relu1", List.of(g.g.x));
        g.conv(4, 4, 3, 3, 1, new int[] {1, 1, 1, 1}, true, n -> { });
        g.g.node("Add", "residual_add", List.of(g.g.x, skip));
        assertRefused(g.model("residual_add", 4, 6, 6), "node 3 'residual_add' (Add)", "residual");
    }

    @Test
    void refusesAnUnsupportedOperatorNamingIt() throws Exception {
        Graph g = new Graph(17, "x", 3, 6, 6);
        g.conv(4, 3, 3, 3, 1, new int[] {0, 0, 0, 0}, true, n -> { });
        g.g.node("Elu", "elu_1", List.of(g.g.x));
        assertRefused(g.model("elu_1", 4, 4, 4), "node 1 'elu_1' (Elu)", "not supported");
    }

    @Test
    void refusesGroupedConvolutionNamingIt() throws Exception {
        Graph g = new Graph(17, "x", 4, 6, 6);
        g.conv(6, 2, 3, 3, 1, new int[] {1, 1, 1, 1}, true, n -> n.addAttribute(integer("group", 2)));
        assertRefused(g.model("conv0", 6, 6, 6), "node 0 'conv0' (Conv)", "groups=2");
    }

    @Test
    void refusesWhatJumbosLayersCannotExpress() throws Exception {
        Graph dilated = new Graph(17, "x", 2, 9, 9);
        dilated.conv(3, 2, 3, 3, 1, new int[] {0, 0, 0, 0}, true, n -> n.addAttribute(ints("dilations", 2, 2)));
        assertRefused(dilated.model("conv0", 3, 5, 5), "node 0 'conv0' (Conv)", "dilation");

        // PyTorch's padding=1 with stride 2 on an even input: [1, 1, 1, 1], where Keras' 'same' pads [0, 0, 1, 1]
        Graph strided = new Graph(17, "x", 2, 8, 8);
        strided.conv(3, 2, 3, 3, 2, new int[] {1, 1, 1, 1}, true, n -> { });
        assertRefused(strided.model("conv0", 3, 4, 4), "node 0 'conv0' (Conv)", "pads [1, 1, 1, 1]", "[0, 0, 1, 1]");

        Graph leaky = new Graph(17, "x", 5);
        leaky.g.add(leaky.g.builder("LeakyRelu", "lrelu", List.of("x")).addAttribute(real("alpha", 0.01f)));
        assertRefused(leaky.model("lrelu", 5), "node 0 'lrelu' (LeakyRelu)", "alpha=0.01");

        Graph branch = new Graph(17, "x", 5);
        String a = branch.g.node("Relu", "a", List.of("x"));
        branch.g.node("Sigmoid", "b", List.of("x"));
        branch.g.node("Tanh", "c", List.of(a));
        assertRefused(branch.model("c", 5), "node 0 'a' (Relu)", "also feeds node 1 'b' (Sigmoid)");
    }

    @Test
    void refusesATransformerGraphSayingWhy() throws Exception {
        ModelProto miniLm;
        try (var in = getClass().getResourceAsStream("/all-minilm-l6-v2.onnx")) {
            assertThat(in).as("all-minilm-l6-v2.onnx on the test class path").isNotNull();
            miniLm = ModelProto.parseFrom(in);
        }
        Path name = Path.of("all-minilm-l6-v2.onnx");
        assertThatThrownBy(() -> OnnxSequential.fromModel(miniLm, name)).isInstanceOf(FormatException.class)
                .hasMessageStartingWith("all-minilm-l6-v2.onnx: the graph has 3 inputs").hasMessageContaining("input_ids");
    }

    @Test
    void softmaxAxisIsReadAsItsOpsetMeansIt() throws Exception {
        // opset 11: softmax over every axis from `axis` on; over a vector's axis 1 that is Jumbo's softmax
        Graph vector = new Graph(11, "x", 6);
        gemm(vector, "fc", 6, 3);
        vector.g.node("Softmax", "probs", List.of(vector.g.x));
        Path file = tmp.resolve("softmax11.onnx");
        save(vector.model("probs", 3), file);
        assertThat(OnnxSequential.load(file).layers().getFirst().config().get("activation")).isEqualTo("softmax");

        // on an NCHW image, opset 11's axis 1 is a softmax over channels, height and width together: not Jumbo's
        Graph image = new Graph(11, "x", 2, 4, 4);
        image.conv(3, 2, 1, 1, 1, new int[] {0, 0, 0, 0}, true, n -> { });
        image.g.node("Softmax", "probs", List.of(image.g.x));
        assertRefused(image.model("probs", 3, 4, 4), "node 1 'probs' (Softmax)", "opset 11");

        // opset 13: axis 1 of an NCHW image is its channels, which Jumbo's softmax is over
        Graph image13 = new Graph(13, "x", 2, 4, 4);
        image13.conv(3, 2, 1, 1, 1, new int[] {0, 0, 0, 0}, true, n -> { });
        image13.g.add(image13.g.builder("Softmax", "probs", List.of(image13.g.x)).addAttribute(integer("axis", 1)));
        Path file13 = tmp.resolve("softmax13.onnx");
        save(image13.model("probs", 3, 4, 4), file13);
        Sequential m = OnnxSequential.load(file13);
        assertThat(m.layers().getFirst().config().get("activation")).isEqualTo("softmax");
        assertMatchesOnnxRuntime(file13, m, 2, 4, 4, 2); // the NCHW output against Jumbo's NHWC one: compared after transposing
    }

    @Test
    void malformedFilesGiveOneLineErrors() throws Exception {
        Path garbage = tmp.resolve("garbage.onnx");
        Files.write(garbage, new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, 0x0a, 0x7f, 0x01});
        assertThatThrownBy(() -> OnnxSequential.load(garbage)).isInstanceOf(FormatException.class).hasMessageStartingWith(garbage + ": not an ONNX model");

        Path empty = tmp.resolve("empty.onnx");
        Files.write(empty, new byte[0]);
        assertThatThrownBy(() -> OnnxSequential.load(empty)).isInstanceOf(FormatException.class).hasMessageContaining("no ONNX graph");

        Path whole = tmp.resolve("whole.onnx");
        save(pytorchCnn(true), whole);
        byte[] bytes = Files.readAllBytes(whole);
        Path truncated = tmp.resolve("truncated.onnx");
        Files.write(truncated, Arrays.copyOf(bytes, bytes.length * 2 / 3));
        assertThatThrownBy(() -> OnnxSequential.load(truncated)).isInstanceOf(FormatException.class).hasMessageStartingWith(truncated + ": ");

        // a weight whose bytes do not fill its shape
        ModelProto model = pytorchCnn(true);
        ModelProto shortWeight = model.toBuilder().setGraph(model.getGraph().toBuilder()
                .setInitializer(0, model.getGraph().getInitializer(0).toBuilder().setDims(0, 7))).build();
        assertRefused(shortWeight, "tensor 'w_conv0.weight' holds 648 bytes", "needs 756");

        assertThatThrownBy(() -> OnnxSequential.load(tmp.resolve("missing.onnx"))).isInstanceOf(java.nio.file.NoSuchFileException.class);
    }

    @Test
    void corruptedFilesLoadOrFailWithAFormatExceptionOnly() throws Exception {
        byte[] good = Files.readAllBytes(Path.of(getClass().getResource("/onnx/torch_cnn.onnx").toURI()));
        Path file = tmp.resolve("corrupted.onnx");
        Random r = new Random(7);
        int refused = 0;
        for (int trial = 0; trial < 300; trial++) {
            byte[] bytes = good.clone();
            // a few bytes changed where the graph's structure is (before the weights' bulk), or the file cut short
            if (trial % 10 == 0) bytes = Arrays.copyOf(bytes, r.nextInt(bytes.length));
            else for (int k = 0; k < 1 + r.nextInt(4); k++) bytes[r.nextInt(Math.min(bytes.length, 3000))] = (byte) r.nextInt(256);
            Files.write(file, bytes);
            try {
                OnnxSequential.load(file);
            } catch (FormatException e) {
                assertThat(e.getMessage()).startsWith(file + ": ").doesNotContain("\n");
                refused++;
            }
        }
        System.out.println("corrupted files refused: " + refused + " of 300");
        assertThat(refused).isPositive();
    }

    // ---------------------------------------------------------------- helpers

    /**
     * A PyTorch-exporter-shaped plain CNN on NCHW [3, 14, 12] images: Conv(3x3, pads 1)+Relu+MaxPool(2)+
     * Conv(3x3)+Relu+MaxPool(2)+Flatten (or Reshape to [0, -1])+Gemm(transB=1)+Relu+Gemm(transB=1)+Softmax.
     */
    private ModelProto pytorchCnn(boolean flatten) {
        Graph g = new Graph(17, "input.1", 3, 14, 12);
        g.conv(6, 3, 3, 3, 1, new int[] {1, 1, 1, 1}, true, n -> { });
        g.g.node("Relu", "relu1", List.of(g.g.x));
        g.g.add(g.g.builder("MaxPool", "pool1", List.of(g.g.x)).addAttribute(ints("kernel_shape", 2, 2)).addAttribute(ints("strides", 2, 2))
                .addAttribute(ints("pads", 0, 0, 0, 0)).addAttribute(integer("ceil_mode", 0)));
        g.conv(8, 6, 3, 3, 1, new int[] {0, 0, 0, 0}, true, n -> { });
        g.g.node("Relu", "relu2", List.of(g.g.x));
        g.g.add(g.g.builder("MaxPool", "pool2", List.of(g.g.x)).addAttribute(ints("kernel_shape", 2, 2)).addAttribute(ints("strides", 2, 2)));
        // [8, 2, 2] after: 14x12 -> 7x6 -> 5x4 -> 2x2
        if (flatten) g.g.add(g.g.builder("Flatten", "flatten", List.of(g.g.x)).addAttribute(integer("axis", 1)));
        else g.g.node("Reshape", "reshape", List.of(g.g.x, g.g.int64s("shape", 0, -1)));
        gemm(g, "fc1", 32, 16);
        g.g.node("Relu", "relu3", List.of(g.g.x));
        gemm(g, "fc2", 16, 4);
        g.g.add(g.g.builder("Softmax", "output", List.of(g.g.x)).addAttribute(integer("axis", 1)));
        return g.model("output", 4);
    }

    private void gemm(Graph g, String name, int in, int out) {
        String w = g.init(name + ".weight", random(0.4f, out, in)), b = g.init(name + ".bias", random(0.4f, out));
        g.g.add(g.g.builder("Gemm", name, List.of(g.g.x, w, b)).addAttribute(real("alpha", 1f)).addAttribute(real("beta", 1f))
                .addAttribute(integer("transB", 1)));
    }

    /** An NCHW graph under construction with a fixed-size input (batch symbolic), as an exporter writes it. */
    private final class Graph {
        final OnnxGraph g;
        final int opset;
        final String input;
        final int[] inputDims;
        private int convs;

        Graph(int opset, String input, int... inputDims) {
            this.g = new OnnxGraph(input);
            this.opset = opset;
            this.input = input;
            this.inputDims = inputDims;
        }

        String init(String name, Tensor t) {
            return g.initializer(name, t);
        }

        /** A Conv named conv{n} with random weights [f, c, kh, kw] and (if {@code bias}) a bias. */
        void conv(int f, int c, int kh, int kw, int stride, int[] pads, boolean bias, Consumer<NodeProto.Builder> more) {
            String p = "conv" + convs++;
            String w = init(p + ".weight", random((float) (1.5 / Math.sqrt(c * kh * kw)), f, c, kh, kw));
            List<String> in = bias ? List.of(g.x, w, init(p + ".bias", random(0.3f, f))) : List.of(g.x, w);
            NodeProto.Builder n = g.builder("Conv", p, in).addAttribute(ints("kernel_shape", kh, kw)).addAttribute(ints("strides", stride, stride))
                    .addAttribute(ints("pads", pads));
            more.accept(n);
            g.add(n);
        }

        ModelProto model(String output, int... outputDims) {
            Object[] in = new Object[inputDims.length + 1], out = new Object[outputDims.length + 1];
            in[0] = out[0] = "batch";
            for (int i = 0; i < inputDims.length; i++) in[i + 1] = inputDims[i];
            for (int i = 0; i < outputDims.length; i++) out[i + 1] = outputDims[i];
            return ModelProto.newBuilder().setIrVersion(8).setProducerName("pytorch").setProducerVersion("1.13")
                    .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset))
                    .setGraph(g.graph.setName("torch_jit").addInput(OnnxGraph.valueInfo(input, TensorProto.DataType.FLOAT_VALUE, in))
                            .addOutput(OnnxGraph.valueInfo(output, TensorProto.DataType.FLOAT_VALUE, out)).build())
                    .build();
        }
    }

    private Sequential roundTrip(Sequential m) throws Exception {
        Path file = Files.createTempFile(tmp, "jumbo", ".onnx");
        SequentialOnnx.write(m, file);
        return OnnxSequential.load(file);
    }

    private static void save(ModelProto model, Path file) throws Exception {
        Files.write(file, model.toByteArray());
    }

    /** Loading {@code model} fails with one FormatException whose message names the file and holds every part. */
    private void assertRefused(ModelProto model, String... parts) throws Exception {
        Path file = Files.createTempFile(tmp, "refused", ".onnx");
        save(model, file);
        try {
            OnnxSequential.load(file);
        } catch (FormatException e) {
            System.out.println("refused: " + e.problem());
            assertThat(e.getMessage()).startsWith(file + ": ").contains(parts);
            return;
        }
        throw new AssertionError(file + " loaded; it should have been refused");
    }

    /** The same outputs (max abs difference at most 1e-5) on a fresh random batch. */
    private void assertSamePredictions(Sequential want, Sequential got, int batch) {
        int[] in = want.inputShape().toArray(), dims = new int[in.length + 1];
        dims[0] = batch;
        System.arraycopy(in, 0, dims, 1, in.length);
        Tensor x = Tensor.randn(rnd, dims);
        double max = maxAbsDiff(got.predict(x, batch).toFloatArray(), want.predict(x, batch).toFloatArray());
        System.out.printf("round trip, %d layers: max abs difference %.2e%n", want.layers().size(), max);
        assertThat(max).as("max abs difference, loaded against original").isLessThanOrEqualTo(1e-5);
    }

    /** ONNX Runtime on a fresh random NCHW batch against Jumbo on its NHWC transpose, max abs difference at most 1e-4. */
    private void assertMatchesOnnxRuntime(Path file, Sequential m, int c, int h, int w, int batch) throws Exception {
        Tensor nchw = Tensor.randn(rnd, batch, c, h, w);
        float[] want;
        int outRank;
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession session = env.createSession(file.toString(), new OrtSession.SessionOptions());
             OnnxTensor input = OnnxTensor.createTensor(env, FloatBuffer.wrap(nchw.toFloatArray()), new long[] {batch, c, h, w});
             OrtSession.Result r = session.run(Map.of(session.getInputNames().iterator().next(), input))) {
            OnnxTensor out = (OnnxTensor) r.get(0);
            outRank = out.getInfo().getShape().length;
            FloatBuffer fb = out.getFloatBuffer();
            want = new float[fb.remaining()];
            fb.get(want);
        }
        Tensor y = m.predict(nchw.permute(0, 2, 3, 1).contiguous(), batch);
        // an image comes out of Jumbo NHWC, out of the graph NCHW
        float[] got = (outRank == 4 ? y.permute(0, 3, 1, 2).contiguous() : y).toFloatArray();
        assertThat(got).hasSameSizeAs(want);
        double max = maxAbsDiff(got, want);
        System.out.printf("%s: max abs difference from ONNX Runtime %.2e%n", file.getFileName(), max);
        assertThat(max).as("max abs difference, Jumbo against ONNX Runtime").isLessThanOrEqualTo(1e-4);
    }

    private static double maxAbsDiff(float[] a, float[] b) {
        assertThat(a).hasSameSizeAs(b);
        double max = 0;
        for (int i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
        return max;
    }

    private Tensor random(float scale, int... dims) {
        return Tensor.randn(rnd, dims).mul(scale);
    }

    private Tensor positive(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = 0.5f + rnd.nextFloat();
        return Tensor.of(v, n);
    }

    /** Gives batch norm's statistics and affine values away from 0 and 1, so a wrong formula shows. */
    private void randomizeBatchNorm(Sequential m) {
        for (Layer l : m.layers()) {
            if (!(l instanceof BatchNormalization)) continue;
            for (var e : l.stateDict().entrySet()) {
                float[] v = e.getValue().buffer();
                String k = e.getKey();
                if (k.equals("moving_variance") || k.equals("gamma")) for (int i = 0; i < v.length; i++) v[i] = 0.5f + rnd.nextFloat();
                else for (int i = 0; i < v.length; i++) v[i] = (float) rnd.nextGaussian() * 0.5f;
            }
        }
    }
}
