package dev.jumbo.cli;

import dev.jumbo.explain.Explanation;
import dev.jumbo.explain.ExactShapley;
import dev.jumbo.explain.FeatureGame;
import dev.jumbo.explain.GradCam;
import dev.jumbo.explain.Gradients;
import dev.jumbo.explain.ImageGame;
import dev.jumbo.explain.InputXGradient;
import dev.jumbo.explain.IntegratedGradients;
import dev.jumbo.explain.KernelShap;
import dev.jumbo.explain.Lime;
import dev.jumbo.explain.ModelFunction;
import dev.jumbo.explain.Occlusion;
import dev.jumbo.explain.Quadrature;
import dev.jumbo.explain.Saliency;
import dev.jumbo.explain.SanityCheck;
import dev.jumbo.explain.SmoothGrad;
import dev.jumbo.explain.Superpixels;
import dev.jumbo.explain.TabularGame;
import dev.jumbo.train.Sequential;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code jumbo explain}: why a model gave its answer, by one or more attribution methods, as text, pictures, HTML and JSON. */
@Command(name = "explain", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Explain one prediction: attributions of the model's output to the parts of its input.",
                "Classifiers (a jumbo train folder): saliency, gradxinput, smoothgrad, ig, gradcam, occlusion, lime, shap, shapley.",
                "Text models (GPT-2 or BERT folders, BERT or Llama GGUF, llama2.c .bin): ig, lime, shap, attention.",
                "Example: jumbo explain --model runs/cnn --method saliency,ig,gradcam --input fashion-mnist:test:17 --out why.html"})
final class ExplainCommand implements Callable<Integer> {
    static final List<String> CLASSIFIER_METHODS = List.of("saliency", "gradxinput", "smoothgrad", "ig", "gradcam", "occlusion", "lime", "shap", "shapley");
    static final List<String> TEXT_METHODS = List.of("ig", "lime", "shap", "attention");

    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR|FILE", description = "A jumbo train folder, a GPT-2 or BERT folder, a BERT or Llama GGUF file, or a llama2.c checkpoint.")
    Path model;

    @Option(names = "--method", defaultValue = "ig", split = ",", paramLabel = "METHOD[,METHOD...]",
            description = "One or more of: saliency, gradxinput, smoothgrad, ig, gradcam, occlusion, lime, shap, shapley, attention (default: ${DEFAULT-VALUE}).")
    List<String> methods;

    @Option(names = "--input", required = true, paramLabel = "INPUT",
            description = "fashion-mnist:test:17 (DATASET:SPLIT:INDEX), an image file, FILE.csv[:ROW], comma-separated numbers, or for a text model the text.")
    String input;

    @Option(names = "--target", paramLabel = "CLASS", description = "The output to explain: a class index or label, or for a text model a token (default: the prediction).")
    String target;

    @Option(names = "--out", paramLabel = "FILE.html|FILE.png", description = "Write an HTML report (.html) or the picture (.png): heatmaps side by side, a token strip or bars.")
    Path out;

    @Option(names = "--json", description = "End with a JSON line per method: method, target, prediction, attributions (input-shaped), completeness_gap, details.")
    boolean json;

    @Option(names = "--data", paramLabel = "DIR", description = "Folder holding the dataset's files.")
    Path dataDir;

    @Option(names = "--logits", description = "Explain the logits before the model's final softmax instead of its probabilities.")
    boolean logits;

    @Option(names = "--steps", defaultValue = "50", description = "Integrated Gradients: points on the path (default: ${DEFAULT-VALUE}, Captum's).")
    int steps;

    @Option(names = "--rule", defaultValue = "gausslegendre", description = "Integrated Gradients: gausslegendre, riemann_left, riemann_right, riemann_middle, riemann_trapezoid (default: ${DEFAULT-VALUE}).")
    String rule;

    @Option(names = "--tolerance", defaultValue = "0.01",
            description = "Integrated Gradients: double the steps (up to --max-steps) until the completeness gap is at most this fraction of |f(x) - f(baseline)|; 0 keeps --steps (default: ${DEFAULT-VALUE}).")
    double tolerance;

    @Option(names = "--max-steps", defaultValue = "800", description = "Integrated Gradients: the most steps --tolerance may reach (default: ${DEFAULT-VALUE}).")
    int maxSteps;

    @Option(names = "--baseline", defaultValue = "zeros", description = "Integrated Gradients' baseline and SHAP's fill for an absent superpixel: zeros or mean (the background's mean) (default: ${DEFAULT-VALUE}).")
    String baseline;

    @Option(names = "--samples", defaultValue = "0", description = "SmoothGrad, LIME and KernelSHAP samples (0: the method's default: 50; 5000 tabular, 1000 images, 5000 text; 2M+2048).")
    int samples;

