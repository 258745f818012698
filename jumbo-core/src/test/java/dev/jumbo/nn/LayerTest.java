package dev.jumbo.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The lifecycle every layer shares. */
class LayerTest {
    @Test
    void buildsOnceFromTheFirstInputAndIsIdempotent() {
        Dense dense = new Dense(2);
        assertThat(dense.isBuilt()).isFalse();
        assertThat(dense.parameters()).isEmpty();
        dense.forward(Tensor.ones(4, 3));
        assertThat(dense.isBuilt()).isTrue();
        List<Parameter> params = dense.parameters();
        Tensor kernel = dense.kernel().value();
        dense.build(Shape.of(3));
        dense.forward(Tensor.ones(7, 3));
        assertThat(dense.parameters()).containsExactlyElementsOf(params);
        assertThat(dense.kernel().value()).isSameAs(kernel);
    }

    @Test
    void rejectsAnInputWithoutBatchDimension() {
        assertThatThrownBy(() -> new Flatten().forward(Tensor.scalar(1))).hasMessageContaining("flatten").hasMessageContaining("batch");
    }

    @Test
    void namesAreTheTypeInSnakeCase() {
        assertThat(new Dense(1).name()).isEqualTo("dense");
        assertThat(new Conv2D(1, 1, Activation.LINEAR).name()).isEqualTo("conv2d");
        assertThat(new MaxPool2D(2).name()).isEqualTo("max_pool2d");
        assertThat(new BatchNormalization().name()).isEqualTo("batch_normalization");
        assertThat(new GlobalAveragePooling2D().name()).isEqualTo("global_average_pooling2d");
        assertThat(new SimpleRNN(1).name()).isEqualTo("simple_rnn");
        assertThat(new LSTM(1).name()).isEqualTo("lstm");
    }

    @Test
    void flopsDefaultToZeroForLayersWithoutProducts() {
        assertThat(new Flatten().flops(Shape.of(3, 4))).isZero();
    }
}
