package dev.jumbo.federated;

import dev.jumbo.data.TensorDataset;
import dev.jumbo.tensor.Tensor;
import java.util.Random;

/** Gaussian blobs: {@code classes} centres in {@code dims} dimensions, a quick learnable task for round trips. */
final class Blobs {
    private Blobs() {}

    static TensorDataset make(int n, int dims, int classes, double noise, long centresSeed, long seed) {
        Random c = new Random(centresSeed), r = new Random(seed);
        double[][] centres = new double[classes][dims];
        for (double[] row : centres) for (int j = 0; j < dims; j++) row[j] = c.nextGaussian() * 1.5;
        float[] x = new float[n * dims], y = new float[n];
        for (int i = 0; i < n; i++) {
            int k = r.nextInt(classes);
            y[i] = k;
            for (int j = 0; j < dims; j++) x[i * dims + j] = (float) (centres[k][j] + noise * r.nextGaussian());
        }
        return new TensorDataset(Tensor.of(x, n, dims), Tensor.of(y, n));
    }
}
