package dev.jumbo.cli;

import dev.jumbo.data.TensorDataset;
import dev.jumbo.explain.Explanation;
import dev.jumbo.explain.GradCam;
import dev.jumbo.explain.Gradients;
import dev.jumbo.explain.ImageGame;
import dev.jumbo.explain.InputXGradient;
import dev.jumbo.explain.IntegratedGradients;
import dev.jumbo.explain.KernelShap;
import dev.jumbo.explain.Lime;
import dev.jumbo.explain.ModelFunction;
import dev.jumbo.explain.Occlusion;
import dev.jumbo.explain.Saliency;
import dev.jumbo.explain.SanityCheck;
import dev.jumbo.explain.SmoothGrad;
import dev.jumbo.explain.Superpixels;
import dev.jumbo.data.ImageFile;
import dev.jumbo.train.Sequential;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.function.BiFunction;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code jumbo bench explain}: how well and how fast the explainers do on an image classifier, over
 * the first test images: Integrated Gradients' completeness at Captum's 50 steps and with
 * refinement to 1%, the Adebayo sanity check's rank correlations once every layer is random, and
 * the median seconds per explanation of each method.
 */
@Command(name = "explain", mixinStandardHelpOptions = true,
        description = {"Explainers on an image classifier over the first test images: IG's completeness gap at 50 steps and refined, "
                + "the sanity check's correlations with every layer randomised, median seconds per explanation of each method.",
                "Example: jumbo bench explain --model runs/cnn fashion-mnist --count 200 --json"})
