package dev.jumbo.federated;

import dev.jumbo.data.TensorDataset;
import dev.jumbo.optim.SGD;
import dev.jumbo.train.Sequential;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A {@link FederatedServer.RoundListener} that evaluates the global model on held-out data after
 * every round and reports a line per round: what the server prints and what tests assert on.
 */
public final class GlobalEvaluation implements FederatedServer.RoundListener {
    /** One round's outcome with the global model's test figures after it. */
    public record Row(FederatedServer.RoundResult round, double testLoss, double testAccuracy) {}

    private final Sequential model;
    private final TensorDataset test;
    private final Consumer<String> out;
    private final List<Row> rows = new ArrayList<>();

    /** {@code model} is a copy of the server's (same config); its weights are overwritten each round. */
    public GlobalEvaluation(Sequential model, TensorDataset test, Consumer<String> out) {
        this.model = model;
        this.test = test;
        this.out = out;
        model.compile(new SGD(0.01), "sparse_categorical_crossentropy", "accuracy"); // evaluate only: the optimizer never steps
    }

    @Override
    public void roundEnded(FederatedServer.RoundResult r, float[] globalWeights) {
        FlatWeights.load(model, globalWeights);
        Map<String, Double> m = model.evaluate(test, 256);
        Row row = new Row(r, m.get("loss"), m.get("accuracy"));
        rows.add(row);
        out.accept(String.format("round %d: %d of %d sampled clients answered%s%s, model version %d, test loss %.4f, test accuracy %.4f",
                r.round(), r.answered().size(), r.sampled().size(), r.applied() ? "" : " (fewer than the minimum: model unchanged)",
                r.rejectedUpdates() > 0 ? ", " + r.rejectedUpdates() + " updates rejected" : "", r.modelVersion(), row.testLoss(), row.testAccuracy()));
    }

    public List<Row> rows() {
        return List.copyOf(rows);
    }
}
