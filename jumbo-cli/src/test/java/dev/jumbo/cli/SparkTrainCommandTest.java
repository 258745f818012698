package dev.jumbo.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jumbo.io.Safetensors;
import dev.jumbo.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code jumbo train --spark}: the weights and test figures of {@code jumbo train} without it. */
class SparkTrainCommandTest {
    @TempDir
    static Path tmp;

    static Path data;

    @BeforeAll
    static void writeData() throws Exception {
        data = TinyFashionMnist.write(tmp.resolve("fmnist"), 640, 160, 7);
    }

    @Test
    void sparkLocalTwoTrainsTheModelTrainWithoutSparkTrains() throws Exception {
        List<String> common = List.of("train", "fashion-mnist", "--data", data.toString(), "--arch", "mlp", "--epochs", "2",
                "--batch-size", "64", "--seed", "3", "--json", "--no-progress");
        CliTest.Result local = CliTest.run(args(common, "--out", tmp.resolve("local").toString()));
        CliTest.Result spark = CliTest.run(args(common, "--out", tmp.resolve("spark").toString(), "--spark", "local[2]"));
        CliTest.Result sharded = CliTest.run(args(common, "--out", tmp.resolve("sharded").toString(), "--gradient-shards", "2"));
        assertThat(local.code()).as(local.err()).isZero();
        assertThat(spark.code()).as(spark.err()).isZero();
        assertThat(sharded.code()).as(sharded.err()).isZero();
        assertThat(spark.err()).contains("master local[2], 2 partitions, global batch 64 (without --spark, --gradient-shards 2 gives")
                .contains("epoch 2/2 - ");
        // the gradient added up as the two partitions add it: the same file, byte for byte
        assertThat(Files.mismatch(tmp.resolve("sharded/model.safetensors"), tmp.resolve("spark/model.safetensors"))).isEqualTo(-1L);

        Map<String, Tensor> a = Safetensors.read(tmp.resolve("local/model.safetensors")), b = Safetensors.read(tmp.resolve("spark/model.safetensors"));
        assertThat(b.keySet()).isEqualTo(a.keySet());
        double max = 0;
        for (String k : a.keySet()) {
            float[] x = a.get(k).toFloatArray(), y = b.get(k).toFloatArray();
            for (int i = 0; i < x.length; i++) max = Math.max(max, Math.abs(x[i] - y[i]));
        }
        assertThat(max).isLessThanOrEqualTo(1e-4);
        JsonNode l = local.lastJson(), s = spark.lastJson();
        assertThat(s.get("test_accuracy").asDouble()).isEqualTo(l.get("test_accuracy").asDouble());
        assertThat(s.get("seconds_per_epoch").asDouble()).isPositive();
    }

    @Test
    void aMasterNobodyListensOnIsOneLineNamingIt() {
        CliTest.Result r = CliTest.run("train", "fashion-mnist", "--data", data.toString(), "--arch", "mlp", "--spark", "spark://127.0.0.1:1",
                "--out", tmp.resolve("never").toString());
        assertThat(r.code()).isNotZero();
        assertThat(r.err().lines().filter(l -> l.startsWith("jumbo: error:")).toList()).singleElement().asString()
                .contains("cannot reach the Spark master at spark://127.0.0.1:1");
    }

    @Test
    void somethingThatIsNotAMasterUrlIsNamed() {
        CliTest.Result r = CliTest.run("train", "fashion-mnist", "--data", data.toString(), "--arch", "mlp", "--spark", "mnist",
                "--out", tmp.resolve("never").toString());
        assertThat(r.code()).isNotZero();
        assertThat(r.err().lines().filter(l -> l.startsWith("jumbo: error:")).toList()).singleElement().asString()
                .contains("--spark takes a master URL (local[*], local[2], spark://host:7077, ...), got 'mnist'");
    }

    private static String[] args(List<String> common, String... more) {
        return java.util.stream.Stream.concat(common.stream(), java.util.Arrays.stream(more)).toArray(String[]::new);
    }
}
