package dev.jumbo.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code jumbo quantize --method int8-*} on a CNN trained by {@code jumbo train} on a small dataset. */
class QuantizeInt8CommandTest {
    @TempDir
    static Path tmp;
    static Path data, model;
    static double fp32Accuracy;

    @BeforeAll
    static void trainOnce() throws Exception {
        data = TinyFashionMnist.write(tmp.resolve("fmnist"), 640, 160, 11);
        model = tmp.resolve("cnn");
        CliTest.Result r = CliTest.run("train", "fashion-mnist", "--data", data.toString(), "--arch", "cnn", "--epochs", "2",
                "--batch-size", "32", "--out", model.toString(), "--json", "--no-progress");
        assertThat(r.code()).as(r.err()).isZero();
        fp32Accuracy = evaluate(model);
    }

    private static double evaluate(Path dir) throws Exception {
        CliTest.Result r = CliTest.run("evaluate", "--model", dir.toString(), "fashion-mnist", "--data", data.toString(), "--json");
        assertThat(r.code()).as(r.err()).isZero();
        return r.lastJson().get("test_accuracy").asDouble();
    }

    /**
     * The bound: 160 test images, so one image is 0.625 points; int8 may change the class of up to
     * 3 of them (1.9 points). On this data the float CNN is far from its decision boundaries, so
     * more would mean the quantized model computes something else.
     */
    @Test
    void dynamicAndStaticInt8KeepTheAccuracyWithinTwoPoints() throws Exception {
        byte[] weightsBefore = Files.readAllBytes(model.resolve("model.safetensors"));
        assertThat(fp32Accuracy).isGreaterThan(0.5);
        for (String method : List.of("int8-dynamic", "int8-static")) {
            Path out = tmp.resolve("cnn-" + method);
            CliTest.Result r = method.equals("int8-static")
                    ? CliTest.run("quantize", "--model", model.toString(), "--method", method, "--calibration-data", "fashion-mnist",
                            "--data", data.toString(), "--calibration-examples", "200", "--out", out.toString())
                    : CliTest.run("quantize", "--model", model.toString(), "--method", method, "--out", out.toString());
            assertThat(r.code()).as(r.err()).isZero();
            assertThat(r.out()).contains("4 of 7 layers in int8");
            if (method.equals("int8-static")) assertThat(r.err()).contains("calibrated on the first 200 training examples");
            assertThat(Files.readString(out.resolve("config.json"))).contains("QuantizedConv2D").contains("QuantizedDense");
            // int8 kernels: the weights file is about a quarter of the float one
            assertThat(Files.size(out.resolve("model.safetensors"))).isLessThan(weightsBefore.length / 3);
            double accuracy = evaluate(out);
            System.out.printf("%s: test accuracy %.4f, fp32 %.4f%n", method, accuracy, fp32Accuracy);
            assertThat(accuracy).as(method).isCloseTo(fp32Accuracy, org.assertj.core.api.Assertions.within(0.019));
            CliTest.Result p = CliTest.run("predict", "--model", out.toString(), "fashion-mnist", "--data", data.toString(), "--count", "3");
            assertThat(p.code()).as(p.err()).isZero();
            assertThat(p.out().lines().count()).isGreaterThanOrEqualTo(3);
        }
        assertThat(Files.readAllBytes(model.resolve("model.safetensors"))).isEqualTo(weightsBefore);
        // a previous model folder at --out is replaced whole: static scales give way to dynamic ones
        Path again = tmp.resolve("cnn-int8-static");
        CliTest.Result r = CliTest.run("quantize", "--model", model.toString(), "--method", "int8-dynamic", "--out", again.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(Files.readString(again.resolve("config.json"))).contains("\"dynamic\"").doesNotContain("\"static\"");
        // the output folders were written aside and moved: no temporary folder remains
        try (var names = Files.list(tmp)) {
            assertThat(names.map(p -> p.getFileName().toString()).filter(n -> n.contains(".tmp")).toList()).isEmpty();
        }
    }

    @Test
    void refusesToWriteOverItsInputOrAnotherModelAndSaysWhatIsMissing() throws Exception {
        String[] names = Arrays.stream(model.toFile().list()).sorted().toArray(String[]::new);
        CliTest.Result same = CliTest.run("quantize", "--model", model.toString(), "--method", "int8-dynamic", "--out", model.resolve("../cnn").toString());
        assertThat(same.code()).isNotZero();
        assertThat(same.err()).contains("is the --model folder");
        CliTest.Result taken = CliTest.run("quantize", "--model", model.toString(), "--method", "int8-dynamic", "--out", data.toString());
        assertThat(taken.code()).isNotZero();
        assertThat(taken.err()).contains("is a folder with other files in it");
        CliTest.Result noData = CliTest.run("quantize", "--model", model.toString(), "--method", "int8-static", "--out", tmp.resolve("x").toString());
        assertThat(noData.err()).contains("int8-static needs --calibration-data");
        CliTest.Result both = CliTest.run("quantize", "--model", model.toString(), "--method", "int8-static", "--type", "q8_0", "--out", tmp.resolve("x").toString());
        assertThat(both.err()).contains("either --type").contains("not both");
        CliTest.Result bad = CliTest.run("quantize", "--model", model.toString(), "--method", "int4", "--out", tmp.resolve("x").toString());
        assertThat(bad.err()).contains("--method 'int4' is not one of int8-dynamic, int8-static");
        assertThat(tmp.resolve("x")).doesNotExist();
        assertThat(Arrays.stream(model.toFile().list()).sorted().toArray(String[]::new)).isEqualTo(names);
    }
}
