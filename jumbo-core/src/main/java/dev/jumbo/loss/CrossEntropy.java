package dev.jumbo.loss;

import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;

/**
 * The fused op behind categorical and sparse categorical cross-entropy: per row of
 * {@code [..., classes]} predictions, {@code -sum_j t_j log q_j}, averaged over rows, where
 * {@code log q} is the log-softmax of logits, or the log of the clipped, row-normalised
 * probabilities (Keras divides probabilities by their row sum before clipping).
 */
final class CrossEntropy {
    private CrossEntropy() {}

    /**
     * @param t           the target distribution, laid out like the predictions
     * @param targetInput the targets tensor to send gradients to, or null when they get none
     */
    static Tensor compute(Tensor predictions, float[] t, Tensor targetInput, boolean fromLogits) {
        int n = predictions.dim(-1), rows = predictions.size() / n;
        float[] x = predictions.toFloatArray();
        float[] logq = new float[x.length];
        double[] rowSum = fromLogits ? null : new double[rows];
        double total = 0;
        for (int r = 0; r < rows; r++) {
            int o = r * n;
            if (fromLogits) {
                float max = Float.NEGATIVE_INFINITY;
                for (int j = 0; j < n; j++) max = Math.max(max, x[o + j]);
                double s = 0;
                for (int j = 0; j < n; j++) s += Math.exp(x[o + j] - max);
                double lse = max + Math.log(s);
                for (int j = 0; j < n; j++) logq[o + j] = (float) (x[o + j] - lse);
            } else {
                double s = 0;
                for (int j = 0; j < n; j++) s += x[o + j];
                rowSum[r] = s;
                for (int j = 0; j < n; j++) logq[o + j] = (float) Math.log(clip(normalised(x[o + j], s)));
            }
            // a zero target contributes nothing, even where log q is -infinity (0 log 0 = 0)
            for (int j = 0; j < n; j++) if (t[o + j] != 0) total -= (double) t[o + j] * logq[o + j];
        }
        Tensor[] inputs = targetInput == null ? new Tensor[] {predictions} : new Tensor[] {predictions, targetInput};
        return Tensor.result(new float[] {(float) (total / rows)}, Shape.of(), g -> {
            float scale = g.item() / rows;
            if (predictions.requiresGrad()) {
                float[] dx = new float[x.length];
                for (int r = 0; r < rows; r++) {
                    int o = r * n;
                    if (fromLogits) {
                        // d/dx_k = softmax_k * sum(t) - t_k
                        double sumT = 0;
                        for (int j = 0; j < n; j++) sumT += t[o + j];
                        for (int j = 0; j < n; j++) dx[o + j] = (float) (scale * (Math.exp(logq[o + j]) * sumT - t[o + j]));
                    } else {
                        // with q = x / S and a_j = dL/dq_j = -t_j / clip(q_j) (0 where clipped):
                        // d/dx_k = (a_k - sum_j a_j q_j) / S
                        double s = rowSum[r], dot = 0;
                        double[] a = new double[n];
                        for (int j = 0; j < n; j++) {
                            float q = normalised(x[o + j], s);
                            a[j] = q >= LossChecks.EPSILON && q <= LossChecks.ONE_MINUS_EPSILON ? -t[o + j] / (double) q : 0;
                            dot += a[j] * q;
                        }
                        for (int j = 0; j < n; j++) dx[o + j] = (float) (scale * (a[j] - dot) / s);
                    }
                }
                predictions.addToGrad(Tensor.of(dx, predictions.shape()));
            }
            if (targetInput != null && targetInput.requiresGrad()) {
                float[] dt = new float[x.length];
                for (int i = 0; i < dt.length; i++) dt[i] = -scale * logq[i];   // d/dt_j = -log q_j
                targetInput.addToGrad(Tensor.of(dt, targetInput.shape()));
            }
        }, inputs);
    }

    private static float normalised(float x, double rowSum) {
        return (float) (x / rowSum);
    }

    private static float clip(float q) {
        return Math.min(Math.max(q, LossChecks.EPSILON), LossChecks.ONE_MINUS_EPSILON);
    }
}
