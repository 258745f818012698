package dev.jumbo.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumbo.io.FormatException;
import dev.jumbo.io.GgmlType;
import dev.jumbo.io.GgufWriter;
import dev.jumbo.nn.Activation;
import dev.jumbo.nn.AvgPool2D;
import dev.jumbo.nn.BatchNormalization;
import dev.jumbo.nn.Conv2D;
import dev.jumbo.nn.Dense;
import dev.jumbo.nn.Dropout;
import dev.jumbo.nn.Flatten;
import dev.jumbo.nn.Init;
import dev.jumbo.nn.MaxPool2D;
import dev.jumbo.optim.Adam;
import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.testing.GradCheck;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SequentialGgufTest {
    @TempDir
    Path tmp;

    private final Random rnd = GradCheck.random();

    @Test
    void trainedCnnComesBackWithIdenticalOutputs() throws Exception {
        Init.seed(3);
        Sequential m = new Sequential(Shape.of(10, 10, 2),
                new Conv2D(4, 3, 3, 1, 1, "same", Activation.RELU), new MaxPool2D(2), new BatchNormalization(),
                new Conv2D(6, 3, Activation.TANH), new AvgPool2D(2, 2, 1, 1, "valid"), new Flatten(), new Dropout(0.3),
                new Dense(8, Activation.GELU), new Dense(3, Activation.SOFTMAX));
        // a few steps of training move every weight and the batch-norm statistics off their initial values
        float[] y = new float[32];
        for (int i = 0; i < y.length; i++) y[i] = rnd.nextInt(3);
        m.compile(new Adam(1e-2), "sparse_categorical_crossentropy");
        m.fit(Tensor.randn(rnd, 32, 10, 10, 2), Tensor.of(y, 32), FitOptions.defaults().epochs(2).batchSize(8));

        Path file = tmp.resolve("cnn.gguf");
        SequentialGguf.write(m, file);
        Sequential back = SequentialGguf.load(file);

        Tensor x = Tensor.randn(rnd, 5, 10, 10, 2);
        assertThat(back.predict(x, 5).toFloatArray()).containsExactly(m.predict(x, 5).toFloatArray());
        assertThat(back.configJson()).isEqualTo(m.configJson());
        for (var e : m.stateDict().entrySet())
            assertThat(back.stateDict().get(e.getKey()).toFloatArray()).as(e.getKey()).containsExactly(e.getValue().toFloatArray());
    }

    @Test
    void mlpComesBackWithIdenticalOutputs() throws Exception {
        Init.seed(4);
        Sequential m = new Sequential(Shape.of(12), new Dense(16, Activation.LEAKY_RELU), new BatchNormalization(), new Dense(4, Activation.SIGMOID));
        Path file = tmp.resolve("mlp.gguf");
        SequentialGguf.write(m, file);
        Tensor x = Tensor.randn(rnd, 7, 12);
        assertThat(SequentialGguf.load(file).predict(x, 7).toFloatArray()).containsExactly(m.predict(x, 7).toFloatArray());
    }

    @Test
    void rejectsAnotherArchitectureNamingIt() throws Exception {
        Path file = tmp.resolve("llama.gguf");
        new GgufWriter().put("general.architecture", "llama").write(file);
        assertThatThrownBy(() -> SequentialGguf.load(file)).isInstanceOf(FormatException.class)
                .hasMessageContaining("llama.gguf").hasMessageContaining("'llama'").hasMessageContaining("jumbo-sequential");
    }

    @Test
    void rejectsTensorsThatDoNotFitTheConfigNamingTheTensor() throws Exception {
        Init.seed(5);
        Sequential m = new Sequential(Shape.of(3), new Dense(2));
        Path file = tmp.resolve("bad.gguf");
        new GgufWriter().put("general.architecture", SequentialGguf.ARCHITECTURE).put(SequentialGguf.CONFIG_KEY, m.configJson())
                .addTensor("0.kernel", GgmlType.F32, new long[] {3, 2}, new byte[4 * 6]) // [2, 3], not [3, 2]
                .addTensor("0.bias", GgmlType.F32, new long[] {2}, new byte[4 * 2])
                .write(file);
        assertThatThrownBy(() -> SequentialGguf.load(file)).isInstanceOf(FormatException.class).hasMessageContaining("0.kernel");
        assertThat(Files.exists(file)).isTrue();
    }
}
