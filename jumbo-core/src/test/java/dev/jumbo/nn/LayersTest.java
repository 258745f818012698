package dev.jumbo.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.testing.GradCheck;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Config round trips and declared output shapes for every layer type. */
class LayersTest {
    private final Random rnd = GradCheck.random();

    /** One non-default instance of each layer with an input shape (without batch) it accepts. */
    static Stream<Arguments> everyLayer() {
        return Stream.of(
                Arguments.of(new Dense(4, Activation.GELU), Shape.of(2, 3)),
                Arguments.of(new Conv2D(3, 2, 3, 2, 1, "same", Activation.RELU), Shape.of(5, 4, 2)),
                Arguments.of(new MaxPool2D(2, 3, 1, 2, "same"), Shape.of(4, 5, 2)),
                Arguments.of(new AvgPool2D(2), Shape.of(4, 4, 1)),
                Arguments.of(new GlobalAveragePooling2D(), Shape.of(3, 3, 2)),
                Arguments.of(new Flatten(), Shape.of(2, 3, 2)),
                Arguments.of(new Dropout(0.25), Shape.of(5)),
                Arguments.of(new ActivationLayer(Activation.LEAKY_RELU), Shape.of(3, 2)),
                Arguments.of(new BatchNormalization(0.9, 1e-5), Shape.of(3, 2)),
                Arguments.of(new LayerNorm(1e-6), Shape.of(4)),
                Arguments.of(new Embedding(10, 3), Shape.of(4)),
                Arguments.of(new SimpleRNN(3, true), Shape.of(4, 2)),
                Arguments.of(new LSTM(2), Shape.of(3, 2)),
                Arguments.of(new GRU(2, true), Shape.of(3, 2)),
                Arguments.of(new PositionEmbedding(6), Shape.of(4, 3)),
                Arguments.of(PositionEmbedding.sinusoidal(5), Shape.of(5, 4)),
                Arguments.of(new MultiHeadAttention(2, true), Shape.of(3, 4)),
                Arguments.of(new TransformerBlock(2, 8, Activation.GELU_TANH, TransformerBlock.Norm.POST, false, 1e-6), Shape.of(3, 4)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("everyLayer")
    void configRoundTripsThroughFromConfig(Layer layer, Shape input) {
        Map<String, Object> config = layer.config();
        assertThat(config.get("type")).isEqualTo(layer.getClass().getSimpleName());
        assertThat(config.values()).allSatisfy(v -> assertThat(v).isInstanceOfAny(String.class, Number.class, Boolean.class, List.class, Map.class));
        Layer copy = Layers.fromConfig(config);
        assertThat(copy).isInstanceOf(layer.getClass());
        assertThat(copy.config()).isEqualTo(config);
        assertThat(copy.outputShape(input)).isEqualTo(layer.outputShape(input));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("everyLayer")
    void forwardProducesTheDeclaredOutputShape(Layer layer, Shape input) {
        int[] dims = new int[input.rank() + 1];
        dims[0] = 2;
        System.arraycopy(input.toArray(), 0, dims, 1, input.rank());
        Tensor x = layer instanceof Embedding ? Tensor.zeros(dims) : Tensor.randn(rnd, dims);
        LayerGradCheck.forwardWithDeclaredShape(layer, x);
    }

    @Test
    void acceptsJsonStyleNumbersAndKerasShorthands() {
        Map<String, Object> c = new HashMap<>(Map.of("type", "Conv2D", "filters", 4L, "kernel_size", 3.0));
        Layer conv = Layers.fromConfig(c);
        assertThat(conv.config()).containsEntry("kernel_size", List.of(3, 3)).containsEntry("strides", List.of(1, 1))
                .containsEntry("padding", "valid").containsEntry("activation", "linear");
        assertThat(Layers.fromConfig(Map.of("type", "MaxPool2D", "pool_size", List.of(2, 2))).config())
                .containsEntry("strides", List.of(2, 2));
    }

    @Test
    void rejectsUnknownTypes() {
        assertThatThrownBy(() -> Layers.fromConfig(Map.of("type", "Foo")))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("unknown layer type 'Foo'");
        assertThatThrownBy(() -> Layers.fromConfig(Map.of("units", 3))).hasMessageContaining("'type'");
    }

    @Test
    void namesTheBadField() {
        assertThatThrownBy(() -> Layers.fromConfig(Map.of("type", "Dense")))
                .hasMessage("Dense config is missing field 'units'");
        assertThatThrownBy(() -> Layers.fromConfig(Map.of("type", "Dense", "units", "many")))
                .hasMessage("Dense config field 'units' must be an integer, got 'many'");
        assertThatThrownBy(() -> Layers.fromConfig(Map.of("type", "Dense", "units", 2.5)))
                .hasMessageContaining("'units'");
        assertThatThrownBy(() -> Layers.fromConfig(Map.of("type", "Dense", "units", 3, "activaton", "relu")))
                .hasMessage("Dense config has unknown field 'activaton'");
        assertThatThrownBy(() -> Layers.fromConfig(Map.of("type", "Dense", "units", 3, "activation", "swish2")))
                .hasMessageContaining("'activation'").hasMessageContaining("'swish2'");
        assertThatThrownBy(() -> Layers.fromConfig(Map.of("type", "Conv2D", "filters", 2, "kernel_size", List.of(1, 2, 3))))
                .hasMessageContaining("'kernel_size'");
        assertThatThrownBy(() -> Layers.fromConfig(Map.of("type", "LSTM", "units", 2, "return_sequences", "yes")))
                .hasMessageContaining("'return_sequences'");
        assertThatThrownBy(() -> Layers.fromConfig(Map.of("type", "Dropout", "rate", 1.5)))
                .hasMessageContaining("Dropout rate").hasMessageContaining("1.5");
    }
}