    @Option(names = "--noise", defaultValue = "0.15", description = "SmoothGrad: noise sigma as a fraction of the input's range (default: ${DEFAULT-VALUE}).")
    double noise;

    @Option(names = "--kernel-width", defaultValue = "0", description = "LIME: kernel width (0: lime's default: 0.75*sqrt(features) tabular, 0.25 images, 25 text).")
    double kernelWidth;

    @Option(names = "--segments", defaultValue = "40", description = "LIME and SHAP on images: the SLIC superpixels asked for (default: ${DEFAULT-VALUE}).")
    int segments;

    @Option(names = "--background-size", defaultValue = "100", description = "SHAP and LIME: examples taken as the background (default: ${DEFAULT-VALUE}).")
    int backgroundSize;

    @Option(names = "--layer", defaultValue = "-1", description = "Grad-CAM: the layer index (default: the last convolutional one).")
    int layer;

    @Option(names = "--window", defaultValue = "0", description = "Occlusion: the patch's side (0: the default).")
    int window;

    @Option(names = "--stride", defaultValue = "0", description = "Occlusion: the patch's step (0: the default).")
    int stride;

    @Option(names = "--sanity", description = "Also run Adebayo et al.'s sanity checks for the gradient methods: weights randomised layer by layer from the top, and a repeat.")
    boolean sanity;

    @Option(names = "--reference", paramLabel = "TEXT", description = "A BERT sentence encoder: explain the similarity of --input to this text.")
    String reference;

    @Option(names = "--position", defaultValue = "-1", description = "Attention rollout: the query token (default: the last for causal models, [CLS] for BERT).")
    int position;

    @Option(names = "--seed", defaultValue = "42", description = "Seed for sampling methods (default: ${DEFAULT-VALUE}).")
    long seed;

    @Override
    public Integer call() throws Exception {
        Main.banner(spec.commandLine().getErr());
        List<String> chosen = new ArrayList<>();
        for (String m : methods) chosen.add(m.strip().toLowerCase(Locale.ROOT));
        if (out != null && !out.toString().endsWith(".html") && !out.toString().endsWith(".png"))
            throw new IllegalArgumentException("--out " + out + ": name an .html report or a .png picture");
        if (Files.isDirectory(model) && Sequential.isModelFolder(model)) return classifier(chosen);
        return ExplainText.run(this, chosen);
    }

    private int classifier(List<String> chosen) throws Exception {
        for (String m : chosen)
            if (!CLASSIFIER_METHODS.contains(m))
                throw new IllegalArgumentException(m.equals("attention")
                        ? "attention needs a transformer (GPT-2, BERT or Llama); " + model + " is a classifier: use one of " + String.join(", ", CLASSIFIER_METHODS)
                        : "unknown method '" + m + "' for a classifier: use one of " + String.join(", ", CLASSIFIER_METHODS));
        if (reference != null || position >= 0)
            throw new IllegalArgumentException((reference != null ? "--reference" : "--position") + " is for text models; " + model + " is a classifier");
        Sequential net = Sequential.load(model);
        List<String> labels = TrainCommand.labels(model);
        ModelFunction f = ModelFunction.of(net, logits ? ModelFunction.Output.LOGITS : ModelFunction.Output.AS_IS);
        ExplainInput in = ExplainInput.read(input, net.inputShape(), dataDir, backgroundSize);
        float[] prediction = Gradients.outputs(f, in.values(), 1, 1);
        int t = target == null ? argmax(prediction) : ExplainInput.target(target, labels, f.outputs());
        PrintWriter w = spec.commandLine().getOut();
        w.println("input: " + in.description());
        w.println("prediction: " + top(prediction, labels, 3) + (logits ? " (logits)" : ""));
        w.println("explaining class " + name(t, labels));
        List<Explanation> done = new ArrayList<>();
        List<Map<String, Object>> sanityRows = new ArrayList<>();
        for (String m : chosen) {
            long start = System.nanoTime();
            Explanation e = explainClassifier(m, net, f, in, t);
            done.add(e);
            w.printf(Locale.ROOT, "%s: %s (%.2f s)%n", m, summary(e, in), (System.nanoTime() - start) / 1e9);
            if (sanity && GRADIENT_METHODS.contains(m)) sanityRows.addAll(sanity(m, net, in, t, w));
        }
        if (out != null) {
            ExplainPictures.writeClassifier(out, model.toString(), in, prediction, labels, done);
            w.println("wrote " + out);
        }
        if (json)
            for (Explanation e : done) w.println(JsonOutput.line(json(e, in.image() == null ? null : net.inputShape().toArray(), sanityRows)));
        return 0;
    }

