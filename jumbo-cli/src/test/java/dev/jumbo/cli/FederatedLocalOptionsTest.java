package dev.jumbo.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The clients' options for label-skewed data, through jumbo federated simulate over gRPC on 127.0.0.1. */
class FederatedLocalOptionsTest {
    @TempDir
    static Path tmp;
    static Path data;

    @BeforeAll
    static void writeData() throws Exception {
        data = TinyFashionMnist.write(tmp.resolve("fmnist"), 800, 200, 12);
    }

    @Test
    void eachOptionTrainsAndSaysWhatItDid() throws Exception {
        String[][] options = {
                {"--restricted-softmax", "0.5", "--lr-decay", "0.9"},
                {"--fixed-head"},
                {"--drift-correction", "--moving-average", "0.5"}};
        String[] said = {"lr 0.05 (x0.9 a round), restricted softmax 0.5", "fixed head", "drift correction"};
        for (int i = 0; i < options.length; i++) {
            String[] args = concat(new String[] {"federated", "simulate", "--data", data.toString(), "--model-arch", "mlp", "--clients", "4", "--rounds", "4",
                    "--partition", "shards:2", "--lr", "0.05", "--momentum", "0", "--json"}, options[i]);
            CliTest.Result r = CliTest.run(args);
            assertThat(r.code()).as(String.join(" ", options[i]) + ": " + r.err()).isZero();
            assertThat(r.out()).contains(said[i]).contains("round 4: 4 of 4 sampled clients answered");
            JsonNode rounds = r.lastJson().get("rounds");
            assertThat(rounds.get(3).get("test_accuracy").asDouble()).as(String.join(" ", options[i]))
                    .isGreaterThan(rounds.get(0).get("test_accuracy").asDouble());
            if (i == 2) {
                assertThat(r.out()).contains("moving average ");
                assertThat(rounds.get(3).get("moving_average_accuracy").asDouble()).isBetween(0.0, 1.0);
                assertThat(r.lastJson().get("moving_average_accuracy").asDouble()).isEqualTo(rounds.get(3).get("moving_average_accuracy").asDouble());
            } else {
                assertThat(rounds.get(3).has("moving_average_accuracy")).isFalse();
            }
        }
    }

    @Test
    void outOfRangeValuesAreNamed() throws Exception {
        CliTest.Result r = CliTest.run("federated", "simulate", "--data", data.toString(), "--rounds", "1", "--restricted-softmax", "1.5");
        assertThat(r.code()).isNotZero();
        assertThat(r.err()).contains("restricted softmax").contains("1.5");
        r = CliTest.run("federated", "simulate", "--data", data.toString(), "--rounds", "1", "--lr-decay", "0");
        assertThat(r.code()).isNotZero();
        assertThat(r.err()).contains("decay").contains("0.0");
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
