package dev.jumbo.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The jumbo command end to end, on a small dataset written by the test. */
class CliTest {
    @TempDir
    static Path tmp;
    static Path data;
    static Path model;
    static Result trained;

    record Result(int code, String out, String err) {
        JsonNode lastJson() throws Exception {
            List<String> lines = out.lines().toList();
            return new ObjectMapper().readTree(lines.getLast());
        }
    }

    /** The project's shared data folder ({@code ../shared/data} beside the checkout, as CI lays it too), found from the working directory up. */
    static Path sharedData() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent())
            if (Files.isDirectory(p.resolve("shared/data/llama2c"))) return p.resolve("shared/data");
        throw new IllegalStateException("shared/data not found beside the checkout or above " + Path.of("").toAbsolutePath());
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        // no autoflush, as on System.out: the command must flush what it printed
        int code = Main.run(args, new PrintWriter(out), new PrintWriter(err));
        return new Result(code, out.toString(), err.toString());
    }

    @BeforeAll
    static void trainOnce() throws Exception {
        data = TinyFashionMnist.write(tmp.resolve("fmnist"), 640, 160, 7);
        model = tmp.resolve("run");
        trained = run("train", "fashion-mnist", "--data", data.toString(), "--arch", "cnn", "--epochs", "2",
                "--batch-size", "32", "--out", model.toString(), "--json", "--no-progress");
    }

    @Test
    void trainWritesTheModelFolderMetricsChartAndJson() throws Exception {
        assertThat(trained.code()).as(trained.err()).isZero();
        JsonNode j = trained.lastJson();
        assertThat(j.get("epochs").asInt()).isEqualTo(2);
        assertThat(j.get("test_accuracy").asDouble()).isGreaterThan(0.5);
        assertThat(j.has("test_loss")).isTrue();
        assertThat(j.get("seconds_per_epoch").asDouble()).isPositive();
        assertThat(j.get("energy_joules_per_epoch").asDouble()).isPositive();
        assertThat(trained.out()).contains(j.get("energy_measured").asBoolean() ? "measured (RAPL)" : "estimated (CPU-seconds x W per core)");
        assertThat(model.resolve("config.json")).isRegularFile();
        assertThat(model.resolve("model.safetensors")).isRegularFile();
        assertThat(Files.readAllLines(model.resolve("metrics.csv"))).hasSize(3).first().asString()
                .isEqualTo("epoch,loss,accuracy,val_loss,val_accuracy");
        byte[] png = Files.readAllBytes(model.resolve("training.png"));
        assertThat(png).startsWith((byte) 0x89, (byte) 'P', (byte) 'N', (byte) 'G');
        assertThat(trained.err()).contains("epoch 1/2").contains("SIMD");
    }

    @Test
    void evaluatePrintsTheSameTestFiguresForTheSavedModel() throws Exception {
        Result r = run("evaluate", "--model", model.toString(), "fashion-mnist", "--data", data.toString(), "--json");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.lastJson().get("test_accuracy").asDouble()).isEqualTo(trained.lastJson().get("test_accuracy").asDouble());
        assertThat(r.lastJson().get("test_loss").asDouble()).isCloseTo(trained.lastJson().get("test_loss").asDouble(), org.assertj.core.api.Assertions.within(1e-6));
    }

    @Test
    void predictAndSummaryWork() {
        Result p = run("predict", "--model", model.toString(), "fashion-mnist", "--data", data.toString(), "--count", "3");
        assertThat(p.code()).as(p.err()).isZero();
        assertThat(p.out().lines()).hasSize(3).allMatch(l -> l.contains("predicted") && l.contains("label"));
        Result s = run("summary", "--model", model.toString());
        assertThat(s.code()).as(s.err()).isZero();
        assertThat(s.out()).contains("Conv2D").contains("Total params: 121,930").contains("FLOPs per example");
    }

    @Test
    void predictReadsUnlabelledCsvRows() throws Exception {
        StringBuilder csv = new StringBuilder();
        for (int j = 0; j < 784; j++) csv.append(j == 0 ? "" : ",").append("p").append(j);
        csv.append('\n');
        for (int r = 0; r < 2; r++) {
            for (int j = 0; j < 784; j++) csv.append(j == 0 ? "" : ",").append((j / 28 == 2 * r + 4) ? "0.9" : "0.1");
            csv.append('\n');
        }
        Path rows = tmp.resolve("rows.csv");
        Files.writeString(rows, csv);
        Result r = run("predict", "--model", model.toString(), "--input", rows.toString(), "--json");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.lastJson().get("predictions")).hasSize(2);
    }

    @Test
    void benchCommandsPrintTheirFiguresAsJson() throws Exception {
        Result gemm = run("bench", "gemm", "--sizes", "64,100", "--threads", "1,2", "--repeats", "2", "--warmup", "0.1", "--json");
        assertThat(gemm.code()).as(gemm.err()).isZero();
        JsonNode rows = gemm.lastJson().get("gemm");
        assertThat(rows).hasSize(4);
        assertThat(rows.get(3).get("n").asInt()).isEqualTo(100);
        assertThat(rows.get(3).get("threads").asInt()).isEqualTo(2);
        assertThat(rows.get(3).get("gflops").asDouble()).isPositive();

        Result infer = run("bench", "infer", "--arch", "mlp", "--batch-size", "16", "--repeats", "2", "--json");
        assertThat(infer.code()).as(infer.err()).isZero();
        assertThat(infer.lastJson().get("images_per_second").asDouble()).isPositive();

        Result train = run("bench", "train", "--arch", "mlp", "--data", data.toString(), "--json");
        assertThat(train.code()).as(train.err()).isZero();
        JsonNode t = train.lastJson();
        assertThat(t.get("batch_size").asInt()).isEqualTo(32);
        assertThat(t.get("seconds_per_epoch").asDouble()).isPositive();
        assertThat(t.get("first_epoch_seconds").asDouble()).isPositive();
        assertThat(t.get("peak_rss_mb").asDouble()).isPositive();
        assertThat(t.get("test_accuracy").asDouble()).isBetween(0.0, 1.0);
    }

    @Test
    void verboseAddsTheStackTrace() {
        Result r = run("summary", "--model", tmp.resolve("missing").toString(), "--verbose");
        assertThat(r.code()).isNotZero();
        assertThat(r.err()).contains("jumbo: error:").contains("\tat ");
    }

    @Test
    void truncatedWeightsEndWithOneLineNamingTheFile() throws Exception {
        Path bad = tmp.resolve("truncated");
        copyModel(bad);
        Path weights = bad.resolve("model.safetensors");
        byte[] all = Files.readAllBytes(weights);
        Files.write(weights, java.util.Arrays.copyOf(all, all.length / 2));
        Result r = run("evaluate", "--model", bad.toString(), "fashion-mnist", "--data", data.toString());
        assertOneLineError(r, weights.toString());
    }

    @Test
    void corruptedHeaderEndsWithOneLineNamingTheFile() throws Exception {
        Path bad = tmp.resolve("corrupt");
        copyModel(bad);
        Path weights = bad.resolve("model.safetensors");
        byte[] all = Files.readAllBytes(weights);
        all[10] = '#';
        Files.write(weights, all);
        assertOneLineError(run("evaluate", "--model", bad.toString(), "fashion-mnist", "--data", data.toString()), weights.toString());
    }

    @Test
    void unknownLayerInConfigEndsWithOneLineNamingTheFile() throws Exception {
        Path bad = tmp.resolve("unknown-layer");
        copyModel(bad);
        Path config = bad.resolve("config.json");
        Files.writeString(config, Files.readString(config).replace("\"MaxPool2D\"", "\"Teleporter2D\""));
        Result r = run("summary", "--model", bad.toString());
        assertOneLineError(r, config.toString());
        assertThat(r.err()).contains("Teleporter2D");
    }

    @Test
    void idxWithWrongMagicOrShortReadEndsWithOneLineNamingTheFile() throws Exception {
        Path wrongMagic = TinyFashionMnist.write(tmp.resolve("wrong-magic"), 10, 10, 1);
        Path labels = wrongMagic.resolve("t10k-labels-idx1-ubyte.gz");
        // type code 0x09 (signed byte) where the loader needs 0x08 (unsigned byte)
        try (var out = new java.util.zip.GZIPOutputStream(Files.newOutputStream(labels))) {
            out.write(new byte[] {0, 0, 9, 1, 0, 0, 0, 10});
            out.write(new byte[10]);
        }
        Result bad = run("evaluate", "--model", model.toString(), "fashion-mnist", "--data", wrongMagic.toString());
        assertOneLineError(bad, labels.toString());
        assertThat(bad.err()).contains("magic");

        Path shortRead = TinyFashionMnist.write(tmp.resolve("short"), 10, 10, 1);
        Path images = shortRead.resolve("t10k-images-idx3-ubyte.gz");
        TinyFashionMnist.writeIdx(images, new int[] {10, 28, 28}, new byte[5 * 784]);
        assertOneLineError(run("evaluate", "--model", model.toString(), "fashion-mnist", "--data", shortRead.toString()), images.toString());
    }

    @Test
    void badArgumentsSayWhichValueWasWrong() {
        Result r = run("train", "fashion-mnist", "--data", data.toString(), "--arch", "transformer", "--out", tmp.resolve("x").toString());
        assertOneLineError(r, "transformer");
    }

    private static void assertOneLineError(Result r, String mustMention) {
        assertThat(r.code()).as(r.out() + r.err()).isNotZero();
        List<String> errorLines = r.err().lines().filter(l -> l.startsWith("jumbo: error:")).toList();
        assertThat(errorLines).hasSize(1);
        assertThat(errorLines.getFirst()).contains(mustMention);
        assertThat(r.err()).doesNotContain("\tat ");
    }

    /** jumbo serve takes each kind of model by its files: the trained classifier with its labels, a BERT GGUF as an encoder. */
    @Test
    void servesATrainedClassifierAndAnEncoderByWhatTheirFilesAre() throws Exception {
        assertThat(trained.code()).isZero();
        assertThat(Files.readAllLines(model.resolve(TrainCommand.LABELS_FILE))).isEqualTo(dev.jumbo.data.FashionMnist.CLASS_NAMES);
        Path minilm = sharedData().resolve("gguf/all-minilm-l6-v2-q8_0.gguf");
        StringWriter out = new StringWriter(), err = new StringWriter();
        Thread serving = Thread.ofPlatform().start(() -> Main.run(new String[] {"serve", "--model", "fashion=" + model, "--model", "minilm=" + minilm,
                "--port", "0"}, new PrintWriter(out), new PrintWriter(err)));
        try (java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient()) {
            java.util.regex.Matcher address = java.util.regex.Pattern.compile("listening on (http://127\\.0\\.0\\.1:\\d+)").matcher("");
            for (long end = System.nanoTime() + 30_000_000_000L; !address.reset(out.toString()).find(); Thread.sleep(20))
                assertThat(System.nanoTime()).as("no address printed; stderr: " + err).isLessThan(end);
            assertThat(err.toString()).contains("model fashion: " + model + "; a classifier of [28, 28, 1] examples into 10 classes (T-shirt/top, Trouser")
                    .contains("model minilm: " + minilm + "; embeddings of 384 dimensions");
            dev.jumbo.data.TensorDataset test = dev.jumbo.data.FashionMnist.load(data).test();
            float[] x = test.x().slice(0, 0, 1).toFloatArray();
            String body = "{\"model\":\"fashion\",\"input\":" + new ObjectMapper().writeValueAsString(x) + "}";
            var predicted = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(address.group(1) + "/v1/predict"))
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body)).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(predicted.statusCode()).as(predicted.body()).isEqualTo(200);
            JsonNode p = new ObjectMapper().readTree(predicted.body()).get("data").get(0);
            float[] expected = dev.jumbo.train.Sequential.load(model).predict(dev.jumbo.tensor.Tensor.of(x, 1, 28, 28, 1), 1).toFloatArray();
            int best = 0;
            for (int c = 0; c < 10; c++) {
                assertThat(p.get("probabilities").get(c).floatValue()).isCloseTo(expected[c], org.assertj.core.data.Offset.offset(1e-6f));
                if (expected[c] > expected[best]) best = c;
            }
            assertThat(p.get("label").asText()).isEqualTo(dev.jumbo.data.FashionMnist.CLASS_NAMES.get(best));
            var embedded = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(address.group(1) + "/v1/embeddings"))
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"model\":\"minilm\",\"input\":\"a shoe\"}")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(new ObjectMapper().readTree(embedded.body()).get("data").get(0).get("embedding")).as(embedded.body()).hasSize(384);
        } finally {
            serving.interrupt();
            serving.join(10_000);
        }
    }

    private static void copyModel(Path to) throws Exception {
        Files.createDirectories(to);
        for (String f : List.of("config.json", "model.safetensors")) Files.copy(model.resolve(f), to.resolve(f));
    }
}
