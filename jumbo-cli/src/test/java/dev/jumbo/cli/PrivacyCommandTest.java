package dev.jumbo.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jumbo.privacy.RdpAccountant;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code jumbo privacy} and {@code jumbo train --dp} end to end. */
class PrivacyCommandTest {
    @TempDir
    Path tmp;

    @Test
    void epsilonPrintsTheAccountantsFigureAsJson() throws Exception {
        var r = CliTest.run("privacy", "epsilon", "--n", "60000", "--batch-size", "150", "--noise", "1.3", "--epochs", "15", "--delta", "1e-5", "--json");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode j = r.lastJson();
        assertThat(j.get("epsilon").asDouble()).isCloseTo(0.7242, within(5e-5));
        assertThat(j.get("order").asDouble()).isEqualTo(19.0);
        assertThat(j.get("steps").asLong()).isEqualTo(6000);
    }

    @Test
    void classicConversionGivesTheTutorialsFigure() throws Exception {
        var r = CliTest.run("privacy", "epsilon", "--n", "60000", "--batch-size", "256", "--noise", "1.1", "--epochs", "60", "--delta", "1e-5",
                "--conversion", "classic", "--json");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.lastJson().get("epsilon").asDouble()).isCloseTo(3.009, within(5e-4));
        var plain = CliTest.run("privacy", "epsilon", "--n", "60000", "--batch-size", "256", "--noise", "1.1", "--epochs", "60", "--delta", "1e-5");
        assertThat(plain.out()).startsWith("epsilon 2.59");
    }

    @Test
    void noiseSolvesForTheTargetEpsilon() throws Exception {
        var r = CliTest.run("privacy", "noise", "--target-epsilon", "3", "--n", "60000", "--batch-size", "256", "--epochs", "20", "--delta", "1e-5", "--json");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode j = r.lastJson();
        double sigma = j.get("noise_multiplier").asDouble();
        long steps = j.get("steps").asLong();
        assertThat(steps).isEqualTo(4688);
        assertThat(RdpAccountant.epsilon(256 / 60000.0, sigma, steps, 1e-5).epsilon()).isCloseTo(3, within(1e-4)).isLessThanOrEqualTo(3);
    }

    @Test
    void aBadConversionIsOneLineNamingIt() {
        var r = CliTest.run("privacy", "epsilon", "--n", "100", "--batch-size", "10", "--noise", "1", "--epochs", "1", "--conversion", "fancy");
        assertThat(r.code()).isNotZero();
        assertThat(r.err()).contains("--conversion must be improved or classic, got 'fancy'");
    }

    @Test
    void trainDpReportsEpsilonEveryEpochAndMeetsTheTarget() throws Exception {
        Path data = TinyFashionMnist.write(tmp.resolve("fmnist"), 640, 160, 11);
        Path out = tmp.resolve("dp");
        var r = CliTest.run("train", "fashion-mnist", "--data", data.toString(), "--arch", "mlp", "--dp", "--target-epsilon", "8",
                "--delta", "1e-4", "--max-grad-norm", "1.0", "--epochs", "3", "--batch-size", "64", "--lr", "0.01", "--out", out.toString(),
                "--json", "--no-progress");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode j = r.lastJson();
        double sigma = j.get("noise_multiplier").asDouble();
        assertThat(j.get("delta").asDouble()).isEqualTo(1e-4);
        assertThat(j.get("history")).hasSize(3);
        for (JsonNode e : j.get("history")) {
            int epoch = e.get("epoch").asInt();
            assertThat(e.get("steps").asLong()).isEqualTo(epoch * 10L);
            assertThat(e.get("epsilon").asDouble()).isEqualTo(RdpAccountant.epsilon(64 / 640.0, sigma, epoch * 10L, 1e-4).epsilon());
            assertThat(r.err()).contains("epoch " + epoch + "/3").contains(String.format("epsilon %.4f", e.get("epsilon").asDouble()));
        }
        assertThat(j.get("epsilon").asDouble()).isLessThanOrEqualTo(8).isCloseTo(8, within(0.01));
        assertThat(j.get("test_accuracy").asDouble()).as("learns the bands (chance 0.1)").isGreaterThan(0.4);
        assertThat(out.resolve("model.safetensors")).isRegularFile();
        assertThat(Files.readAllLines(out.resolve("metrics.csv"))).hasSize(4).first().asString().startsWith("epoch,loss,test_loss,test_accuracy,epsilon");
        var evaluated = CliTest.run("evaluate", "--model", out.toString(), "fashion-mnist", "--data", data.toString(), "--json");
        assertThat(evaluated.lastJson().get("test_accuracy").asDouble()).isEqualTo(j.get("test_accuracy").asDouble());
    }

    @Test
    void privacyOptionsWithoutDpAreRefused() {
        var r = CliTest.run("train", "fashion-mnist", "--data", tmp.toString(), "--target-epsilon", "3", "--out", tmp.resolve("x").toString());
        assertThat(r.code()).isNotZero();
        assertThat(r.err()).contains("--target-epsilon and --noise-multiplier need --dp");
    }
}
