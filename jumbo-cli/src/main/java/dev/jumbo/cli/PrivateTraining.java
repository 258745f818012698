package dev.jumbo.cli;

import dev.jumbo.data.FashionMnist;
import dev.jumbo.data.Splits;
import dev.jumbo.data.TensorDataset;
import dev.jumbo.io.AtomicFiles;
import dev.jumbo.loss.SparseCategoricalCrossentropy;
import dev.jumbo.nn.Init;
import dev.jumbo.optim.Adam;
import dev.jumbo.privacy.DpSgd;
import dev.jumbo.privacy.DpTrainer;
import dev.jumbo.privacy.PerExampleGradients;
import dev.jumbo.train.Sequential;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * {@code jumbo train ... --dp}: DP-SGD (Poisson batches, per-example clipping, Gaussian noise,
 * Adam) with epsilon reported after every epoch. The noise multiplier is given, or solved for
 * the target epsilon over all the planned epochs; the noise is drawn from a SecureRandom-seeded
 * generator (never from {@code --seed}, which seeds the weights and the sampling).
 */
final class PrivateTraining {
    /** What {@code --dp} adds to {@code jumbo train}. */
    record Options(Double targetEpsilon, Double noiseMultiplier, double delta, double maxGradNorm) {}

    private PrivateTraining() {}

    static int run(TrainCommand t, Options dp, PrintWriter out, PrintWriter err) throws Exception {
        if (t.resume || t.validationSplit > 0 || t.checkpointEvery > 0)
            throw new IllegalArgumentException("--dp does not combine with --resume, --validation-split or --checkpoint-every yet");
        if (dp.targetEpsilon() != null && dp.noiseMultiplier() != null)
            throw new IllegalArgumentException("--dp takes --target-epsilon or --noise-multiplier, not both");
        Main.banner(err);
        int batch = t.batchSize != null ? t.batchSize : 256;
        Splits splits = t.data.load();
        Init.seed(t.seed);
        Sequential model = Architectures.build(t.arch, splits.train().exampleShape(), TrainCommand.classes(splits));
        PerExampleGradients.requireSupported(model);
        TensorDataset train = DataOptions.fit(splits.train(), model.inputShape());
        TensorDataset test = DataOptions.fit(splits.test(), model.inputShape());
        int n = train.size();
        double target = dp.targetEpsilon() != null ? dp.targetEpsilon() : 3.0;
        double sigma = dp.noiseMultiplier() != null ? dp.noiseMultiplier() : DpTrainer.noiseFor(target, dp.delta(), n, batch, t.epochs);
        err.printf("DP-SGD: expected batch %d of %d (q %.5f), %d steps per epoch, noise multiplier %.4f%s, max grad norm %s, delta %s%n",
                batch, n, (double) batch / n, Math.ceilDiv(n, batch), sigma,
                dp.noiseMultiplier() != null ? "" : String.format(" (for epsilon %s over %d epochs)", target, t.epochs), dp.maxGradNorm(), dp.delta());
        err.flush();
        model.compile(new Adam(t.learningRate), "sparse_categorical_crossentropy", "accuracy");   // for evaluate and save
        var settings = new DpTrainer.Settings(batch, sigma, dp.maxGradNorm(), dp.delta(), t.epochs);
        var trainer = new DpTrainer(model, new Adam(t.learningRate), new SparseCategoricalCrossentropy(), settings,
                new SplittableRandom(t.seed), DpSgd.secureNoise());
        List<Map<String, Object>> history = new ArrayList<>();
        StringBuilder csv = new StringBuilder("epoch,loss,test_loss,test_accuracy,epsilon,steps\n");
        List<Double> seconds = new ArrayList<>();
        long[] start = {System.nanoTime()};
        var epochs = trainer.fit(train, e -> {
            double s = (System.nanoTime() - start[0]) / 1e9;
            seconds.add(s);
            Map<String, Double> figures = model.evaluate(test, 256);
            err.printf("epoch %d/%d - %.1fs - loss %.4f - test_loss %.4f - test_accuracy %.4f - epsilon %.4f (order %s, delta %s)%n",
                    e.epoch(), t.epochs, s, e.loss(), figures.get("loss"), figures.get("accuracy"), e.epsilon(), e.order(), dp.delta());
            err.flush();
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("epoch", e.epoch());
            row.put("loss", e.loss());
            row.put("test_loss", figures.get("loss"));
            row.put("test_accuracy", figures.get("accuracy"));
            row.put("epsilon", e.epsilon());
            row.put("order", e.order());
            row.put("steps", e.steps());
            history.add(row);
            csv.append(String.format("%d,%s,%s,%s,%s,%d%n", e.epoch(), e.loss(), figures.get("loss"), figures.get("accuracy"), e.epsilon(), e.steps()));
            start[0] = System.nanoTime();
        });
        var last = epochs.getLast();
        Files.createDirectories(t.out);
        model.save(t.out);
        AtomicFiles.writeString(t.out.resolve("metrics.csv"), csv.toString());
        if (t.data.dataset.equals("fashion-mnist")) AtomicFiles.writeString(t.out.resolve(TrainCommand.LABELS_FILE), String.join("\n", FashionMnist.CLASS_NAMES) + "\n");
        Map<String, Double> figures = model.evaluate(test, 256);
        out.printf("test loss %.4f, test accuracy %.4f; (epsilon %.4f, delta %s)-DP with noise multiplier %.4f; model written to %s%n",
                figures.get("loss"), figures.get("accuracy"), last.epsilon(), dp.delta(), sigma, t.out);
        if (t.json) {
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("arch", t.arch);
            result.put("dataset", t.data.dataset);
            result.put("epochs", epochs.size());
            result.put("batch_size", batch);
            result.put("test_accuracy", figures.get("accuracy"));
            result.put("test_loss", figures.get("loss"));
            result.put("epsilon", last.epsilon());
            result.put("delta", dp.delta());
            result.put("noise_multiplier", sigma);
            result.put("max_grad_norm", dp.maxGradNorm());
            result.put("steps", last.steps());
            result.put("seconds_per_epoch", seconds.stream().sorted().toList().get(seconds.size() / 2));
            result.put("history", history);
            result.put("out", t.out.toString());
            out.println(JsonOutput.line(result));
        }
        out.flush();
        return 0;
    }
}