final class ExplainBench implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "A jumbo train folder of an image classifier.")
    Path model;

    @Parameters(index = "0", paramLabel = "DATASET", description = "fashion-mnist or mnist (its test split).")
    String dataset;

    @Option(names = "--data", paramLabel = "DIR", description = "Folder holding the dataset's files.")
    Path dataDir;

    @Option(names = "--count", defaultValue = "200", description = "Test images for IG's completeness (default: ${DEFAULT-VALUE}).")
    int count;

    @Option(names = "--timed", defaultValue = "20", description = "Test images each method is timed and sanity-checked on, after 3 of warm-up (default: ${DEFAULT-VALUE}).")
    int timed;

    @Option(names = "--json", description = "Print the figures as one JSON object on the last line.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        Main.banner(spec.commandLine().getErr());
        PrintWriter out = spec.commandLine().getOut();
        Sequential net = Sequential.load(model);
        ImageFile.Layout layout = ImageFile.layout(net.inputShape());
        if (layout == null) throw new IllegalArgumentException("bench explain needs an image classifier; " + model + " takes " + net.inputShape());
        TensorDataset test = DataOptions.of(dataset, dataDir).load().test();
        int n = Math.min(count, test.size()), size = net.inputShape().size();
        float[] all = test.x().slice(0, 0, Math.min(test.size(), Math.max(n, timed + 3))).toFloatArray();
        Map<String, Object> result = new LinkedHashMap<>();

        List<Map<String, Object>> ig = new ArrayList<>();
        for (ModelFunction.Output output : ModelFunction.Output.values()) {
            ModelFunction f = ModelFunction.of(net, output);
            double[] gap50 = new double[n];
            int within50 = 0, withinRefined = 0;
            Map<Integer, Integer> steps = new TreeMap<>();
            for (int i = 0; i < n; i++) {
                float[] x = Arrays.copyOfRange(all, i * size, (i + 1) * size);
                int t = ExplainCommand.argmax(Gradients.outputs(f, x, 1, 1));
                gap50[i] = IntegratedGradients.relativeGap(IntegratedGradients.defaults().explain(f, x, t));
                if (gap50[i] <= 0.01) within50++;
                Explanation refined = IntegratedGradients.defaults().refinedTo(0.01, 800).explain(f, x, t);
                if (IntegratedGradients.relativeGap(refined) <= 0.01) withinRefined++;
                steps.merge(refined.details().get("steps").intValue(), 1, Integer::sum);
            }
            Arrays.sort(gap50);
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("output", output.name().toLowerCase(Locale.ROOT));
            row.put("images", n);
            row.put("within_1pct_at_50_steps", within50);
            row.put("median_relative_gap_at_50_steps", gap50[n / 2]);
            row.put("p90_relative_gap_at_50_steps", gap50[(int) (n * 0.9)]);
            row.put("max_relative_gap_at_50_steps", gap50[n - 1]);
            row.put("within_1pct_refined", withinRefined);
            row.put("refined_steps", steps);
            ig.add(row);
            out.printf(Locale.ROOT, "IG on %s, %d images: %d within 1%% at 50 Gauss-Legendre steps (relative gap median %.4f, p90 %.4f, max %.4f); "
                            + "refined to 1%%: %d within, steps %s%n", row.get("output"), n, within50, gap50[n / 2], gap50[(int) (n * 0.9)], gap50[n - 1],
                    withinRefined, steps);
        }
        result.put("integrated_gradients", ig);

        ModelFunction f = ModelFunction.of(net, ModelFunction.Output.AS_IS);
        Map<String, BiFunction<float[], Integer, Explanation>> methods = new LinkedHashMap<>();
        methods.put("saliency", (x, t) -> Saliency.explain(f, x, t));
        methods.put("gradxinput", (x, t) -> InputXGradient.explain(f, x, t));
        methods.put("smoothgrad", (x, t) -> SmoothGrad.defaults().explain(f, x, t));
        methods.put("ig", (x, t) -> IntegratedGradients.defaults().refinedTo(0.01, 800).explain(f, x, t));
        methods.put("gradcam", (x, t) -> GradCam.explain(net, ModelFunction.Output.AS_IS, -1, x, t));
        methods.put("occlusion", (x, t) -> Occlusion.defaults().explain(f, x, t));
        methods.put("lime", (x, t) -> {
            int[] segs = Superpixels.slic(x, layout.height(), layout.width(), layout.channels(), 40, 0.1);
            return Lime.coalitions(new ImageGame(f, x, segs, ImageGame.meanFill(x, segs, layout.channels()), t), Lime.IMAGE, 42);
        });
        methods.put("shap", (x, t) -> {
            int[] segs = Superpixels.slic(x, layout.height(), layout.width(), layout.channels(), 40, 0.1);
            return KernelShap.explain(new ImageGame(f, x, segs, new float[x.length], t), 0, 42);
        });
        List<Map<String, Object>> times = new ArrayList<>();
        for (var m : methods.entrySet()) {
            double[] seconds = new double[timed];
            for (int i = 0; i < timed + 3; i++) {
                float[] x = Arrays.copyOfRange(all, i * size, (i + 1) * size);
                int t = ExplainCommand.argmax(Gradients.outputs(f, x, 1, 1));
                long start = System.nanoTime();
                m.getValue().apply(x, t);
                if (i >= 3) seconds[i - 3] = (System.nanoTime() - start) / 1e9;
            }
            Arrays.sort(seconds);
            times.add(Map.of("method", m.getKey(), "median_seconds", seconds[timed / 2]));
            out.printf(Locale.ROOT, "%-10s median %.4f s per explanation (%d images)%n", m.getKey(), seconds[timed / 2], timed);
        }
        result.put("seconds", times);

        List<Map<String, Object>> sanity = new ArrayList<>();
        Map<String, SanityCheck.Explainer> checked = new LinkedHashMap<>();
        checked.put("saliency", Saliency::explain);
        checked.put("gradxinput", InputXGradient::explain);
        checked.put("ig", (g, x, t) -> IntegratedGradients.defaults().explain(g, x, t));
        for (var m : checked.entrySet()) {
            double[] abs = new double[timed], signed = new double[timed], nonZero = new double[timed];
            double repeat = 1;
            for (int i = 0; i < timed; i++) {
                float[] x = Arrays.copyOfRange(all, i * size, (i + 1) * size);
                int t = ExplainCommand.argmax(Gradients.outputs(f, x, 1, 1));
                List<SanityCheck.Row> rows = SanityCheck.cascading(net, m.getValue(), x, t, 42 + i);
                SanityCheck.Row last = rows.getLast();
                repeat = Math.min(repeat, SanityCheck.repeatability(net, m.getValue(), x, t));
                abs[i] = last.spearmanAbs();
                signed[i] = last.spearman();
                nonZero[i] = last.spearmanAbsNonZero();
            }
            Arrays.sort(abs);
            Arrays.sort(signed);
            Arrays.sort(nonZero);
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("method", m.getKey());
            row.put("median_spearman_abs", abs[timed / 2]);
            row.put("median_spearman", signed[timed / 2]);
            row.put("median_spearman_abs_nonzero", nonZero[timed / 2]);
            row.put("lowest_repeat_spearman", repeat);
            sanity.add(row);
            out.printf(Locale.ROOT, "sanity %-10s every layer randomised, median rank correlation with the trained model's map over %d images: "
                    + "%.3f of |map|, %.3f signed, %.3f of |map| where non-zero (explained twice: at least %.3f)%n", m.getKey(), timed, abs[timed / 2], signed[timed / 2],
                    nonZero[timed / 2], repeat);
        }
        result.put("sanity", sanity);
        if (json) out.println(JsonOutput.line(result));
        return 0;
    }
}
