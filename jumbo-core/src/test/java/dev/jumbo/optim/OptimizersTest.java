package dev.jumbo.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Optimizers by Keras identifier, their JSON-ready configs, and rebuilding from them. */
class OptimizersTest {
    @Test
    void resolvesKerasIdentifiersWithKerasDefaultRates() {
        assertThat(Optimizers.of("adam")).isInstanceOf(Adam.class).extracting(Optimizer::learningRate).isEqualTo(0.001f);
        assertThat(Optimizers.of("sgd")).isInstanceOf(SGD.class).extracting(Optimizer::learningRate).isEqualTo(0.01f);
        assertThat(Optimizers.of("RMSprop")).isInstanceOf(RMSprop.class);
        assertThat(Optimizers.of("adagrad")).isInstanceOf(AdaGrad.class);
        assertThat(Optimizers.of("adamw")).isInstanceOf(AdamW.class);
        assertThatThrownBy(() -> Optimizers.of("lion")).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("\"lion\"");
    }

    @Test
    void configIsJsonReadyWithKerasNames() {
        Map<String, Object> c = new Adam(0.002).clipNorm(1.5).config();
        assertThat(c).containsEntry("type", "Adam").containsEntry("learning_rate", 0.002).containsEntry("beta_1", 0.9)
                .containsEntry("beta_2", 0.999).containsEntry("epsilon", 1e-7).containsEntry("global_clipnorm", 1.5).doesNotContainKey("clipvalue");
        Map<String, Object> scheduled = new SGD(0.1).schedule(new CosineDecay(0.1, 10, 0)).config();
        assertThat(scheduled.get("learning_rate")).isEqualTo(new CosineDecay(0.1, 10, 0).config());
    }

    @Test
    void rebuildsEveryOptimizerFromItsConfig() {
        for (Optimizer o : List.of(new SGD(0.1, 0.9, true, 0.01), new AdaGrad(0.2, 0.05, 1e-6), new RMSprop(0.01, 0.8, 0.3, 1e-6, true),
                new Adam(0.003, 0.8, 0.99, 1e-6).clipValue(2), new AdamW(0.001, 0.85, 0.98, 1e-7, 0.2).schedule(new ExponentialDecay(0.01, 5, 0.5, true)))) {
            Optimizer copy = Optimizers.fromConfig(o.config());
            assertThat(copy).isInstanceOf(o.getClass());
            assertThat(copy.config()).isEqualTo(o.config());
        }
    }

    @Test
    void rejectsInvalidHyperparameters() {
        assertThatThrownBy(() -> new SGD(-0.1)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("-0.1");
        assertThatThrownBy(() -> new SGD(0.1, 0, true)).hasMessageContaining("Nesterov");
        assertThatThrownBy(() -> new Adam(0.1, 1.0, 0.999, 1e-7)).hasMessageContaining("beta1");
        assertThatThrownBy(() -> new Adam(0.1).clipNorm(Double.NaN)).hasMessageContaining("NaN");
    }
}
