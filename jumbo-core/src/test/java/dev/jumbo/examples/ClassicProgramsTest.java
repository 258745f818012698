package dev.jumbo.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jumbo.data.Batch;
import dev.jumbo.data.DataLoader;
import dev.jumbo.data.TensorDataset;
import dev.jumbo.loss.SparseCategoricalCrossentropy;
import dev.jumbo.nn.Activation;
import dev.jumbo.nn.Conv2D;
import dev.jumbo.nn.Dense;
import dev.jumbo.nn.Dropout;
import dev.jumbo.nn.Embedding;
import dev.jumbo.nn.Flatten;
import dev.jumbo.nn.Init;
import dev.jumbo.nn.LSTM;
import dev.jumbo.nn.MaxPool2D;
import dev.jumbo.nn.Module;
import dev.jumbo.nn.Parameter;
import dev.jumbo.nn.PositionEmbedding;
import dev.jumbo.nn.TransformerBlock;
import dev.jumbo.optim.Adam;
import dev.jumbo.optim.SGD;
import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.train.FitOptions;
import dev.jumbo.train.History;
import dev.jumbo.train.Sequential;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The classic Keras programs, written in Jumbo and trained on small synthetic problems that a
 * working model solves and a broken one does not (chance level is far below each threshold).
 */
class ClassicProgramsTest {
    private final long seed = System.nanoTime();
    private final Random rnd = new Random(seed);

    {
        Init.seed(seed);
        System.out.println("ClassicProgramsTest seed " + seed);
    }

    /** Class k's examples scatter around their own random centre. */
    private TensorDataset blobs(int n, int features, int classes, float spread) {
        float[][] centres = new float[classes][features];
        for (float[] c : centres) for (int j = 0; j < features; j++) c[j] = (float) rnd.nextGaussian();
        float[] x = new float[n * features], y = new float[n];
        for (int i = 0; i < n; i++) {
            int k = rnd.nextInt(classes);
            y[i] = k;
            for (int j = 0; j < features; j++) x[i * features + j] = centres[k][j] + spread * (float) rnd.nextGaussian();
        }
        return new TensorDataset(Tensor.of(x, n, features), Tensor.of(y, n));
    }

    @Test
    void mlpWithSparseCategoricalCrossentropy() {
        TensorDataset data = blobs(1200, 784, 10, 3f);
        TensorDataset[] parts = data.split(0.25);
        Sequential model = new Sequential(Shape.of(784),
                new Dense(64, Activation.RELU), new Dense(64, Activation.RELU), new Dense(10, Activation.SOFTMAX));
        model.compile(new Adam(1e-3), "sparse_categorical_crossentropy", "accuracy");
        History h = model.fit(parts[0], FitOptions.defaults().epochs(5).batchSize(32).seed(seed));
        assertThat(h.get("loss").getLast()).as("seed %d", seed).isLessThan(h.get("loss").getFirst());
        assertThat(model.evaluate(parts[1], 64).get("accuracy")).as("seed %d", seed).isGreaterThan(0.9);
    }

    @Test
    void cnnWithValidationData() {
        // 4 classes: which quadrant of a 12x12 image holds a bright 3x3 patch, on noise
        int n = 600;
        float[] x = new float[n * 12 * 12], y = new float[n];
        for (int i = 0; i < n; i++) {
            int q = rnd.nextInt(4);
            y[i] = q;
            for (int p = 0; p < 144; p++) x[i * 144 + p] = 0.3f * rnd.nextFloat();
            int r0 = (q / 2) * 6 + rnd.nextInt(4), c0 = (q % 2) * 6 + rnd.nextInt(4);
            for (int r = r0; r < r0 + 3; r++) for (int c = c0; c < c0 + 3; c++) x[i * 144 + r * 12 + c] = 1f;
        }
        TensorDataset[] parts = new TensorDataset(Tensor.of(x, n, 12, 12, 1), Tensor.of(y, n)).split(0.2);
        Sequential model = new Sequential(Shape.of(12, 12, 1),
                new Conv2D(8, 3, Activation.RELU), new MaxPool2D(2),
                new Conv2D(16, 3, Activation.RELU), new MaxPool2D(2),
                new Flatten(), new Dense(16, Activation.RELU), new Dense(4, Activation.SOFTMAX));
        model.compile(new Adam(3e-3), "sparse_categorical_crossentropy", "accuracy");
        History h = model.fit(parts[0], FitOptions.defaults().epochs(6).batchSize(32).validationData(parts[1]).seed(seed));
        assertThat(h.metrics()).contains("loss", "accuracy", "val_loss", "val_accuracy");
        assertThat(h.last("val_accuracy")).as("seed %d", seed).isGreaterThan(0.85);
    }

