package dev.jumbo.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code jumbo explain} end to end on a CNN and an MLP trained on the tiny Fashion-MNIST, whose class k is a bright band
 * of rows 2k+4 and 2k+5 over noise (so a right explanation points at that band), and on a table.
 */
class ExplainCommandTest {
    @TempDir
    static Path tmp;
    static Path data, cnn, mlp, table, tabular;

    @BeforeAll
    static void train() throws Exception {
        data = TinyFashionMnist.write(tmp.resolve("fmnist"), 640, 160, 11);
        cnn = tmp.resolve("cnn");
        mlp = tmp.resolve("mlp");
        for (Path out : List.of(cnn, mlp)) {
            CliTest.Result r = CliTest.run("train", "fashion-mnist", "--data", data.toString(), "--arch", out == cnn ? "cnn" : "mlp",
                    "--epochs", "2", "--batch-size", "32", "--out", out.toString(), "--no-progress");
            assertThat(r.code()).as(r.err()).isZero();
        }
        // a table whose class is 1 when 2 a - b > 0; c and d are noise
        table = tmp.resolve("table.csv");
        Random rnd = new Random(5);
        StringBuilder csv = new StringBuilder("a,b,c,d,label\n");
        for (int i = 0; i < 400; i++) {
            double a = rnd.nextGaussian(), b = rnd.nextGaussian(), c = rnd.nextGaussian(), d = rnd.nextGaussian();
            csv.append(String.format(java.util.Locale.ROOT, "%.4f,%.4f,%.4f,%.4f,%d%n", a, b, c, d, 2 * a - b > 0 ? 1 : 0));
        }
        Files.writeString(table, csv);
        tabular = tmp.resolve("tabular");
        CliTest.Result r = CliTest.run("train", "csv:" + table, "--arch", "mlp", "--epochs", "20", "--batch-size", "16",
                "--out", tabular.toString(), "--no-progress");
        assertThat(r.code()).as(r.err()).isZero();
    }

    /** The row holding the most |attribution|. */
    private static int hottestRow(JsonNode attributions) {
        int best = 0;
        double most = -1;
        for (int row = 0; row < 28; row++) {
            double sum = 0;
            for (int col = 0; col < 28; col++) {
                JsonNode v = attributions.get(row).get(col);
                sum += Math.abs(v.isArray() ? v.get(0).asDouble() : v.asDouble());
            }
            if (sum > most) {
                most = sum;
                best = row;
            }
        }
        return best;
    }

    /** The share of |attribution| over the band of rows that marks {@code label} in the tiny dataset. */
    private static double bandShare(JsonNode attributions, int label) {
        double band = 0, all = 0;
        for (int row = 0; row < 28; row++)
            for (int col = 0; col < 28; col++) {
                JsonNode v = attributions.get(row).get(col);
                double a = Math.abs(v.isArray() ? v.get(0).asDouble() : v.asDouble());
                all += a;
                if (row == 2 * label + 4 || row == 2 * label + 5) band += a;
            }
        return band / all;
    }

