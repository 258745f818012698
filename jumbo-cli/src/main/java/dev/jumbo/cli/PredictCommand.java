package dev.jumbo.cli;

import dev.jumbo.data.Csv;
import dev.jumbo.data.TensorDataset;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.train.Sequential;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code jumbo predict}: class predictions of a saved model for test examples or CSV rows. */
@Command(name = "predict", mixinStandardHelpOptions = true,
        description = {"Predict classes with a saved model, for the first examples of a dataset's test split or for the rows of a CSV file.",
                "Example: jumbo predict --model runs/cnn fashion-mnist --count 5",
                "With --spark [MASTER] the examples are predicted on Spark (the same floats), e.g. --spark local[2]."})
final class PredictCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelOption model;

    @Parameters(index = "0", arity = "0..1", paramLabel = "DATASET", description = "fashion-mnist or mnist (test split).")
    String dataset;

    @Option(names = "--data", paramLabel = "DIR", description = "Folder holding the dataset's files.")
    Path dataDir;

    @Option(names = "--input", paramLabel = "FILE.csv", description = "Numeric CSV with a header; every column is an input (no label).")
    Path input;

    @Option(names = "--count", defaultValue = "10", description = "How many test examples (default: ${DEFAULT-VALUE}).")
    int count;

    @Option(names = "--json", description = "Print one JSON object with the predictions as the last line.")
    boolean json;

    @Option(names = {"--spark", "--spark-master"}, arity = "0..1", fallbackValue = "local[*]", paramLabel = "MASTER",
            description = "Predict on Spark (the same outputs as without it): local[*] when no MASTER, local[2], spark://host:7077 ...")
    String spark;

    @Option(names = "--spark-conf", paramLabel = "KEY=VALUE",
            description = "A Spark setting for --spark, repeatable: spark.executor.memory=4g, spark.driver.host=10.0.0.5 ...")
    Map<String, String> sparkConf = new LinkedHashMap<>();

    @Override
    public Integer call() throws Exception {
        Main.banner(spec.commandLine().getErr());
        Sequential m = model.load();
        Tensor x;
        float[] labels = null;
        if (input != null) {
            x = Csv.readFeatures(input, true);
        } else {
            if (dataset == null) throw new IllegalArgumentException("give a DATASET (fashion-mnist, mnist) or --input FILE.csv");
            TensorDataset test = DataOptions.of(dataset, dataDir).load().test();
            int n = Math.min(count, test.size());
            x = test.x().slice(0, 0, n);
            labels = test.y().slice(0, 0, n).toFloatArray();
        }
        TensorDataset fitted = DataOptions.fit(new TensorDataset(x, Tensor.zeros(x.dim(0))), m.inputShape());
        // the model and the examples are read and checked above, before Spark starts
        Tensor p = spark == null ? m.predict(fitted.x(), 256) : SparkPredictionJob.predict(spark, sparkConf, m, fitted, 256, spec.commandLine().getErr());
        int[] cls = p.argmax();
        float[] probs = p.toFloatArray();
        int k = p.dim(-1);
        PrintWriter out = spec.commandLine().getOut();
        List<Map<String, Object>> rows = new ArrayList<>();
        for (int i = 0; i < cls.length; i++) {
            float prob = probs[i * k + cls[i]];
            out.printf("%d\tpredicted %d (p=%.3f)%s%n", i, cls[i], prob, labels == null ? "" : "\tlabel " + (int) labels[i]);
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("index", i);
            r.put("predicted", cls[i]);
            r.put("probability", prob);
            if (labels != null) r.put("label", (int) labels[i]);
            rows.add(r);
        }
        if (json) out.println(JsonOutput.line(Map.of("predictions", rows)));
        return 0;
    }
}
