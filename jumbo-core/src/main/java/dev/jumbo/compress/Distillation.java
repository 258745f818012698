package dev.jumbo.compress;

import dev.jumbo.tensor.GradMode;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.train.Sequential;

/**
 * What a student learns from: the teacher's logits over a dataset, and the targets that
 * {@link DistillationLoss} reads (the label, then the teacher's logits, per example). The teacher
 * runs once, before training, not on every batch.
 *
 * <pre>{@code
 * Tensor logits = Distillation.teacherLogits(teacher, train.x(), 256);
 * student.compile(new Adam(1e-3), new DistillationLoss(4, 0.9, false));
 * student.fit(new TensorDataset(train.x(), Distillation.targets(train.y(), logits)), options);
 * }</pre>
 */
public final class Distillation {
    private Distillation() {}

    /**
     * The teacher's logits for {@code x} ({@code [n, classes]}), {@code batchSize} examples at a
     * time in inference mode. A model ending in softmax (every classifier {@code jumbo train}
     * writes) gives the softmax's input; any other output is taken as probabilities and its
     * logarithm returned, which differs from the logits by a constant per row that a softmax
     * ignores (probabilities of 0 become the log of the smallest normal float).
     */
    public static Tensor teacherLogits(Sequential teacher, Tensor x, int batchSize) {
        if (batchSize <= 0) throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
        boolean was = teacher.isTraining();
        teacher.train(false);
        try (var scope = GradMode.noGrad()) {
            int n = x.dim(0), classes = -1;
            float[] out = null;
            for (int i = 0; i < n; i += batchSize) {
                Tensor p = teacher.forward(x.slice(0, i, Math.min(n, i + batchSize)));
                if (p.rank() != 2) throw new IllegalArgumentException("the teacher must output [batch, classes], got " + p.shape());
                Tensor logits = p.logitsOf(Tensor.Squash.SOFTMAX);
                float[] v = logits != null ? logits.toFloatArray() : logOf(p.toFloatArray());
                if (out == null) {
                    classes = p.dim(1);
                    out = new float[n * classes];
                }
                System.arraycopy(v, 0, out, i * classes, v.length);
            }
            return Tensor.of(out == null ? new float[0] : out, n, Math.max(classes, 0));
        } finally {
            teacher.train(was);
        }
    }

    private static float[] logOf(float[] p) {
        float[] l = new float[p.length];
        for (int i = 0; i < p.length; i++) l[i] = (float) Math.log(Math.max(p[i], Float.MIN_NORMAL));
        return l;
    }

    /** {@code [n, 1 + classes]}: each example's label ({@code [n]} or {@code [n, 1]}) followed by the teacher's logits. */
    public static Tensor targets(Tensor labels, Tensor teacherLogits) {
        int n = teacherLogits.dim(0), classes = teacherLogits.dim(1);
        if (labels.size() != n || labels.dim(0) != n)
            throw new IllegalArgumentException("labels of shape " + labels.shape() + " do not match the teacher's logits of shape " + teacherLogits.shape());
        float[] y = labels.toFloatArray(), t = teacherLogits.toFloatArray(), out = new float[n * (classes + 1)];
        for (int r = 0; r < n; r++) {
            out[r * (classes + 1)] = y[r];
            System.arraycopy(t, r * classes, out, r * (classes + 1) + 1, classes);
        }
        return Tensor.of(out, n, classes + 1);
    }
}
