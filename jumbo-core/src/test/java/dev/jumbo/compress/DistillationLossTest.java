package dev.jumbo.compress;

import static dev.jumbo.testing.GradCheck.check;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.jumbo.data.TensorDataset;
import dev.jumbo.nn.Activation;
import dev.jumbo.nn.Dense;
import dev.jumbo.nn.Init;
import dev.jumbo.optim.Adam;
import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.testing.GradCheck;
import dev.jumbo.train.FitOptions;
import dev.jumbo.train.Sequential;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The distillation loss against a naive computation, its gradient by finite differences, and the teacher's logits. */
class DistillationLossTest {
    private final Random rnd = GradCheck.random();

    private Tensor targets(int rows, int classes) {
        float[] labels = new float[rows];
        for (int r = 0; r < rows; r++) labels[r] = rnd.nextInt(classes);
        return Distillation.targets(Tensor.of(labels, rows), Tensor.randn(rnd, rows, classes).mul(3f));
    }

    /** Straight from the definition, in double: softmax, then KL and cross-entropy written out. */
    private static double naive(float[] s, float[] targets, int rows, int n, double t, double alpha) {
        double total = 0;
        for (int r = 0; r < rows; r++) {
            double[] student = new double[n], teacher = new double[n], hard = new double[n];
            double zs = 0, zt = 0, zh = 0;
            for (int j = 0; j < n; j++) {
                student[j] = Math.exp(s[r * n + j] / t);
                teacher[j] = Math.exp(targets[r * (n + 1) + 1 + j] / t);
                hard[j] = Math.exp(s[r * n + j]);
                zs += student[j];
                zt += teacher[j];
                zh += hard[j];
            }
            double kl = 0;
            for (int j = 0; j < n; j++) kl += teacher[j] / zt * Math.log((teacher[j] / zt) / (student[j] / zs));
            double ce = -Math.log(hard[(int) targets[r * (n + 1)]] / zh);
            total += alpha * t * t * kl + (1 - alpha) * ce;
        }
        return total / rows;
    }

    @Test
    void valueMatchesTheNaiveDefinition() {
        for (double[] ta : new double[][] {{1, 0.5}, {4, 0.9}, {2.5, 0}, {8, 1}}) {
            int rows = 6, n = 7;
            Tensor s = Tensor.randn(rnd, rows, n).mul(2f), y = targets(rows, n);
            float got = new DistillationLoss(ta[0], ta[1], true).compute(s, y).item();
            assertThat((double) got).as("T %s alpha %s", ta[0], ta[1]).isCloseTo(naive(s.toFloatArray(), y.toFloatArray(), rows, n, ta[0], ta[1]), within(1e-5));
        }
    }

    @Test
    void alphaZeroIsPlainCrossEntropyAndEqualLogitsGiveNoSoftLoss() {
        Tensor s = Tensor.randn(rnd, 4, 5), y = targets(4, 5);
        float[] labels = new float[4];
        for (int r = 0; r < 4; r++) labels[r] = y.toFloatArray()[r * 6];
        float ce = new dev.jumbo.loss.SparseCategoricalCrossentropy(true).compute(s, Tensor.of(labels, 4)).item();
        assertThat(new DistillationLoss(3, 0, true).compute(s, y).item()).isCloseTo(ce, within(1e-5f));
        // a student whose logits are the teacher's plus a constant per row has KL 0
        Tensor same = Distillation.targets(Tensor.of(labels, 4), s.add(Tensor.of(new float[] {5f}, 1)));
        assertThat(new DistillationLoss(3, 1, true).compute(s, same).item()).isCloseTo(0f, within(1e-5f));
    }

    @Test
    void gradientMatchesFiniteDifferences() {
        for (double[] ta : new double[][] {{1, 0.5}, {4, 0.9}, {0.5, 0.3}}) {
            Tensor y = targets(4, 5);
            DistillationLoss loss = new DistillationLoss(ta[0], ta[1], true);
            check(in -> loss.compute(in.get(0), y).mul(4f), Tensor.randn(rnd, 4, 5).mul(2f));
        }
    }

    @Test
    void fromProbabilitiesReadsTheSoftmaxLogitsOrTheirLogarithm() {
        Tensor s = Tensor.randn(rnd, 5, 4), y = targets(5, 4);
        float fromLogits = new DistillationLoss(2, 0.7, true).compute(s, y).item();
        assertThat(new DistillationLoss(2, 0.7, false).compute(s.softmax(), y).item()).isEqualTo(fromLogits);
        // probabilities with no softmax behind them: their log, a per-row shift of the logits
        Tensor detached = Tensor.of(s.softmax().toFloatArray(), 5, 4);
        assertThat(new DistillationLoss(2, 0.7, false).compute(detached, y).item()).isCloseTo(fromLogits, within(1e-4f));
        // and the gradient flows through the softmax to its input
        DistillationLoss loss = new DistillationLoss(2, 0.7, false);
        check(in -> loss.compute(in.get(0).softmax(), y).mul(5f), s);
        check(in -> loss.compute(in.get(0), y).mul(5f), 1e-3, 2e-2, 2e-3, Tensor.uniform(rnd, 0.1f, 0.9f, 5, 4));
    }

    @Test
    void rejectsBadArgumentsNamingThem() {
        assertThatThrownBy(() -> new DistillationLoss(0, 0.5, true)).hasMessageContaining("temperature");
        assertThatThrownBy(() -> new DistillationLoss(2, 1.5, true)).hasMessageContaining("alpha must be in [0, 1], got 1.5");
        DistillationLoss loss = new DistillationLoss(2, 0.5, true);
        assertThatThrownBy(() -> loss.compute(Tensor.randn(rnd, 3, 4), Tensor.zeros(3, 4))).hasMessageContaining("[3, 5]");
        assertThatThrownBy(() -> loss.compute(Tensor.randn(rnd, 2, 4), Distillation.targets(Tensor.of(new float[] {1, 4}, 2), Tensor.zeros(2, 4))))
                .hasMessageContaining("label of row 1 is 4.0");
    }

    @Test
    void teacherLogitsAreTheSoftmaxInputAndAStudentLearnsFromThem() {
        Init.seed(rnd.nextLong());
        Sequential teacher = new Sequential(Shape.of(6), new Dense(12, Activation.RELU), new Dense(3, Activation.SOFTMAX));
        Tensor x = Tensor.randn(rnd, 50, 6);
        Tensor logits = Distillation.teacherLogits(teacher, x, 16);
        assertThat(logits.shape()).isEqualTo(Shape.of(50, 3));
        float[] probs = teacher.predict(x, 50).toFloatArray(), again = logits.softmax().toFloatArray();
        for (int i = 0; i < probs.length; i++) assertThat(again[i]).isCloseTo(probs[i], within(1e-6f));
        // a student trained on the teacher's soft targets alone comes to agree with it
        float[] labels = new float[50];
        Sequential student = new Sequential(Shape.of(6), new Dense(16, Activation.RELU), new Dense(3, Activation.SOFTMAX));
        student.compile(new Adam(1e-2), new DistillationLoss(2, 1, false));
        TensorDataset data = new TensorDataset(x, Distillation.targets(Tensor.of(labels, 50), logits));
        float before = student.trainer().evaluate(data, 50).get("loss").floatValue();
        student.fit(data, FitOptions.defaults().epochs(60).batchSize(10));
        float after = student.trainer().evaluate(data, 50).get("loss").floatValue();
        assertThat(after).isLessThan(before / 4);
        assertThat(List.of(student.trainer().loss().name())).containsExactly("distillation");
    }
}
