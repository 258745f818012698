package dev.jumbo.compress;

import dev.jumbo.loss.Loss;
import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import java.util.Map;

/**
 * Hinton et al.'s distillation loss ("Distilling the Knowledge in a Neural Network", 2015): per
 * example, {@code alpha T^2 KL(softmax(t / T) || softmax(s / T)) + (1 - alpha) CE(y, softmax(s))},
 * averaged over the batch, where {@code s} are the student's logits, {@code t} the teacher's and
 * {@code y} the true class. The {@code T^2} keeps the soft term's gradients, which shrink as
 * {@code 1/T^2}, on the scale of the hard term's whatever the temperature.
 *
 * <p>Targets carry both teachers: a row {@code [label, t_1 ... t_C]} per example, shape
 * {@code [batch, 1 + C]} ({@link Distillation#targets} builds them). No gradient flows to them.
 * Predictions are the student's logits or, with {@code fromLogits} false, the probabilities of a
 * final softmax, whose logits the loss reads back ({@link Tensor#logitsOf}); other probabilities
 * are turned into logits as their logarithm (logits up to a constant per row, which softmax ignores).
 *
 * <pre>{@code
 * Loss loss = new DistillationLoss(4, 0.9, false);
 * Tensor value = loss.compute(student.forward(x), Distillation.targets(labels, teacherLogits));
 * }</pre>
 *
 * @param temperature the softening temperature T, positive
 * @param alpha       the weight of the soft (teacher) term, in [0, 1]
 * @param fromLogits  whether predictions are logits (true) or probabilities (false)
 */
public record DistillationLoss(double temperature, double alpha, boolean fromLogits) implements Loss {
    public DistillationLoss {
        if (!(temperature > 0) || Double.isInfinite(temperature)) throw new IllegalArgumentException("temperature must be positive and finite, got " + temperature);
        if (!(alpha >= 0 && alpha <= 1)) throw new IllegalArgumentException("alpha must be in [0, 1], got " + alpha);
    }

    @Override
    public Tensor compute(Tensor predictions, Tensor targets) {
        if (predictions.rank() != 2) throw new IllegalArgumentException(name() + ": predictions must be [batch, classes], got " + predictions.shape());
        int rows = predictions.dim(0), n = predictions.dim(1);
        if (rows == 0) throw new IllegalArgumentException(name() + ": empty batch");
        if (targets.rank() != 2 || targets.dim(0) != rows || targets.dim(1) != n + 1)
            throw new IllegalArgumentException(name() + ": targets must be [batch, 1 + classes] = [" + rows + ", " + (n + 1)
                    + "] (label, then the teacher's logits), got " + targets.shape());
        Tensor logits = predictions;
        if (!fromLogits) {
            Tensor read = predictions.logitsOf(Tensor.Squash.SOFTMAX);
            logits = read != null ? read : predictions.clamp(Float.MIN_NORMAL, 1f).log();
        }
        return soft(logits, targets.toFloatArray(), rows, n);
    }

    /** The loss on student logits, with its backward beside it. */
    private Tensor soft(Tensor student, float[] targets, int rows, int n) {
        float[] s = student.toFloatArray();
        double t = temperature;
        double[] softStudent = new double[rows * n], hardStudent = new double[rows * n], softTeacher = new double[rows * n];
        int[] label = new int[rows];
        double total = 0;
        for (int r = 0; r < rows; r++) {
            float y = targets[r * (n + 1)];
            if (!(y >= 0 && y < n) || y != Math.rint(y))
                throw new IllegalArgumentException(name() + ": label of row " + r + " is " + y + "; expected an integer class index in [0, " + n + ")");
            label[r] = (int) y;
            double[] teacherLog = logSoftmax(targets, r * (n + 1) + 1, n, t);
            double[] studentLog = logSoftmax(s, r * n, n, t);
            double[] studentLogHard = logSoftmax(s, r * n, n, 1);
            double kl = 0;
            for (int j = 0; j < n; j++) {
                double p = Math.exp(teacherLog[j]);
                softTeacher[r * n + j] = p;
                softStudent[r * n + j] = Math.exp(studentLog[j]);
                hardStudent[r * n + j] = Math.exp(studentLogHard[j]);
                if (p > 0) kl += p * (teacherLog[j] - studentLog[j]);
            }
            total += alpha * t * t * kl - (1 - alpha) * studentLogHard[label[r]];
        }
        return Tensor.result(new float[] {(float) (total / rows)}, Shape.of(), g -> {
            // d/ds_j = alpha T (softmax(s/T)_j - softmax(t/T)_j) + (1 - alpha)(softmax(s)_j - [j = y]), over the batch mean
            double scale = g.item() / (double) rows;
            float[] ds = new float[s.length];
            for (int r = 0; r < rows; r++)
                for (int j = 0; j < n; j++) {
                    int i = r * n + j;
                    double hard = hardStudent[i] - (j == label[r] ? 1 : 0);
                    ds[i] = (float) (scale * (alpha * t * (softStudent[i] - softTeacher[i]) + (1 - alpha) * hard));
                }
            student.addToGrad(Tensor.of(ds, student.shape()));
        }, student);
    }

    /** log softmax(x[o .. o+n) / t) in double. */
    private static double[] logSoftmax(float[] x, int o, int n, double t) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < n; j++) max = Math.max(max, x[o + j] / t);
        double sum = 0;
        for (int j = 0; j < n; j++) sum += Math.exp(x[o + j] / t - max);
        double lse = max + Math.log(sum);
        double[] out = new double[n];
        for (int j = 0; j < n; j++) out[j] = x[o + j] / t - lse;
        return out;
    }

    @Override
    public String name() {
        return "distillation";
    }

    @Override
    public Map<String, Object> config() {
        Map<String, Object> c = Loss.super.config();
        c.put("temperature", temperature);
        c.put("alpha", alpha);
        c.put("from_logits", fromLogits);
        return c;
    }
}
