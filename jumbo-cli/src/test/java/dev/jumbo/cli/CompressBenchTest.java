package dev.jumbo.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code jumbo bench compress} end to end on a small Fashion-MNIST-shaped dataset written here: every row, every column. */
class CompressBenchTest {
    @TempDir
    Path tmp;

    @Test
    void oneCommandMakesAndMeasuresEveryVariant() throws Exception {
        Path data = TinyFashionMnist.write(tmp.resolve("data"), 640, 160, 11);
        CliTest.Result r = CliTest.run("bench", "compress", "fashion-mnist", "--data", data.toString(), "--work", tmp.resolve("work").toString(),
                "--epochs", "1", "--fine-tune-epochs", "1", "--seconds", "0.2", "--json");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode rows = r.lastJson().get("rows");
        assertThat(rows.findValuesAsText("variant")).containsExactly("fp32", "int8_dynamic", "int8_static", "pruned_50_unstructured",
                "pruned_80_unstructured", "pruned_90_unstructured", "pruned_50_structured", "distilled_student");
        Map<String, JsonNode> by = new HashMap<>();
        for (JsonNode row : rows) {
            by.put(row.get("variant").asText(), row);
            assertThat(row.get("test_accuracy").asDouble()).isBetween(0.0, 1.0);
            assertThat(row.get("images_per_second").asDouble()).isPositive();
            assertThat(row.get("energy_joules_per_1k").asDouble()).isPositive();
            assertThat(row.get("size_bytes").asLong()).isPositive();
        }
        JsonNode fp32 = by.get("fp32");
        assertThat(fp32.get("parameters").asLong()).isEqualTo(121_930);
        assertThat(fp32.get("flops").asLong()).isEqualTo(5_056_000);
        // int8 weights take a byte where f32 took four (scales and biases stay float)
        assertThat(by.get("int8_static").get("size_bytes").asLong()).isLessThan(fp32.get("size_bytes").asLong() / 2);
        assertThat(by.get("pruned_50_structured").get("parameters").asLong()).isLessThan(fp32.get("parameters").asLong() / 2);
        assertThat(by.get("pruned_50_structured").get("flops").asLong()).isLessThan(fp32.get("flops").asLong() / 2);
        assertThat(by.get("distilled_student").get("parameters").asLong()).isBetween(121_930L / 5, 121_930L / 3);
        assertThat(r.out()).contains("distilled_student").contains(by.get("fp32").get("energy_measured").asBoolean() ? "measured" : "estimated");
    }
}
