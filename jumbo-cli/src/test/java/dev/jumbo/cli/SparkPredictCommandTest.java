package dev.jumbo.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jumbo.nn.Activation;
import dev.jumbo.nn.Dense;
import dev.jumbo.nn.Flatten;
import dev.jumbo.nn.Init;
import dev.jumbo.tensor.Shape;
import dev.jumbo.train.Sequential;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code jumbo predict --spark}: the lines and JSON of {@code jumbo predict} without it; bad input stops before Spark starts. */
class SparkPredictCommandTest {
    @TempDir
    static Path tmp;

    static Path data, model;

    @BeforeAll
    static void writeDataAndModel() throws Exception {
        data = TinyFashionMnist.write(tmp.resolve("fmnist"), 10, 203, 5);
        Init.seed(12);
        Sequential m = new Sequential(Shape.of(28, 28, 1), new Flatten(), new Dense(16, Activation.RELU), new Dense(10, Activation.SOFTMAX));
        model = tmp.resolve("mlp");
        m.save(model);
    }

    @Test
    void sparkLocalTwoPrintsWhatPredictPrintsWithoutSpark() throws Exception {
        String[] common = {"predict", "--model", model.toString(), "fashion-mnist", "--data", data.toString(), "--count", "203", "--json"};
        CliTest.Result local = CliTest.run(common);
        String[] withSpark = java.util.Arrays.copyOf(common, common.length + 2);
        withSpark[common.length] = "--spark";
        withSpark[common.length + 1] = "local[2]";
        CliTest.Result spark = CliTest.run(withSpark);
        assertThat(local.code()).as(local.err()).isZero();
        assertThat(spark.code()).as(spark.err()).isZero();
        assertThat(spark.err()).contains("master local[2], 2 partitions, 203 examples in");
        assertThat(local.out().lines()).hasSize(204); // 203 rows and the JSON line
        assertThat(spark.out()).isEqualTo(local.out());
    }

    @Test
    void aModelFolderThatDoesNotExistIsNamedBeforeSparkStarts() {
        Path missing = tmp.resolve("no-such-model");
        CliTest.Result r = CliTest.run("predict", "--model", missing.toString(), "fashion-mnist", "--data", data.toString(), "--spark", "local[2]");
        assertThat(r.code()).isNotZero();
        assertThat(r.err().lines().filter(l -> l.startsWith("jumbo: error:")).toList()).singleElement().asString().contains(missing.toString());
        assertThat(r.err()).doesNotContain("spark 4.");
    }

    @Test
    void rowsOfAnotherWidthAreRefusedBeforeSparkStarts() throws Exception {
        Path rows = tmp.resolve("rows.csv");
        Files.writeString(rows, "a,b,c\n1,2,3\n4,5,6\n");
        CliTest.Result r = CliTest.run("predict", "--model", model.toString(), "--input", rows.toString(), "--spark", "local[2]");
        assertThat(r.code()).isNotZero();
        assertThat(r.err().lines().filter(l -> l.startsWith("jumbo: error:")).toList()).singleElement().asString()
                .contains("the model takes examples of shape " + Shape.of(28, 28, 1));
        assertThat(r.err()).doesNotContain("spark 4.");
    }
}
