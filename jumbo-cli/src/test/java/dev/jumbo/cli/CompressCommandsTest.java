package dev.jumbo.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jumbo.compress.LayerSparsity;
import dev.jumbo.train.Sequential;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code jumbo prune} and {@code jumbo distill} end to end on a small CNN trained on the tiny Fashion-MNIST. */
class CompressCommandsTest {
    @TempDir
    static Path tmp;
    static Path data;
    static Path model;
    static byte[] weights, config;

    @BeforeAll
    static void trainTeacher() throws Exception {
        data = TinyFashionMnist.write(tmp.resolve("fmnist"), 640, 160, 11);
        model = tmp.resolve("cnn");
        CliTest.Result r = CliTest.run("train", "fashion-mnist", "--data", data.toString(), "--arch", "cnn", "--epochs", "2",
                "--batch-size", "32", "--out", model.toString(), "--no-progress");
        assertThat(r.code()).as(r.err()).isZero();
        weights = Files.readAllBytes(model.resolve("model.safetensors"));
        config = Files.readAllBytes(model.resolve("config.json"));
    }

    private static void assertInputUntouched() throws Exception {
        assertThat(Files.readAllBytes(model.resolve("model.safetensors"))).isEqualTo(weights);
        assertThat(Files.readAllBytes(model.resolve("config.json"))).isEqualTo(config);
        try (Stream<Path> s = Files.list(tmp)) {
            assertThat(s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("."))).as("no temporary folders left").isEmpty();
        }
    }

    @Test
    void unstructuredPruningReachesTheSparsityInEveryLayerAndKeepsAccuracy() throws Exception {
        Path out = tmp.resolve("pruned80");
        CliTest.Result r = CliTest.run("prune", "--model", model.toString(), "--sparsity", "0.8", "--fine-tune-epochs", "2",
                "fashion-mnist", "--data", data.toString(), "--out", out.toString(), "--json", "--no-progress");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode j = r.lastJson();
        assertThat(j.get("method").asText()).isEqualTo("unstructured");
        assertThat(j.get("kernel_sparsity_after").asDouble()).isCloseTo(0.8, within(0.001));
        assertThat(j.get("layers")).hasSize(4).allSatisfy(l -> {
            assertThat(l.get("sparsity_before").asDouble()).isLessThan(0.01);
            assertThat(l.get("sparsity_after").asDouble()).isCloseTo(0.8, within(0.02));
        });
        assertThat(j.get("parameters_after").asLong()).isEqualTo(j.get("parameters_before").asLong());
        assertThat(j.get("test_accuracy_after").asDouble()).isGreaterThan(0.5);
        assertThat(j.has("test_accuracy_pruned_at_once")).isTrue();
        assertThat(r.out()).contains("conv2d_0").contains("dense_6").contains("test accuracy").contains("80.0%");
        assertThat(r.err()).contains("epoch 2/2");
        // the saved model holds the zeros: per kernel, round(0.8 n) of 288, 18,432, 102,400 and 640
        List<LayerSparsity> saved = LayerSparsity.of(Sequential.load(out));
        assertThat(saved).extracting(LayerSparsity::zeros).containsExactly(230L, 14746L, 81920L, 512L);
        CliTest.Result e = CliTest.run("evaluate", "--model", out.toString(), "fashion-mnist", "--data", data.toString(), "--json");
        assertThat(e.lastJson().get("test_accuracy").asDouble()).isEqualTo(j.get("test_accuracy_after").asDouble());
        assertThat(out.resolve("labels.txt")).hasSameTextualContentAs(model.resolve("labels.txt"));
        assertInputUntouched();
    }

    @Test
    void globalPruningSharesOneThresholdAcrossLayers() throws Exception {
        Path out = tmp.resolve("global50");
        CliTest.Result r = CliTest.run("prune", "--model", model.toString(), "--sparsity", "0.5", "--global", "--fine-tune-epochs", "0",
                "fashion-mnist", "--data", data.toString(), "--out", out.toString(), "--json", "--no-progress");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode j = r.lastJson();
        assertThat(j.get("method").asText()).isEqualTo("unstructured-global");
        assertThat(j.get("kernel_sparsity_after").asDouble()).isCloseTo(0.5, within(1e-5));
        assertThat(j.get("test_accuracy_pruned_at_once").asDouble()).isEqualTo(j.get("test_accuracy_after").asDouble());
        // with one threshold the layers end up unequally sparse
        double first = j.get("layers").get(0).get("sparsity_after").asDouble(), big = j.get("layers").get(2).get("sparsity_after").asDouble();
        assertThat(Math.abs(first - big)).isGreaterThan(0.01);
        // a second run replaces the previous model folder at --out
        CliTest.Result again = CliTest.run("prune", "--model", model.toString(), "--sparsity", "0.3", "--global", "--fine-tune-epochs", "0",
                "fashion-mnist", "--data", data.toString(), "--out", out.toString());
        assertThat(again.code()).as(again.err()).isZero();
        assertThat(LayerSparsity.overall(LayerSparsity.of(Sequential.load(out)))).isCloseTo(0.3, within(1e-5));
        assertInputUntouched();
    }

    @Test
    void structuredPruningShrinksTheModelAsCountedByHand() throws Exception {
        Path out = tmp.resolve("structured50");
        CliTest.Result r = CliTest.run("prune", "--model", model.toString(), "--sparsity", "0.5", "--structured", "--fine-tune-epochs", "1",
                "fashion-mnist", "--data", data.toString(), "--out", out.toString(), "--json", "--no-progress");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode j = r.lastJson();
        // before: conv 3*3*1*32+32 = 320, conv 3*3*32*64+64 = 18,496, dense 1,600*64+64 = 102,464, dense 64*10+10 = 650
        assertThat(j.get("parameters_before").asLong()).isEqualTo(121_930);
        // after: conv 3*3*1*16+16 = 160, conv 3*3*16*32+32 = 4,640, dense 800*32+32 = 25,632, dense 32*10+10 = 330
        assertThat(j.get("parameters_after").asLong()).isEqualTo(30_762);
        assertThat(j.get("layers").get(2).get("kernel_shape_after").asText()).isEqualTo("[800, 32]");
        // FLOPs per example, 2 per multiply-add: before 2 (26*26*32*9 + 11*11*64*9*32 + 1600*64 + 64*10)
        // = 389,376 + 4,460,544 + 204,800 + 1,280 = 5,056,000; after 2 (26*26*16*9 + 11*11*32*9*16 + 800*32 + 32*10)
        // = 194,688 + 1,115,136 + 51,200 + 640 = 1,361,664 (conv2 loses both inputs and outputs: a quarter)
        assertThat(j.get("flops_before").asLong()).isEqualTo(5_056_000L);
        assertThat(j.get("flops_after").asLong()).isEqualTo(1_361_664L);
        assertThat(j.get("test_accuracy_after").asDouble()).isGreaterThan(0.5);
        assertThat(PruneCommand.parameters(Sequential.load(out))).isEqualTo(30_762);
        assertInputUntouched();
    }

    @Test
    void refusesToWriteOverTheInputFolder() throws Exception {
        for (Path out : List.of(model, tmp, model.resolve("."))) {
            CliTest.Result r = CliTest.run("prune", "--model", model.toString(), "--sparsity", "0.5", "--fine-tune-epochs", "0",
                    "fashion-mnist", "--data", data.toString(), "--out", out.toString());
            assertThat(r.code()).isEqualTo(1);
            assertThat(r.err()).contains("jumbo: error:").contains("--model folder").contains("never overwritten");
        }
        CliTest.Result d = CliTest.run("distill", "--teacher", model.toString(), "--student-arch", "mlp", "fashion-mnist",
                "--data", data.toString(), "--out", model.toString());
        assertThat(d.code()).isEqualTo(1);
        assertThat(d.err()).contains("--teacher folder");
        Path documents = Files.createDirectories(tmp.resolve("documents"));
        Files.writeString(documents.resolve("notes.txt"), "keep me");
        CliTest.Result other = CliTest.run("prune", "--model", model.toString(), "--sparsity", "0.5", "--fine-tune-epochs", "0",
                "fashion-mnist", "--data", data.toString(), "--out", documents.toString());
        assertThat(other.code()).isEqualTo(1);
        assertThat(other.err()).contains("not a model folder");
        assertThat(documents.resolve("notes.txt")).hasContent("keep me");
        CliTest.Result both = CliTest.run("prune", "--model", model.toString(), "--sparsity", "0.5", "--structured", "--global",
                "fashion-mnist", "--data", data.toString(), "--out", tmp.resolve("x").toString());
        assertThat(both.code()).isEqualTo(1);
        assertThat(both.err()).contains("use one of them");
        assertThat(tmp.resolve("x")).doesNotExist();
        assertInputUntouched();
    }

    @Test
    void distillTrainsAQuarterSizeStudentFromTheTeacher() throws Exception {
        Path out = tmp.resolve("student");
        CliTest.Result r = CliTest.run("distill", "--teacher", model.toString(), "--student-arch", "cnn-small", "fashion-mnist",
                "--data", data.toString(), "--temperature", "4", "--alpha", "0.9", "--epochs", "3", "--batch-size", "32",
                "--out", out.toString(), "--json", "--no-progress");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode j = r.lastJson();
        assertThat(j.get("teacher_parameters").asLong()).isEqualTo(121_930);
        assertThat(j.get("student_parameters").asLong()).isEqualTo(30_762);
        assertThat(j.get("student_test_accuracy").asDouble()).isGreaterThan(0.5);
        assertThat(r.err()).contains("epoch 3/3").contains("test_accuracy");
        CliTest.Result e = CliTest.run("evaluate", "--model", out.toString(), "fashion-mnist", "--data", data.toString(), "--json");
        assertThat(e.code()).as(e.err()).isZero();
        assertThat(e.lastJson().get("test_accuracy").asDouble()).isEqualTo(j.get("student_test_accuracy").asDouble());
        CliTest.Result bad = CliTest.run("distill", "--teacher", model.toString(), "--student-arch", "resnet", "fashion-mnist",
                "--data", data.toString(), "--out", tmp.resolve("y").toString());
        assertThat(bad.err()).contains("unknown student architecture 'resnet'");
        assertInputUntouched();
    }
}
