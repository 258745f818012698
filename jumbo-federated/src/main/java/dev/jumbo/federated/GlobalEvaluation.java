package dev.jumbo.federated;

import dev.jumbo.data.TensorDataset;
import dev.jumbo.nn.FlatParameters;
import dev.jumbo.optim.SGD;
import dev.jumbo.train.Sequential;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A {@link FederatedServer.RoundListener} that evaluates the global model on held-out data after
 * every round and reports a line per round: what the server prints and what tests assert on.
 *
 * <p>{@link #withAverage} also keeps an exponential moving average of the global weights over
 * rounds (Polyak averaging of the iterates) and evaluates it: under label-skewed clients the
 * averaged model swings from round to round, and the moving average smooths that out.
 */
public final class GlobalEvaluation implements FederatedServer.RoundListener {
    /** One round's outcome with the global model's test figures after it. */
    public record Row(FederatedServer.RoundResult round, double testLoss, double testAccuracy, double averagedAccuracy) {}

    private final Sequential model;
    private final TensorDataset test;
    private final Consumer<String> out;
    private final List<Row> rows = new ArrayList<>();
    private double decay;
    private float[] average;

    /** {@code model} is a copy of the server's (same config); its weights are overwritten each round. */
    public GlobalEvaluation(Sequential model, TensorDataset test, Consumer<String> out) {
        this.model = model;
        this.test = test;
        this.out = out;
        model.compile(new SGD(0.01), "sparse_categorical_crossentropy", "accuracy"); // evaluate only: the optimizer never steps
    }

    /**
     * Also evaluates the moving average a <- decay a + (1 - decay) w of the global weights w
     * after each round (a starts at the first round's w).
     */
    public GlobalEvaluation withAverage(double decay) {
        if (!(decay > 0 && decay < 1)) throw new IllegalArgumentException("the moving average's decay must be in (0, 1), got " + decay);
        this.decay = decay;
        return this;
    }

    /** The moving average of the global weights, or null if not kept or no round ended. */
    public float[] averagedWeights() {
        return average == null ? null : average.clone();
    }

    @Override
    public void roundEnded(FederatedServer.RoundResult r, float[] globalWeights) {
        double averaged = Double.NaN;
        if (decay > 0) {
            if (average == null) average = globalWeights.clone();
            else for (int i = 0; i < average.length; i++) average[i] = (float) (decay * average[i] + (1 - decay) * globalWeights[i]);
            FlatParameters.loadState(model, average);
            averaged = model.evaluate(test, 256).get("accuracy");
        }
        FlatParameters.loadState(model, globalWeights);
        Map<String, Double> m = model.evaluate(test, 256);
        Row row = new Row(r, m.get("loss"), m.get("accuracy"), averaged);
        rows.add(row);
        out.accept(String.format("round %d: %d of %d sampled clients answered%s%s, model version %d, test loss %.4f, test accuracy %.4f",
                r.round(), r.answered().size(), r.sampled().size(), r.applied() ? "" : " (fewer than the minimum: model unchanged)",
                r.rejectedUpdates() > 0 ? ", " + r.rejectedUpdates() + " updates rejected" : "", r.modelVersion(), row.testLoss(), row.testAccuracy())
                + (decay > 0 ? String.format(", moving average %.4f", averaged) : ""));
    }

    public List<Row> rows() {
        return List.copyOf(rows);
    }
}
