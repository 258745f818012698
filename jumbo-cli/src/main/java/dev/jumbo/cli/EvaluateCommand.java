package dev.jumbo.cli;

import dev.jumbo.data.Splits;
import dev.jumbo.data.TensorDataset;
import dev.jumbo.optim.Adam;
import dev.jumbo.train.Sequential;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code jumbo evaluate}: test loss and accuracy of a saved model. */
@Command(name = "evaluate", mixinStandardHelpOptions = true,
        description = {"Evaluate a saved model on a dataset's test split.", "Example: jumbo evaluate --model runs/cnn fashion-mnist --json"})
final class EvaluateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelOption model;

    @Mixin
    DataOptions data;

    @Option(names = "--batch-size", defaultValue = "256", description = "Examples per forward pass (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--json", description = "Print one JSON object with the results as the last line.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        Main.banner(spec.commandLine().getErr());
        Sequential m = model.load();
        Splits splits = data.load();
        TensorDataset test = DataOptions.fit(splits.test(), m.inputShape());
        m.compile(new Adam(1e-3), "sparse_categorical_crossentropy", "accuracy");
        long t0 = System.nanoTime();
        Map<String, Double> r = m.evaluate(test, batchSize);
        double seconds = (System.nanoTime() - t0) / 1e9;
        PrintWriter out = spec.commandLine().getOut();
        out.printf("test loss %.4f, test accuracy %.4f (%d examples, %.1f s)%n", r.get("loss"), r.get("accuracy"), test.size(), seconds);
        if (json) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("model", model.dir.toString());
            o.put("dataset", data.dataset);
            o.put("examples", test.size());
            o.put("test_accuracy", r.get("accuracy"));
            o.put("test_loss", r.get("loss"));
            o.put("seconds", seconds);
            out.println(JsonOutput.line(o));
        }
        return 0;
    }
}
