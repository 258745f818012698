package dev.jumbo.spark;

import dev.jumbo.data.TensorDataset;
import dev.jumbo.nn.Activation;
import dev.jumbo.nn.Dense;
import dev.jumbo.nn.Init;
import dev.jumbo.optim.Adam;
import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.train.Sequential;
import java.util.Random;

/** Gaussian blobs around random centres, and the small MLP the Spark tests train on them. */
final class Blobs {
    static final int FEATURES = 8, CLASSES = 3;

    private Blobs() {}

    /** {@code n} examples; the same {@code seed} gives the same centres, so train and test sets match. */
    static TensorDataset of(int n, long seed, long sampleSeed) {
        Random centres = new Random(seed), r = new Random(sampleSeed);
        float[][] c = new float[CLASSES][FEATURES];
        for (float[] row : c) for (int j = 0; j < FEATURES; j++) row[j] = (float) (centres.nextGaussian() * 1.5);
        float[] x = new float[n * FEATURES], y = new float[n];
        for (int i = 0; i < n; i++) {
            int k = r.nextInt(CLASSES);
            y[i] = k;
            for (int j = 0; j < FEATURES; j++) x[i * FEATURES + j] = c[k][j] + (float) r.nextGaussian();
        }
        return new TensorDataset(Tensor.of(x, n, FEATURES), Tensor.of(y, n));
    }

    /** An MLP with weights drawn from {@code seed}, compiled with Adam. */
    static Sequential mlp(long seed) {
        Init.seed(seed);
        Sequential m = new Sequential(Shape.of(FEATURES), new Dense(32, Activation.RELU), new Dense(16, Activation.RELU),
                new Dense(CLASSES, Activation.SOFTMAX));
        m.compile(new Adam(5e-3), "sparse_categorical_crossentropy", "accuracy");
        return m;
    }
}