    private static final List<String> GRADIENT_METHODS = List.of("saliency", "gradxinput", "smoothgrad", "ig");

    private Explanation explainClassifier(String m, Sequential net, ModelFunction f, ExplainInput in, int t) {
        float[] x = in.values();
        boolean image = in.image() != null;
        return switch (m) {
            case "saliency" -> Saliency.explain(f, x, t);
            case "gradxinput" -> InputXGradient.explain(f, x, t);
            case "smoothgrad" -> new SmoothGrad(samples > 0 ? samples : SmoothGrad.defaults().samples(), noise, seed).explain(f, x, t);
            case "ig" -> integratedGradients().explain(f, x, baseline(in), t);
            case "gradcam" -> GradCam.explain(net, logits ? ModelFunction.Output.LOGITS : ModelFunction.Output.AS_IS, layer, x, t);
            case "occlusion" -> {
                Occlusion d = Occlusion.defaults();
                yield new Occlusion(window > 0 ? window : d.window(), stride > 0 ? stride : d.stride(), d.fill()).explain(f, x, t);
            }
            case "lime" -> {
                if (!image) {
                    needBackground(in, "lime");
                    int features = x.length;
                    yield Lime.tabular(f, x, in.background(), t, samples > 0 ? samples : 5000,
                            kernelWidth > 0 ? kernelWidth : 0.75 * Math.sqrt(features), seed);
                }
                int[] segs = segments(in);
                ImageGame game = new ImageGame(f, x, segs, ImageGame.meanFill(x, segs, in.image().channels()), t);
                Explanation perSegment = Lime.coalitions(game, samples > 0 ? samples : 1000, kernelWidth > 0 ? kernelWidth : 0.25, 1, seed);
                yield ImageGame.spread(perSegment, segs, f.inputShape());
            }
            case "shap", "shapley" -> {
                if (!image) {
                    needBackground(in, m);
                    FeatureGame game = new TabularGame(f, x, in.background(), t);
                    yield m.equals("shap") ? KernelShap.explain(game, samples, seed) : ExactShapley.explain(game);
                }
                int[] segs = segments(in);
                ImageGame game = new ImageGame(f, x, segs, baseline(in), t);
                Explanation perSegment = m.equals("shap") ? KernelShap.explain(game, samples, seed) : ExactShapley.explain(game);
                yield ImageGame.spread(perSegment, segs, f.inputShape());
            }
            default -> throw new IllegalArgumentException("unknown method '" + m + "'");
        };
    }

    IntegratedGradients integratedGradients() {
        IntegratedGradients ig = IntegratedGradients.defaults().withSteps(steps).withRule(Quadrature.parse(rule));
        return tolerance > 0 ? ig.refinedTo(tolerance, Math.max(maxSteps, steps)) : ig;
    }

    private int[] segments(ExplainInput in) {
        var l = in.image();
        return Superpixels.slic(in.values(), l.height(), l.width(), l.channels(), segments, 0.1);
    }

    private static void needBackground(ExplainInput in, String method) {
        if (in.background().length == 0)
            throw new IllegalArgumentException(method + " on a table needs a background: give --input as a CSV file's row (FILE.csv:ROW), whose rows are the background");
    }

    /** The baseline: zeros, or the background's mean. */
    private float[] baseline(ExplainInput in) {
        float[] b = new float[in.values().length];
        switch (baseline) {
            case "zeros" -> {}
            case "mean" -> {
                if (in.background().length == 0) throw new IllegalArgumentException("--baseline mean needs a background: a dataset item or a CSV row as --input");
                for (float[] row : in.background()) for (int i = 0; i < b.length; i++) b[i] += row[i] / in.background().length;
            }
            default -> throw new IllegalArgumentException("--baseline '" + baseline + "': use zeros or mean");
        }
        return b;
    }

    private List<Map<String, Object>> sanity(String m, Sequential net, ExplainInput in, int t, PrintWriter w) {
        SanityCheck.Explainer explainer = switch (m) {
            case "saliency" -> Saliency::explain;
            case "gradxinput" -> InputXGradient::explain;
            case "smoothgrad" -> (f, x, k) -> new SmoothGrad(samples > 0 ? samples : SmoothGrad.defaults().samples(), noise, seed).explain(f, x, k);
            default -> (f, x, k) -> integratedGradients().explain(f, x, k);
        };
        List<Map<String, Object>> rows = new ArrayList<>();
        double repeat = SanityCheck.repeatability(net, explainer, in.values(), t);
        w.printf(Locale.ROOT, "  sanity (%s): explained twice, rank correlation %.4f%n", m, repeat);
        for (SanityCheck.Row r : SanityCheck.cascading(net, explainer, in.values(), t, seed)) {
            w.printf(Locale.ROOT, "  sanity (%s): weights randomised down to layer %d (%s): rank correlation %.3f of |map|, %.3f signed, %.3f of |map| where non-zero%n",
                    m, r.layer(), r.name(), r.spearmanAbs(), r.spearman(), r.spearmanAbsNonZero());
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("method", m);
            row.put("randomised_down_to_layer", r.layer());
            row.put("layer_name", r.name());
            row.put("spearman_abs", r.spearmanAbs());
            row.put("spearman", r.spearman());
            row.put("spearman_abs_nonzero", r.spearmanAbsNonZero());
            rows.add(row);
        }
        Map<String, Object> rep = new LinkedHashMap<>();
        rep.put("method", m);
        rep.put("repeat_spearman", repeat);
        rows.add(rep);
        return rows;
    }