    @Test
    void saliencyIntegratedGradientsAndGradCamPointAtTheBandThatDecidesTheClass() throws Exception {
        Path html = tmp.resolve("why.html"), png = tmp.resolve("why.png");
        CliTest.Result r = CliTest.run("explain", "--model", cnn.toString(), "--method", "saliency,ig,gradcam", "--input", "fashion-mnist:test:3",
                "--data", data.toString(), "--out", html.toString(), "--json");
        assertThat(r.code()).as(r.err()).isZero();
        List<JsonNode> lines = jsonLines(r.out());
        assertThat(lines).extracting(j -> j.get("method").asText()).containsExactly("saliency", "ig", "gradcam");
        int label = Integer.parseInt(r.out().replaceAll("(?s).*\\(label (\\d+)\\).*", "$1"));
        for (JsonNode j : lines) {
            assertThat(j.get("prediction")).hasSize(10);
            assertThat(j.get("target").asInt()).isEqualTo(label); // the model learned the bands
            JsonNode a = j.get("attributions");
            assertThat(a).hasSize(28);
            assertThat(a.get(0)).hasSize(28);
            // the two band rows are 1/14 of the image: a right explanation puts far more than that there (Grad-CAM's
            // map is the last convolution's 11x11 grid brought up to 28x28, so it is only near the band)
            String method = j.get("method").asText();
            if (method.equals("gradcam")) assertThat(hottestRow(a)).as(method).isBetween(2 * label + 2, 2 * label + 7);
            else {
                assertThat(bandShare(a, label)).as(method).isGreaterThan(0.25);
                assertThat(hottestRow(a)).as(method).isBetween(2 * label + 4, 2 * label + 5);
            }
        }
        JsonNode ig = lines.get(1);
        double fx = ig.get("details").get("output").asDouble(), fb = ig.get("details").get("baseline_output").asDouble();
        assertThat(Math.abs(ig.get("completeness_gap").asDouble())).isLessThanOrEqualTo(0.01 * Math.abs(fx - fb));
        String report = Files.readString(html);
        assertThat(report).contains("saliency").contains("gradcam").contains("data:image/png;base64,");
        CliTest.Result p = CliTest.run("explain", "--model", cnn.toString(), "--method", "ig", "--input", "fashion-mnist:test:3",
                "--data", data.toString(), "--out", png.toString());
        assertThat(p.code()).as(p.err()).isZero();
        BufferedImage image = ImageIO.read(png.toFile());
        assertThat(image.getWidth()).isGreaterThanOrEqualTo(224);
    }

    @Test
    void shapOnATableExplainsTheTwoFeaturesThatMatterAndAddsUp() throws Exception {
        CliTest.Result r = CliTest.run("explain", "--model", tabular.toString(), "--method", "shap,shapley,lime", "--input", table + ":7", "--json");
        assertThat(r.code()).as(r.err()).isZero();
        List<JsonNode> lines = jsonLines(r.out());
        JsonNode shap = lines.get(0), exact = lines.get(1), lime = lines.get(2);
        for (int i = 0; i < 4; i++)
            assertThat(shap.get("attributions").get(i).asDouble()).isCloseTo(exact.get("attributions").get(i).asDouble(),
                    org.assertj.core.api.Assertions.within(0.01));
        assertThat(Math.abs(shap.get("completeness_gap").asDouble())).isLessThan(1e-4);
        double[] m = new double[4];
        for (int i = 0; i < 4; i++) m[i] = Math.abs(exact.get("attributions").get(i).asDouble());
        assertThat(Math.min(m[0], m[1])).isGreaterThan(Math.max(m[2], m[3]));
        assertThat(lime.get("details").get("r2").asDouble()).isBetween(0.0, 1.0);
        assertThat(r.out()).contains("top: ");
    }

    @Test
    void aLlamasNextTokenIsExplainedByIntegratedGradientsAttentionRolloutAndShap() throws Exception {
        String model = CliTest.sharedData().resolve("llama2c/stories260K.bin").toString();
        Path png = tmp.resolve("tokens.png");
        CliTest.Result r = CliTest.run("explain", "--model", model, "--method", "ig,attention,shap",
                "--input", "Once upon a time, there was a little girl named Lily. She liked to", "--out", png.toString(), "--json");
        assertThat(r.code()).as(r.err()).isZero();
        List<JsonNode> lines = jsonLines(r.out());
        assertThat(lines).extracting(j -> j.get("method").asText()).containsExactly("ig", "attention", "shap");
        JsonNode ig = lines.get(0), attention = lines.get(1), shap = lines.get(2);
        int tokens = ig.get("tokens").size();
        assertThat(ig.get("tokens").get(0).asText()).isEqualTo("<s>");
        for (JsonNode j : lines) {
            assertThat(j.get("attributions")).hasSize(tokens);
            assertThat(j.get("prediction")).hasSize(512); // log-probabilities of the next token over stories260K's vocabulary
        }
        double fx = ig.get("details").get("output").asDouble(), fb = ig.get("details").get("baseline_output").asDouble();
        assertThat(Math.abs(ig.get("completeness_gap").asDouble())).isLessThanOrEqualTo(0.01 * Math.abs(fx - fb));
        assertThat(ig.get("attributions").get(0).asDouble()).isZero(); // BOS is kept in the baseline
        double rollout = 0;
        for (JsonNode a : attention.get("attributions")) rollout += a.asDouble();
        assertThat(rollout).isCloseTo(1, org.assertj.core.api.Assertions.within(1e-4));
        assertThat(Math.abs(shap.get("completeness_gap").asDouble())).isLessThan(1e-3);
        assertThat(ImageIO.read(png.toFile()).getHeight()).isGreaterThan(100);
        assertThat(r.out()).contains("next token: 'play'");
    }

