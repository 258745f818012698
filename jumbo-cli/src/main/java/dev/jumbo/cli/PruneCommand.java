package dev.jumbo.cli;

import dev.jumbo.compress.GradualPruning;
import dev.jumbo.compress.LayerSparsity;
import dev.jumbo.compress.PolynomialSchedule;
import dev.jumbo.compress.PruningMask;
import dev.jumbo.compress.StructuredPruning;
import dev.jumbo.data.Splits;
import dev.jumbo.data.TensorDataset;
import dev.jumbo.nn.Init;
import dev.jumbo.nn.Layer;
import dev.jumbo.optim.Adam;
import dev.jumbo.tensor.Shape;
import dev.jumbo.train.FitOptions;
import dev.jumbo.train.Sequential;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code jumbo prune}: magnitude pruning of a saved model, with fine-tuning, into a new folder. */
@Command(name = "prune", mixinStandardHelpOptions = true,
        description = {"Prune a saved model by weight magnitude and fine-tune it; prints per-layer sparsity and test accuracy before and after.",
                "Unstructured (default) zeroes the smallest weights of each Dense and Conv2D kernel (--global: the smallest over all of them),"
                        + " rising to --sparsity over the fine-tuning epochs (Zhu and Gupta's cubic schedule). --structured removes that fraction"
                        + " of each hidden layer's units and filters (smallest L1 norm), so the model itself shrinks.",
                "Example: jumbo prune --model runs/cnn --sparsity 0.8 --fine-tune-epochs 2 fashion-mnist --out runs/cnn-pruned80"})
