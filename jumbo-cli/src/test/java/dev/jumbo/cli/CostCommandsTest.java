package dev.jumbo.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code jumbo summary}'s diagrams, size and chart, and {@code jumbo profile}'s figures. */
class CostCommandsTest {
    @TempDir
    Path tmp;

    @Test
    void summaryDrawsTheGraphAndTheCosts() throws Exception {
        CliTest.Result mermaid = CliTest.run("summary", "--arch", "cnn", "--diagram", "mermaid");
        assertThat(mermaid.code()).as(mermaid.err()).isZero();
        assertThat(mermaid.out()).startsWith("flowchart TD\n").contains("  l4 --> l5\n");
        CliTest.Result dot = CliTest.run("summary", "--arch", "mlp", "--diagram", "dot");
        assertThat(dot.out()).startsWith("digraph model {").contains("l1 -> l2;");
        assertThat(CliTest.run("summary", "--arch", "mlp", "--diagram", "svg").err()).contains("--diagram must be mermaid or dot, got 'svg'");
        Path png = tmp.resolve("cost.png");
        CliTest.Result table = CliTest.run("summary", "--arch", "cnn", "--png", png.toString());
        // 121,930 parameters: 4 bytes each in f32 = 487,720 bytes = 476.3 kB
        assertThat(table.out()).contains("FLOPs per example: 5,056,000").contains("Size of the weights: 476.3 kB in f32, 238.1 kB in f16/bf16, 119.1 kB in int8");
        assertThat(ImageIO.read(png.toFile()).getWidth()).isEqualTo(1200);
    }

    @Test
    void profileMeasuresLatencyThroughputAndEnergySayingHow() throws Exception {
        CliTest.Result r = CliTest.run("profile", "--arch", "mlp", "--batch", "32", "--seconds", "0.3", "--json");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode j = r.lastJson();
        assertThat(j.get("parameters").asLong()).isEqualTo(784L * 64 + 64 + 64 * 64 + 64 + 64 * 10 + 10);
        assertThat(j.get("flops").asLong()).isEqualTo(2L * (784 * 64 + 64 * 64 + 64 * 10));
        assertThat(j.get("latency_ms").asDouble()).isPositive();
        assertThat(j.get("examples_per_second").asDouble()).isPositive();
        assertThat(j.get("predictions").asLong() % 32).isZero();
        double perK = j.get("energy_joules_per_1k").asDouble();
        assertThat(perK).isPositive();
        if (!j.get("energy_measured").asBoolean()) // the estimate is the CPU-seconds it printed times the stated power
            assertThat(perK).isCloseTo(j.get("cpu_seconds").asDouble() * j.get("watts_per_core").asDouble() / j.get("predictions").asLong() * 1000,
                    org.assertj.core.data.Percentage.withPercentage(0.01));
        assertThat(r.out()).contains(j.get("energy_measured").asBoolean() ? "measured (RAPL)" : "estimated (CPU-seconds x W per core)");
        assertThat(CliTest.run("profile", "--arch", "mlp", "--watts-per-core", "0").err()).contains("--watts-per-core must be positive, got 0.0");
        assertThat(Files.exists(tmp)).isTrue();
    }
}