    @Test
    void denseNetworkWithCategoricalCrossentropyOnOneHotTargets() {
        // Keras' "multi-class softmax classification" example: Dense(64) on 100 inputs, batch 32
        TensorDataset blobs = blobs(1000, 100, 10, 2f);
        float[] labels = blobs.y().toFloatArray(), oneHot = new float[labels.length * 10];
        for (int i = 0; i < labels.length; i++) oneHot[i * 10 + (int) labels[i]] = 1f;
        Tensor x = blobs.x(), y = Tensor.of(oneHot, labels.length, 10);
        Sequential model = new Sequential(Shape.of(100),
                new Dense(64, Activation.RELU), new Dropout(0.5), new Dense(64, Activation.RELU), new Dropout(0.5),
                new Dense(10, Activation.SOFTMAX));
        model.compile(new SGD(0.01, 0.9, true), "categorical_crossentropy", "accuracy");
        History h = model.fit(x, y, FitOptions.defaults().epochs(10).batchSize(32).validationSplit(0.2).seed(seed));
        assertThat(h.last("val_accuracy")).as("seed %d", seed).isGreaterThan(0.9);
    }

    @Test
    void binaryClassifierWithSigmoidAndBinaryCrossentropy() {
        int n = 800, f = 20;
        float[] w = new float[f];
        for (int j = 0; j < f; j++) w[j] = (float) rnd.nextGaussian();
        float[] x = new float[n * f], y = new float[n];
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int j = 0; j < f; j++) {
                x[i * f + j] = (float) rnd.nextGaussian();
                s += x[i * f + j] * w[j];
            }
            y[i] = s > 0 ? 1f : 0f;
        }
        Sequential model = new Sequential(Shape.of(f),
                new Dense(16, Activation.RELU), new Dense(1, Activation.SIGMOID));
        model.compile(new Adam(1e-2), "binary_crossentropy", "accuracy");
        History h = model.fit(Tensor.of(x, n, f), Tensor.of(y, n, 1), FitOptions.defaults().epochs(8).batchSize(32).validationSplit(0.25).seed(seed));
        assertThat(h.last("val_accuracy")).as("seed %d", seed).isGreaterThan(0.9);
    }

    @Test
    void lstmSequenceClassifier() {
        // the label is the sign of the FIRST step, so the LSTM must carry it through 8 steps
        int n = 600, t = 8;
        float[] x = new float[n * t], y = new float[n];
        for (int i = 0; i < n; i++) {
            for (int s = 0; s < t; s++) x[i * t + s] = (float) rnd.nextGaussian() * 0.5f;
            x[i * t] = rnd.nextBoolean() ? 1f : -1f;
            y[i] = x[i * t] > 0 ? 1f : 0f;
        }
        Sequential model = new Sequential(Shape.of(t, 1), new LSTM(16), new Dense(1, Activation.SIGMOID));
        model.compile(new Adam(1e-2), "binary_crossentropy", "accuracy");
        History h = model.fit(Tensor.of(x, n, t, 1), Tensor.of(y, n, 1), FitOptions.defaults().epochs(8).batchSize(32).validationSplit(0.2).seed(seed));
        assertThat(h.last("val_accuracy")).as("seed %d", seed).isGreaterThan(0.9);
    }

    @Test
    void transformerClassifierComparesDistantTokens() {
        // the label says whether the first and the last token are equal: a linear model on the
        // flattened embeddings cannot tell (it is an XOR of categories), attention between the two can
        int n = 1600, t = 8, vocab = 6;
        float[] x = new float[n * t], y = new float[n];
        for (int i = 0; i < n; i++) {
            for (int s = 0; s < t; s++) x[i * t + s] = rnd.nextInt(vocab);
            boolean same = rnd.nextBoolean();
            if (same) x[i * t + t - 1] = x[i * t];
            else while (x[i * t + t - 1] == x[i * t]) x[i * t + t - 1] = rnd.nextInt(vocab);
            y[i] = same ? 1 : 0;
        }
        Sequential model = new Sequential(Shape.of(t),
                new Embedding(vocab, 32), new PositionEmbedding(t),
                new TransformerBlock(4, 64, Activation.GELU, TransformerBlock.Norm.PRE, false, 1e-5),
                new Flatten(), new Dense(2, Activation.SOFTMAX));
        model.compile(new Adam(3e-3), "sparse_categorical_crossentropy", "accuracy");
        History h = model.fit(Tensor.of(x, n, t), Tensor.of(y, n), FitOptions.defaults().epochs(6).batchSize(32).validationSplit(0.2).seed(seed));
        assertThat(h.last("val_accuracy")).as("seed %d", seed).isGreaterThan(0.9);
    }

    @Test
    void handWrittenPyTorchStyleLoopUsesTheSameParts() {
        TensorDataset data = blobs(600, 20, 3, 1f);
        Module model = new Sequential(Shape.of(20), new Dense(32, Activation.RELU), new Dense(3));
        var lossFn = new SparseCategoricalCrossentropy(true);
        Adam opt = new Adam(1e-2);
        opt.bind(model.parameters().stream().map(Parameter::value).toList());
        float first = Float.NaN, last = Float.NaN;
        for (int epoch = 0; epoch < 5; epoch++) {
            for (Batch b : new DataLoader(data, 32, true, false, rnd)) {
                Tensor loss = lossFn.compute(model.forward(b.x()), b.y());
                opt.zeroGrad();
                loss.backward();
                opt.step();
                if (Float.isNaN(first)) first = loss.item();
                last = loss.item();
            }
        }
        assertThat(last).as("seed %d", seed).isLessThan(first * 0.5f);
    }
}
