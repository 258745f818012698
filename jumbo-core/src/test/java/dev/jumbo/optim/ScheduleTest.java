package dev.jumbo.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.jumbo.tensor.Tensor;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Learning-rate schedules' values, their use by optimizers, and config round trips. */
class ScheduleTest {
    @Test
    void exponentialDecayIsContinuousOrStaircase() {
        ExponentialDecay smooth = new ExponentialDecay(0.1, 10, 0.5, false), stairs = new ExponentialDecay(0.1, 10, 0.5, true);
        assertThat(smooth.at(0)).isEqualTo(0.1);
        assertThat(smooth.at(5)).isCloseTo(0.1 * Math.sqrt(0.5), within(1e-12));
        assertThat(smooth.at(20)).isCloseTo(0.025, within(1e-12));
        assertThat(stairs.at(9)).isEqualTo(0.1);
        assertThat(stairs.at(10)).isCloseTo(0.05, within(1e-12));
        assertThat(stairs.at(25)).isCloseTo(0.025, within(1e-12));
    }

    @Test
    void piecewiseConstantIncludesEachBoundaryInTheEarlierPiece() {
        PiecewiseConstant s = new PiecewiseConstant(List.of(100L, 200L), List.of(1.0, 0.5, 0.1));
        assertThat(s.at(0)).isEqualTo(1.0);
        assertThat(s.at(100)).isEqualTo(1.0);
        assertThat(s.at(101)).isEqualTo(0.5);
        assertThat(s.at(200)).isEqualTo(0.5);
        assertThat(s.at(10_000)).isEqualTo(0.1);
        assertThatThrownBy(() -> new PiecewiseConstant(List.of(1L), List.of(1.0))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new PiecewiseConstant(List.of(5L, 5L), List.of(1.0, 2.0, 3.0))).hasMessageContaining("increase");
    }

    @Test
    void cosineDecayFallsAlongAHalfCosineToAlpha() {
        CosineDecay s = new CosineDecay(1.0, 100, 0.1);
        assertThat(s.at(0)).isEqualTo(1.0);
        assertThat(s.at(50)).isCloseTo(0.55, within(1e-12));
        assertThat(s.at(25)).isCloseTo(0.9 * 0.5 * (1 + Math.cos(Math.PI / 4)) + 0.1, within(1e-12));
        assertThat(s.at(100)).isCloseTo(0.1, within(1e-12));
        assertThat(s.at(1000)).isCloseTo(0.1, within(1e-12));
    }

    @Test
    void cosineDecayWarmsUpLinearlyFirst() {
        CosineDecay s = new CosineDecay(0.0, 100, 0.0, 2.0, 10);
        assertThat(s.at(0)).isEqualTo(0.0);
        assertThat(s.at(5)).isCloseTo(1.0, within(1e-12));
        assertThat(s.at(10)).isCloseTo(2.0, within(1e-12));
        assertThat(s.at(60)).isCloseTo(1.0, within(1e-12));
        assertThat(s.at(110)).isCloseTo(0.0, within(1e-12));
    }

    @Test
    void optimizersEvaluateTheScheduleAtTheIterationCount() {
        Tensor p = Tensor.zeros(1).requiresGrad(true);
        Optimizer sgd = new SGD(1).schedule(new PiecewiseConstant(List.of(1L), List.of(0.5, 0.25))).bind(List.of(p));
        float[] expected = {0.5f, 0.5f, 0.25f, 0.25f};
        float position = 0;
        for (float lr : expected) {
            assertThat(sgd.learningRate()).isEqualTo(lr);
            p.zeroGrad();
            p.addToGrad(Tensor.ones(1));
            sgd.step();
            position -= lr;
            assertThat(p.item()).isEqualTo(position);
        }
    }

    @Test
    void schedulesRoundTripThroughConfig() {
        for (LearningRateSchedule s : List.of(new Constant(0.3), new ExponentialDecay(0.1, 7, 0.9, true),
                new PiecewiseConstant(List.of(3L, 9L), List.of(0.3, 0.2, 0.1)), new CosineDecay(0.0, 50, 0.05, 0.4, 5)))
            assertThat(LearningRateSchedule.fromConfig(s.config())).isEqualTo(s);
        // numbers as a JSON reader may return them
        assertThat(LearningRateSchedule.fromConfig(Map.of("type", "ExponentialDecay", "initial_learning_rate", 1, "decay_steps", 10.0,
                "decay_rate", 0.5, "staircase", false))).isEqualTo(new ExponentialDecay(1, 10, 0.5, false));
        assertThatThrownBy(() -> LearningRateSchedule.fromConfig(Map.of("type", "Cyclic"))).hasMessageContaining("\"Cyclic\"");
    }
}