    /** One explanation as the JSON line the issue names, attributions nested in the input's shape. */
    static Map<String, Object> json(Explanation e, int[] shape, List<Map<String, Object>> sanity) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("method", e.method());
        o.put("target", e.target());
        o.put("prediction", e.prediction());
        o.put("attributions", nested(e.attributions(), e.shape().toArray(), 0, 0));
        o.put("shape", e.shape().toArray());
        if (!Double.isNaN(e.completenessGap())) o.put("completeness_gap", e.completenessGap());
        o.put("details", e.details());
        if (sanity != null && !sanity.isEmpty()) o.put("sanity", sanity.stream().filter(r -> e.method().equals(r.get("method"))).toList());
        return o;
    }

    private static Object nested(float[] values, int[] dims, int axis, int offset) {
        if (axis == dims.length - 1) return Arrays.copyOfRange(values, offset, offset + dims[axis]);
        int inner = 1;
        for (int i = axis + 1; i < dims.length; i++) inner *= dims[i];
        List<Object> out = new ArrayList<>();
        for (int i = 0; i < dims[axis]; i++) out.add(nested(values, dims, axis + 1, offset + i * inner));
        return out;
    }

    private static String summary(Explanation e, ExplainInput in) {
        StringBuilder s = new StringBuilder();
        s.append(String.format(Locale.ROOT, "sum %.4g, max |a| %.4g", e.sum(), e.maxAbs()));
        if (!Double.isNaN(e.completenessGap())) s.append(String.format(Locale.ROOT, ", completeness gap %.3g", e.completenessGap()));
        e.details().forEach((k, v) -> s.append(", ").append(k).append(' ').append(figure(v)));
        if (!in.featureNames().isEmpty() && e.attributions().length == in.featureNames().size()) {
            Integer[] order = new Integer[e.attributions().length];
            for (int i = 0; i < order.length; i++) order[i] = i;
            Arrays.sort(order, (a, b) -> Float.compare(Math.abs(e.attributions()[b]), Math.abs(e.attributions()[a])));
            s.append("; top:");
            for (int i = 0; i < Math.min(5, order.length); i++)
                s.append(String.format(Locale.ROOT, " %s %+.4g", in.featureNames().get(order[i]), e.attributions()[order[i]]));
        }
        return s.toString();
    }

    /** A detail's value: whole numbers (steps, samples, layers) as such, others to four significant digits. */
    static String figure(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e9 ? String.valueOf((long) v) : String.format(Locale.ROOT, "%.4g", v);
    }

    /** A line under a picture: the figure that says how far to trust it. */
    static String caption(Explanation e) {
        Map<String, Double> d = e.details();
        if (e.method().equals("ig") && d.containsKey("output"))
            return String.format(Locale.ROOT, "ig, %s steps: gap %.2g%% of f(x)-f(b)", figure(d.get("steps")), 100 * IntegratedGradients.relativeGap(e));
        if (d.containsKey("r2")) return String.format(Locale.ROOT, "%s: R\u00b2 %.3f", e.method(), d.get("r2"));
        if (e.method().equals("gradcam")) return "gradcam: layer " + figure(d.get("layer")) + ", " + figure(d.get("map_height")) + "x" + figure(d.get("map_width"));
        if (d.containsKey("samples")) return e.method() + ", " + figure(d.get("samples")) + " samples";
        return e.method();
    }

    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    static String name(int k, List<String> labels) {
        return k < labels.size() ? k + " (" + labels.get(k) + ")" : String.valueOf(k);
    }

    static String top(float[] p, List<String> labels, int n) {
        Integer[] order = new Integer[p.length];
        for (int i = 0; i < p.length; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> Float.compare(p[b], p[a]));
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < Math.min(n, p.length); i++)
            s.append(i == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%s %.4f", name(order[i], labels), p[order[i]]));
        return s.toString();
    }
}
