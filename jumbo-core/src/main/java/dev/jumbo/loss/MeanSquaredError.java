package dev.jumbo.loss;

import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;

/**
 * Mean of {@code (prediction - target)^2} over every element, Keras' {@code mean_squared_error}.
 * Gradients flow to the predictions and, when they require one, to the targets.
 */
public record MeanSquaredError() implements Loss {
    @Override
    public Tensor compute(Tensor predictions, Tensor targets) {
        LossChecks.requireElementwise(name(), predictions, targets);
        float[] x = predictions.toFloatArray(), z = targets.toFloatArray();
        int n = x.length;
        float[] diff = new float[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            diff[i] = x[i] - z[i];
            sum += (double) diff[i] * diff[i];
        }
        return Tensor.result(new float[] {(float) (sum / n)}, Shape.of(), g -> {
            // d/dx = 2 (x - z) / n, d/dz = -d/dx
            float c = 2f * g.item() / n;
            if (predictions.requiresGrad()) predictions.addToGrad(Tensor.of(scaled(diff, c), predictions.shape()));
            if (targets.requiresGrad()) targets.addToGrad(Tensor.of(scaled(diff, -c), targets.shape()));
        }, predictions, targets);
    }

    private static float[] scaled(float[] v, float c) {
        float[] y = new float[v.length];
        for (int i = 0; i < v.length; i++) y[i] = c * v[i];
        return y;
    }

    @Override
    public String name() {
        return "mean_squared_error";
    }
}
