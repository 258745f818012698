package dev.jumbo.compress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumbo.io.Json;
import dev.jumbo.io.Safetensors;
import dev.jumbo.nn.Activation;
import dev.jumbo.nn.Conv2D;
import dev.jumbo.nn.Dense;
import dev.jumbo.nn.Flatten;
import dev.jumbo.nn.MaxPool2D;
import dev.jumbo.nn.QuantizedConv2D;
import dev.jumbo.nn.QuantizedDense;
import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.testing.GradCheck;
import dev.jumbo.train.Sequential;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QuantizerTest {
    @TempDir
    Path dir;

    private final Random rnd = GradCheck.random();

    private Sequential cnn() {
        return new Sequential(Shape.of(8, 8, 1), new Conv2D(4, 3, Activation.RELU), new MaxPool2D(2, 2, 2, 2, "valid"),
                new Flatten(), new Dense(6, Activation.RELU), new Dense(3, Activation.SOFTMAX));
    }

    @Test
    void calibrationRecordsTheLargestInputOfEachQuantizedLayer() {
        Sequential m = cnn();
        Tensor x = Tensor.randn(rnd, 10, 8, 8, 1);
        Map<Integer, Float> max = Quantizer.calibrate(m, x, 3);
        assertThat(max.keySet()).containsExactlyInAnyOrder(0, 3, 4);
        float first = 0;
        for (float v : x.toFloatArray()) first = Math.max(first, Math.abs(v));
        assertThat(max.get(0)).isEqualTo(first);
        // the last Dense sees the first Dense's outputs, relu'd
        float hidden = 0;
        Tensor h = x;
        for (int i = 0; i < 4; i++) h = m.layers().get(i).forward(h);
        for (float v : h.toFloatArray()) hidden = Math.max(hidden, Math.abs(v));
        assertThat(max.get(4)).isCloseTo(hidden, org.assertj.core.api.Assertions.within(1e-6f * (1 + hidden)));
        assertThatThrownBy(() -> Quantizer.calibrate(m, x.slice(0, 0, 0), 3)).hasMessageContaining("at least one sample");
    }

    @Test
    void quantizesDenseAndConvAndKeepsTheOtherLayersAndTheInput() {
        Sequential m = cnn();
        float[] before = m.stateDict().get("0.kernel").toFloatArray();
        Tensor x = Tensor.randn(rnd, 10, 8, 8, 1);
        Sequential q = Quantizer.calibrated(m, x, 4);
        assertThat(q.layers().get(0)).isInstanceOf(QuantizedConv2D.class);
        assertThat(q.layers().get(1)).isInstanceOf(MaxPool2D.class);
        assertThat(q.layers().get(3)).isInstanceOf(QuantizedDense.class);
        assertThat(m.stateDict().get("0.kernel").toFloatArray()).containsExactly(before);
        // each layer's static scale is its calibrated range over 127, by index
        Map<Integer, Float> max = Quantizer.calibrate(m, x, 10);
        for (int i : new int[] {0, 3, 4})
            assertThat(q.layers().get(i).stateDict().get("input_scale").toFloatArray()).containsExactly(max.get(i) / 127);
        // on the calibration data nothing saturates; how close the probabilities come is the
        // layers' business (QuantizedLayersTest), here only a gross miswiring must show
        float[] pf = m.predict(x, 5).toFloatArray(), pq = q.predict(x, 5).toFloatArray();
        for (int i = 0; i < pf.length; i++) assertThat(pq[i]).isCloseTo(pf[i], org.assertj.core.api.Assertions.within(0.1f));
    }

    @Test
    void savedAndLoadedGivesIdenticalOutputsWithInt8WeightsOnDisk() throws Exception {
        Sequential m = cnn();
        for (Sequential q : new Sequential[] {Quantizer.dynamic(m), Quantizer.calibrated(m, Tensor.randn(rnd, 10, 8, 8, 1), 10)}) {
            Path out = Files.createTempDirectory(dir, "q");
            q.save(out);
            Sequential back = Sequential.load(out);
            Tensor x = Tensor.randn(rnd, 7, 8, 8, 1);
            assertThat(back.predict(x, 3).toFloatArray()).containsExactly(q.predict(x, 3).toFloatArray());
            Map<?, ?> header = header(out.resolve(Sequential.WEIGHTS_FILE));
            assertThat(((Map<?, ?>) header.get("0.kernel")).get("dtype")).isEqualTo("I8");
            assertThat(((Map<?, ?>) header.get("3.kernel")).get("dtype")).isEqualTo("I8");
            assertThat(((Map<?, ?>) header.get("3.kernel_scale")).get("dtype")).isEqualTo("F32");
        }
    }

    @Test
    void aSavedInt8WeightOutsideTheSymmetricRangeFailsTheLoadNamingIt() throws Exception {
        Sequential q = Quantizer.dynamic(cnn());
        Map<String, Tensor> state = new java.util.LinkedHashMap<>(q.stateDict());
        float[] k = state.get("3.kernel").toFloatArray();
        k[5] = -128; // an I8 file can hold it; the symmetric products must not meet it
        state.put("3.kernel", Tensor.of(k, state.get("3.kernel").shape()));
        Path out = Files.createTempDirectory(dir, "bad");
        q.save(out);
        Safetensors.write(out.resolve(Sequential.WEIGHTS_FILE), state, null, Map.of("3.kernel", dev.jumbo.tensor.DType.I8));
        assertThatThrownBy(() -> Sequential.load(out)).isInstanceOf(dev.jumbo.io.FormatException.class)
                .hasMessageContaining("model.safetensors").hasMessageContaining("quantized_dense int8 weight 5 is -128.0");
    }

    @Test
    void safetensorsRefusesAnI8TensorThatIsNotWholeBytes() {
        Map<String, Tensor> t = Map.of("w", Tensor.of(new float[] {1, 2.5f}, 2));
        assertThatThrownBy(() -> Safetensors.write(dir.resolve("x.safetensors"), t, null, Map.of("w", dev.jumbo.tensor.DType.I8)))
                .hasMessageContaining("\"w\"").hasMessageContaining("element 1 is 2.5");
        assertThat(dir.resolve("x.safetensors")).doesNotExist();
    }

    private static Map<?, ?> header(Path file) throws Exception {
        try (InputStream in = Files.newInputStream(file)) {
            long n = ByteBuffer.wrap(in.readNBytes(8)).order(ByteOrder.LITTLE_ENDIAN).getLong();
            return (Map<?, ?>) Json.parse(new String(in.readNBytes((int) n), StandardCharsets.UTF_8));
        }
    }
}