    @Test
    void aSentenceEncoderNeedsAReferenceOrAMask() {
        String minilm = CliTest.sharedData().resolve("gguf/all-minilm-l6-v2-q8_0.gguf").toString();
        assertError(CliTest.run("explain", "--model", minilm, "--input", "A man is playing a guitar."),
                "a BERT model explains either the token at a [MASK] in the text (with its masked-LM head) or the similarity to --reference TEXT");
        assertError(CliTest.run("explain", "--model", minilm, "--input", "A man is playing a [MASK]."),
                "has no masked-LM head");
        String llama = CliTest.sharedData().resolve("llama2c/stories260K.bin").toString();
        assertError(CliTest.run("explain", "--model", llama, "--method", "gradcam", "--input", "Once upon"),
                "gradcam explains classifiers (a jumbo train folder)");
        assertError(CliTest.run("explain", "--model", llama, "--input", "Once upon", "--target", "Lily was"),
                "--target 'Lily was' is");
    }

    @Test
    void benchExplainReportsCompletenessSanityAndTimes() throws Exception {
        CliTest.Result r = CliTest.run("bench", "explain", "--model", cnn.toString(), "fashion-mnist", "--data", data.toString(),
                "--count", "6", "--timed", "2", "--json");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode j = r.lastJson();
        for (JsonNode row : j.get("integrated_gradients")) {
            assertThat(row.get("images").asInt()).isEqualTo(6);
            assertThat(row.get("within_1pct_refined").asInt()).isEqualTo(6);
            assertThat(row.get("within_1pct_refined").asInt()).isGreaterThanOrEqualTo(row.get("within_1pct_at_50_steps").asInt());
        }
        assertThat(j.get("seconds")).hasSize(8).allSatisfy(m -> assertThat(m.get("median_seconds").asDouble()).isPositive());
        assertThat(j.get("sanity")).hasSize(3).allSatisfy(m -> {
            assertThat(m.get("lowest_repeat_spearman").asDouble()).isEqualTo(1.0);
            assertThat(m.get("median_spearman").asDouble()).isLessThan(0.9);
        });
    }

    @Test
    void mistakesAreOneClearLine() {
        assertError(CliTest.run("explain", "--model", cnn.toString(), "--input", "fashion-mnist:test:3", "--data", data.toString(), "--target", "12"),
                "class 12 does not exist: the model has 10 outputs (0 to 9)");
        assertError(CliTest.run("explain", "--model", cnn.toString(), "--input", "1,2,3,4,5"),
                "--input has 5 values but the model takes inputs of shape [28, 28, 1] (784 values)");
        assertError(CliTest.run("explain", "--model", mlp.toString(), "--method", "gradcam", "--input", "fashion-mnist:test:3", "--data", data.toString()),
                "Grad-CAM explains images [H, W, C]; the model takes inputs of shape [784]");
        assertError(CliTest.run("explain", "--model", cnn.toString(), "--method", "attention", "--input", "fashion-mnist:test:3", "--data", data.toString()),
                "attention needs a transformer");
        assertError(CliTest.run("explain", "--model", cnn.toString(), "--method", "magic", "--input", "fashion-mnist:test:3", "--data", data.toString()),
                "unknown method 'magic'");
        assertError(CliTest.run("explain", "--model", cnn.toString(), "--input", "fashion-mnist:test:999", "--data", data.toString()),
                "fashion-mnist test has 160 examples (0 to 159), not 999");
    }

    private static void assertError(CliTest.Result r, String message) {
        assertThat(r.code()).as(r.out()).isNotZero();
        assertThat(r.err()).contains(message);
        assertThat(r.err()).doesNotContain("\tat "); // a message, not a stack trace
    }

    private static List<JsonNode> jsonLines(String out) throws Exception {
        List<JsonNode> lines = new ArrayList<>();
        for (String line : out.split("\n"))
            if (line.startsWith("{")) lines.add(new com.fasterxml.jackson.databind.ObjectMapper().readTree(line));
        return lines;
    }
}