final class PruneCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelOption model;

    @Mixin
    DataOptions data;

    @Option(names = "--sparsity", required = true, description = "Fraction of the weights (or, with --structured, of each hidden layer's units) to remove, in [0, 1).")
    double sparsity;

    @Option(names = "--structured", description = "Remove whole neurons and filters, shrinking the layers.")
    boolean structured;

    @Option(names = "--global", description = "Unstructured only: one magnitude threshold over all layers instead of the same sparsity in each.")
    boolean global;

    @Option(names = "--fine-tune-epochs", defaultValue = "2", paramLabel = "N", description = "Epochs of fine-tuning while and after pruning (default: ${DEFAULT-VALUE}; 0 prunes at once).")
    int epochs;

    @Option(names = "--batch-size", defaultValue = "64", description = "Examples per fine-tuning step (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--lr", defaultValue = "0.0005", description = "Adam learning rate of the fine-tuning (default: ${DEFAULT-VALUE}).")
    double learningRate;

    @Option(names = "--seed", defaultValue = "42", description = "Seeds the shuffling (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Folder for the pruned model (never the --model folder).")
    Path out;

    @Option(names = "--json", description = "Print one JSON object with the results as the last line.")
    boolean json;

    @Option(names = "--no-progress", description = "No progress bar (per-epoch lines only).")
    boolean noProgress;

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        Main.banner(err);
        if (structured && global) throw new IllegalArgumentException("--global chooses weights across layers; --structured removes the same fraction of units from each layer: use one of them");
        if (epochs < 0) throw new IllegalArgumentException("--fine-tune-epochs must be >= 0, got " + epochs);
        OutputFolder.requireSeparate(out, model.dir, "--model");
        Sequential original = model.load();
        Splits splits = data.load();
        TensorDataset train = DataOptions.fit(splits.train(), original.inputShape());
        TensorDataset test = DataOptions.fit(splits.test(), original.inputShape());
        original.compile(new Adam(learningRate), "sparse_categorical_crossentropy", "accuracy");
        Map<String, Double> before = original.evaluate(test, 256);
        List<LayerSparsity> sparsityBefore = LayerSparsity.of(original);
        long paramsBefore = parameters(original);
        Init.seed(seed);

        // pruned at once to the target, before any fine-tuning: what the fine-tuning has to recover
        PruningMask.Scope scope = global ? PruningMask.Scope.GLOBAL : PruningMask.Scope.PER_LAYER;
        Sequential atOnce = structured ? StructuredPruning.prune(original, sparsity).model() : copyOf(original);
        if (!structured) PruningMask.magnitude(atOnce, sparsity, scope).apply();
        atOnce.compile(new Adam(learningRate), "sparse_categorical_crossentropy", "accuracy");
        Map<String, Double> untuned = atOnce.evaluate(test, 256);

        FitOptions options = FitOptions.defaults().epochs(epochs).batchSize(batchSize).seed(seed).validationData(test)
                .callbacks(new TrainCommand.EpochTimer(err));
        if (!noProgress) options = options.callbacks(new ProgressBarCallback(err));
        Sequential pruned;
        if (structured || epochs == 0) {
            // the smaller model fine-tunes as it is; a masked one without epochs is done
            pruned = atOnce;
            if (epochs > 0) pruned.fit(train, options);
        } else {
            // unstructured: the sparsity rises over the epochs instead of all at once
            pruned = original;
            pruned.fit(train, options.callbacks(new GradualPruning(pruned, new PolynomialSchedule(0, sparsity, epochs), scope)));
        }
        Map<String, Double> after = pruned.evaluate(test, 256);
        List<LayerSparsity> sparsityAfter = LayerSparsity.of(pruned);
        long paramsAfter = parameters(pruned);
        OutputFolder.write(out, model.dir, "--model", pruned::save);

        PrintWriter o = spec.commandLine().getOut();
        o.printf("%-12s %-18s %-18s %13s %13s %12s %12s%n", "layer", "kernel before", "kernel after", "params before", "params after", "zeros before", "zeros after");
        List<Map<String, Object>> layers = new ArrayList<>();
        for (int i = 0; i < sparsityBefore.size(); i++) {
            LayerSparsity b = sparsityBefore.get(i), a = sparsityAfter.get(i);
            o.printf("%-12s %-18s %-18s %,13d %,13d %11.1f%% %11.1f%%%n", b.layer(), b.kernelShape(), a.kernelShape(), b.parameters(), a.parameters(),
                    100 * b.sparsity(), 100 * a.sparsity());
            Map<String, Object> l = new LinkedHashMap<>();
            l.put("layer", b.layer());
            l.put("kernel_shape_before", b.kernelShape().toString());
            l.put("kernel_shape_after", a.kernelShape().toString());
            l.put("parameters_before", b.parameters());
            l.put("parameters_after", a.parameters());
            l.put("sparsity_before", b.sparsity());
            l.put("sparsity_after", a.sparsity());
            layers.add(l);
        }
        o.printf("kernels: %.1f%% zeros before, %.1f%% after; parameters %,d -> %,d; FLOPs per example %,d -> %,d%n", 100 * LayerSparsity.overall(sparsityBefore),
                100 * LayerSparsity.overall(sparsityAfter), paramsBefore, paramsAfter, flops(original), flops(pruned));
        o.printf("test accuracy %.4f before, %.4f pruned at once without fine-tuning, %.4f after (test loss %.4f -> %.4f); pruned model written to %s%n",
                before.get("accuracy"), untuned.get("accuracy"), after.get("accuracy"), before.get("loss"), after.get("loss"), out);
        if (json) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("model", model.dir.toString());
            r.put("dataset", data.dataset);
            r.put("method", structured ? "structured" : global ? "unstructured-global" : "unstructured");
            r.put("sparsity", sparsity);
            r.put("fine_tune_epochs", epochs);
            r.put("test_accuracy_before", before.get("accuracy"));
            r.put("test_accuracy_pruned_at_once", untuned.get("accuracy"));
            r.put("test_accuracy_after", after.get("accuracy"));
            r.put("test_loss_before", before.get("loss"));
            r.put("test_loss_after", after.get("loss"));
            r.put("parameters_before", paramsBefore);
            r.put("parameters_after", paramsAfter);
            r.put("flops_before", flops(original));
            r.put("flops_after", flops(pruned));
            r.put("kernel_sparsity_after", LayerSparsity.overall(sparsityAfter));
            r.put("layers", layers);
            r.put("out", out.toString());
            o.println(JsonOutput.line(r));
        }
        return 0;
    }

    private static Sequential copyOf(Sequential m) throws IOException {
        Sequential copy = Sequential.fromConfig(m.configJson(), Path.of(Sequential.CONFIG_FILE));
        copy.loadStateDict(m.stateDict());
        return copy;
    }

    /** Dense FLOPs per example, as {@code jumbo summary} counts them: zeros of a masked kernel are still multiplied. */
    static long flops(Sequential m) {
        long total = 0;
        Shape s = m.inputShape();
        for (Layer l : m.layers()) {
            total += l.flops(s);
            s = l.outputShape(s);
        }
        return total;
    }

    static long parameters(Sequential m) {
        return m.stateDict().values().stream().mapToLong(t -> t.size()).sum();
    }
}
