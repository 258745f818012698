package dev.jumbo.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.jumbo.io.Safetensors;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.train.Sequential;
import dev.jumbo.train.SequentialGguf;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code jumbo export} of a CNN folder trained by {@code jumbo train}, each file read back by what runs it. */
class ExportCommandTest {
    @TempDir
    static Path tmp;
    static Path model;
    static Sequential trained;

    private final Random rnd = new Random(7);

    @BeforeAll
    static void trainOnce() throws Exception {
        Path data = TinyFashionMnist.write(tmp.resolve("fmnist"), 320, 64, 3);
        model = tmp.resolve("run");
        CliTest.Result r = CliTest.run("train", "fashion-mnist", "--data", data.toString(), "--arch", "cnn", "--epochs", "1",
                "--batch-size", "32", "--out", model.toString(), "--no-progress");
        assertThat(r.code()).as(r.err()).isZero();
        trained = Sequential.load(model);
    }

    private Tensor images(int n) {
        return Tensor.uniform(rnd, 0, 1, n, 28, 28, 1);
    }

    @Test
    void onnxRunsInOnnxRuntimeWithTheModelsOutputs() throws Exception {
        Path out = tmp.resolve("exports/cnn.onnx");
        CliTest.Result r = CliTest.run("export", "--model", model.toString(), "--format", "onnx", "--out", out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("ONNX opset 17").contains("cnn.onnx");
        Tensor x = images(5);
        float[] want = trained.predict(x, 5).toFloatArray(), got;
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession session = env.createSession(out.toString(), new OrtSession.SessionOptions());
             OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(x.toFloatArray()), new long[] {5, 28, 28, 1});
             OrtSession.Result result = session.run(Map.of("input", in))) {
            FloatBuffer fb = ((OnnxTensor) result.get("output").orElseThrow()).getFloatBuffer();
            got = new float[fb.remaining()];
            fb.get(got);
        }
        assertThat(got).hasSize(50);
        double max = 0;
        for (int i = 0; i < got.length; i++) max = Math.max(max, Math.abs(got[i] - want[i]));
        assertThat(max).as("max abs difference, ONNX Runtime against Jumbo").isLessThanOrEqualTo(1e-4);
    }

    @Test
    void ggufLoadsBackWithIdenticalOutputs() throws Exception {
        Path out = tmp.resolve("cnn.gguf");
        CliTest.Result r = CliTest.run("export", "--model", model.toString(), "--format", "gguf", "--out", out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        Tensor x = images(4);
        assertThat(SequentialGguf.load(out).predict(x, 4).toFloatArray()).containsExactly(trained.predict(x, 4).toFloatArray());
    }

    @Test
    void safetensorsCarriesTheArchitectureAndLoadsBackWithIdenticalOutputs() throws Exception {
        Path out = tmp.resolve("cnn.safetensors");
        CliTest.Result r = CliTest.run("export", "--model", model.toString(), "--format", "safetensors", "--out", out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        String config = Safetensors.readMetadata(out).get(ExportCommand.CONFIG_KEY);
        assertThat(config).isEqualTo(trained.configJson());
        Sequential back = Sequential.fromConfig(config, out);
        back.loadStateDict(Safetensors.read(out));
        Tensor x = images(3);
        assertThat(back.predict(x, 3).toFloatArray()).containsExactly(trained.predict(x, 3).toFloatArray());
    }

    @Test
    void refusesToWriteIntoTheModelFolder() throws Exception {
        List<String> before = List.of(model.toFile().list());
        for (String target : new String[] {"model.safetensors", "config.json", "cnn.onnx", "sub/cnn.onnx"}) {
            CliTest.Result r = CliTest.run("export", "--model", model.toString(), "--format", "onnx", "--out", model.resolve(target).toString());
            assertThat(r.code()).isEqualTo(1);
            assertThat(r.err()).contains("inside the model folder");
        }
        // a link to the folder is the folder
        Path link = Files.createSymbolicLink(tmp.resolve("link-to-run"), model);
        CliTest.Result viaLink = CliTest.run("export", "--model", model.toString(), "--format", "onnx", "--out", link.resolve("cnn.onnx").toString());
        assertThat(viaLink.code()).isEqualTo(1);
        assertThat(viaLink.err()).contains("inside the model folder");
        CliTest.Result r = CliTest.run("export", "--model", model.toString(), "--format", "onnx", "--out", model.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("is a folder");
        assertThat(List.of(model.toFile().list())).containsExactlyInAnyOrderElementsOf(before);
        assertThat(Sequential.load(model).configJson()).isEqualTo(trained.configJson());
    }

    @Test
    void anUnsupportedLayerIsNamedAndNoFileIsLeft() throws Exception {
        Path lstm = tmp.resolve("lstm");
        new Sequential(dev.jumbo.tensor.Shape.of(6, 4), new dev.jumbo.nn.LSTM(5, false), new dev.jumbo.nn.Dense(2)).save(lstm);
        Path out = tmp.resolve("lstm-out/lstm.onnx");
        CliTest.Result r = CliTest.run("export", "--model", lstm.toString(), "--format", "onnx", "--out", out.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("layer 0 (LSTM)");
        assertThat(out).doesNotExist();
        // GGUF and safetensors hold any Sequential: they store tensors, not a graph
        Path gguf = tmp.resolve("lstm.gguf");
        assertThat(CliTest.run("export", "--model", lstm.toString(), "--format", "gguf", "--out", gguf.toString()).code()).isZero();
        Tensor x = Tensor.randn(rnd, 2, 6, 4);
        assertThat(SequentialGguf.load(gguf).predict(x, 2).toFloatArray()).containsExactly(Sequential.load(lstm).predict(x, 2).toFloatArray());
    }

    @Test
    void rejectsAnUnknownFormat() {
        CliTest.Result r = CliTest.run("export", "--model", model.toString(), "--format", "tflite", "--out", tmp.resolve("m.tflite").toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("--format 'tflite' is not one of onnx, gguf, safetensors");
        assertThat(Files.exists(tmp.resolve("m.tflite"))).isFalse();
    }
}
