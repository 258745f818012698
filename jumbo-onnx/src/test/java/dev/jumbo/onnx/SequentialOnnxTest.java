package dev.jumbo.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
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
import dev.jumbo.nn.LSTM;
import dev.jumbo.nn.MaxPool2D;
import dev.jumbo.optim.Adam;
import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.train.FitOptions;
import dev.jumbo.train.Sequential;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sequentials exported to ONNX and run in ONNX Runtime on fresh random inputs (a batch size the
 * export never saw, so the symbolic batch is exercised), against {@link Sequential#predict}.
 */
class SequentialOnnxTest {
    private static final double TOLERANCE = 1e-4;

    @TempDir
    Path tmp;

    private final Random rnd = new Random(20261201);

    @Test
    void mlpMatchesOnnxRuntime() throws Exception {
        Init.seed(1);
        Sequential m = new Sequential(Shape.of(784), new Dense(64, Activation.RELU), new Dense(64, Activation.RELU), new Dense(10, Activation.SOFTMAX));
        assertMatches(m, 2);
        assertMatches(m, 9);
    }

    @Test
    void foundationCnnMatchesOnnxRuntime() throws Exception {
        // `jumbo train --arch cnn`'s architecture
        Init.seed(2);
        Sequential m = new Sequential(Shape.of(28, 28, 1),
                new Conv2D(32, 3, Activation.RELU), new MaxPool2D(2), new Conv2D(64, 3, Activation.RELU), new MaxPool2D(2),
                new Flatten(), new Dense(64, Activation.RELU), new Dense(10, Activation.SOFTMAX));
        assertMatches(m, 3);
    }

    @Test
    void everyCoveredLayerAndActivationMatchesOnnxRuntime() throws Exception {
        Init.seed(3);
        Sequential m = new Sequential(Shape.of(11, 9, 3),
                new Conv2D(5, 3, 2, 2, 1, "same", Activation.LEAKY_RELU), new BatchNormalization(0.9, 1e-3),
                new AvgPool2D(3, 2, 2, 2, "same"), new Conv2D(6, 2, 3, 1, 2, "valid", Activation.GELU), new ActivationLayer(Activation.SOFTMAX),
                new MaxPool2D(2, 2, 1, 1, "same"), new Conv2D(4, 1, Activation.SIGMOID), new Dropout(0.5), new BatchNormalization(),
                new Flatten(), new Dense(7, Activation.GELU_TANH), new BatchNormalization(), new Dense(5, Activation.TANH), new Dense(3));
        randomizeBatchNorm(m);
        assertMatches(m, 4);
    }

    @Test
    void globalPoolingAfterConvolutionAndOnRawImagesMatch() throws Exception {
        Init.seed(4);
        assertMatches(new Sequential(Shape.of(6, 6, 2), new Conv2D(3, 3, Activation.RELU), new GlobalAveragePooling2D(), new Dense(2, Activation.SOFTMAX)), 3);
        assertMatches(new Sequential(Shape.of(6, 6, 2), new BatchNormalization(), new GlobalAveragePooling2D(), new Dense(2)), 3);
        // Dense on every pixel of an image, then softmax over its channels
        assertMatches(new Sequential(Shape.of(4, 5, 3), new Dense(6, Activation.RELU), new MaxPool2D(2), new Dense(4, Activation.SOFTMAX)), 2);
    }

    @Test
    void brieflyTrainedCnnMatchesOnnxRuntime() throws Exception {
        Init.seed(5);
        Sequential m = new Sequential(Shape.of(12, 12, 1),
                new Conv2D(4, 3, Activation.RELU), new BatchNormalization(), new MaxPool2D(2), new Flatten(), new Dropout(0.2), new Dense(3, Activation.SOFTMAX));
        float[] y = new float[48];
        for (int i = 0; i < y.length; i++) y[i] = rnd.nextInt(3);
        m.compile(new Adam(1e-2), "sparse_categorical_crossentropy");
        m.fit(Tensor.randn(rnd, 48, 12, 12, 1), Tensor.of(y, 48), FitOptions.defaults().epochs(2).batchSize(16));
        assertMatches(m, 6);
    }

    @Test
    void statesItsOpsetAndSymbolicBatch() throws Exception {
        Init.seed(6);
        ModelProto proto = SequentialOnnx.toModel(new Sequential(Shape.of(4), new Dense(2)));
        assertThat(proto.getOpsetImport(0).getVersion()).isEqualTo(17);
        assertThat(proto.getOpsetImport(0).getDomain()).isEmpty();
        assertThat(proto.getGraph().getInput(0).getType().getTensorType().getShape().getDim(0).getDimParam()).isEqualTo("batch");
        assertThat(proto.getGraph().getOutput(0).getType().getTensorType().getShape().getDim(1).getDimValue()).isEqualTo(2);
    }

    @Test
    void refusesAnUnsupportedLayerNamingIt() {
        Init.seed(7);
        Sequential m = new Sequential(Shape.of(5, 3), new Dense(4), new LSTM(6, false), new Dense(2));
        Path file = tmp.resolve("lstm.onnx");
        assertThatThrownBy(() -> SequentialOnnx.write(m, file)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("layer 1 (LSTM)");
        assertThat(file).doesNotExist();
        assertThat(tmp.toFile().list()).isEmpty();
    }

    /** Gives batch norm's statistics and affine values away from 0 and 1, so a wrong formula shows. */
    private void randomizeBatchNorm(Sequential m) {
        for (var e : m.stateDict().entrySet()) {
            String k = e.getKey();
            float[] v = e.getValue().buffer();
            if (k.endsWith("moving_variance") || k.endsWith("gamma")) for (int i = 0; i < v.length; i++) v[i] = 0.5f + rnd.nextFloat();
            if (k.endsWith("moving_mean") || k.endsWith("beta")) for (int i = 0; i < v.length; i++) v[i] = (float) rnd.nextGaussian() * 0.5f;
        }
    }

    /** Exports {@code m}, runs the file in ONNX Runtime on a fresh batch of {@code batch}, compares with predict. */
    private void assertMatches(Sequential m, int batch) throws Exception {
        Path file = Files.createTempFile(tmp, "model", ".onnx");
        SequentialOnnx.write(m, file);
        int[] in = m.inputShape().toArray();
        long[] shape = new long[in.length + 1];
        shape[0] = batch;
        for (int i = 0; i < in.length; i++) shape[i + 1] = in[i];
        int[] dims = new int[shape.length];
        for (int i = 0; i < dims.length; i++) dims[i] = (int) shape[i];
        Tensor x = Tensor.randn(rnd, dims);
        float[] want = m.predict(x, batch).toFloatArray();

        OrtEnvironment env = OrtEnvironment.getEnvironment();
        float[] got;
        long[] gotShape;
        try (OrtSession session = env.createSession(file.toString(), new OrtSession.SessionOptions());
             OnnxTensor input = OnnxTensor.createTensor(env, FloatBuffer.wrap(x.toFloatArray()), shape);
             OrtSession.Result r = session.run(Map.of(SequentialOnnx.INPUT, input))) {
            OnnxTensor out = (OnnxTensor) r.get(SequentialOnnx.OUTPUT).orElseThrow();
            gotShape = out.getInfo().getShape();
            FloatBuffer fb = out.getFloatBuffer();
            got = new float[fb.remaining()];
            fb.get(got);
        }
        int[] outShape = m.outputShape().toArray();
        assertThat(gotShape[0]).isEqualTo(batch);
        for (int i = 0; i < outShape.length; i++) assertThat(gotShape[i + 1]).isEqualTo(outShape[i]);
        assertThat(got).hasSameSizeAs(want);
        double max = 0;
        for (int i = 0; i < got.length; i++) max = Math.max(max, Math.abs(got[i] - want[i]));
        System.out.printf("%d layers, batch %d: max abs difference %.2e%n", m.layers().size(), batch, max);
        assertThat(max).as("max abs difference, ONNX Runtime against Jumbo").isLessThanOrEqualTo(TOLERANCE);
    }
}
