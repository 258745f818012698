package dev.jumbo.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code jumbo bench spark}: three modes side by side, the Spark ones at the weights of one process, on a cluster it starts. */
class SparkBenchTest {
    @Test
    @Timeout(240)
    void timesOneProcessLocalTwoAndATwoWorkerClusterThatEndAtTheSameWeights(@TempDir Path tmp) throws Exception {
        Path data = TinyFashionMnist.write(tmp.resolve("fmnist"), 640, 160, 7);
        CliTest.Result r = CliTest.run("bench", "spark", "--data", data.toString(), "--batch-size", "64", "--worker-memory", "768",
                "--comm-repeats", "2", "--json");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode j = r.lastJson();
        assertThat(j.get("steps_per_epoch").asInt()).isEqualTo(10);
        assertThat(j.get("parameters").asInt()).isEqualTo(55_050);
        JsonNode rows = j.get("rows");
        assertThat(rows).hasSize(3);
        assertThat(rows.get(0).get("mode").asText()).startsWith("single process");
        assertThat(rows.get(1).get("mode").asText()).isEqualTo("local[2]");
        assertThat(rows.get(2).get("mode").asText()).isEqualTo("standalone, 2 workers");
        for (int i = 1; i < 3; i++) {
            JsonNode row = rows.get(i);
            assertThat(row.get("max_abs_weight_diff").asDouble()).as(row.get("mode").asText()).isLessThanOrEqualTo(1e-4);
            assertThat(row.get("comm_samples")).hasSize(3);
            // a communication-only step of 64 times the gradient takes longer than one of the gradient alone
            assertThat(row.get("comm_samples").get(2).get("median_ms").asDouble())
                    .isGreaterThan(row.get("comm_samples").get(0).get("median_ms").asDouble());
            assertThat(row.get("seconds_per_epoch").asDouble()).isPositive();
        }
        double t1 = j.get("t1_ms").asDouble(), c = j.get("c_ms").asDouble();
        assertThat(c).isEqualTo(rows.get(2).get("comm_ms_per_step").asDouble());
        assertThat(j.get("projection").get(0).get("speedup").asDouble()).isCloseTo(t1 / (t1 / 2 + c), org.assertj.core.data.Offset.offset(1e-3));
        assertThat(r.out()).contains("projected speed-up on W machines = t1 / (t1 / W + c)");
    }
}
