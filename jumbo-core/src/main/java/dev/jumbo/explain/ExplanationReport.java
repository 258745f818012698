package dev.jumbo.explain;

import dev.jumbo.io.AtomicFiles;
import dev.jumbo.io.Json;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * One self-contained HTML page explaining a prediction: the model and the input described, the
 * model's top five outputs with their labels, then a section per explanation with its picture (a
 * {@link Heatmap} for an image, a {@link TokenStrip} for text, {@link FeatureBars} for named
 * features), a table of its figures (the completeness gap when the method has one), and at the end
 * the explanations as JSON in a {@code <script type="application/json" id="explanations">} block for
 * programs to read back.
 *
 * <p>The page loads nothing: pictures are PNGs in {@code data:} URIs, styles are inline, and a
 * Content-Security-Policy forbids anything else. Every text (title, labels, tokens, feature names)
 * is escaped, so a label spelled {@code <script>} shows as that text.
 *
 * <pre>{@code
 * ExplanationReport.builder("Why the CNN said 'ankle boot'")
 *         .model("Fashion-MNIST CNN, runs/cnn")
 *         .input("test image 0")
 *         .prediction(probabilities, labels)
 *         .image(saliency, x, 28, 28, 1)
 *         .image(ig, x, 28, 28, 1)
 *         .write(Path.of("report.html"));
 * }</pre>
 */
public final class ExplanationReport {
    private ExplanationReport() {}

    /** A report titled {@code title}, to be filled in and written. */
    public static Builder builder(String title) {
        return new Builder(Objects.requireNonNull(title, "title"));
    }

    /** One section: its explanation (null for a picture alone) and how its figure is drawn given the target's label. */
    private record Section(String heading, Explanation explanation, Function<String, String> figure) {}

    /** Collects the parts of a report; {@link #html()} or {@link #write} renders it. */
    public static final class Builder {
        private final String title;
        private String model = "", input = "";
        private float[] prediction;
        private List<String> labels;
        private final List<Section> sections = new ArrayList<>();

        private Builder(String title) {
            this.title = title;
        }

        /** What the model is (its kind, folder, size). */
        public Builder model(String description) {
            this.model = Objects.requireNonNull(description, "model description");
            return this;
        }

        /** What the input is (a file, a dataset example, the text). */
        public Builder input(String description) {
            this.input = Objects.requireNonNull(description, "input description");
            return this;
        }

        /**
         * The model's outputs for the input and a label per output; without it the first
         * explanation's prediction is shown with its outputs numbered.
         *
         * @throws IllegalArgumentException if there is not one label per output
         */
        public Builder prediction(float[] outputs, List<String> labels) {
            if (outputs.length != labels.size())
                throw new IllegalArgumentException(labels.size() + " labels for " + outputs.length + " outputs");
            this.prediction = outputs.clone();
            this.labels = List.copyOf(labels);
            return this;
        }

        /** A section with {@code e} drawn over its image (see {@link Heatmap#overlay}). */
        public Builder image(Explanation e, float[] image, int h, int w, int channels) {
            float[] pixels = image.clone();
            Heatmap.overlay(pixels, h, w, channels, e); // checks the image and the map now, not when writing
            sections.add(new Section(e.method(), e, label -> {
                BufferedImage picture = Heatmap.overlay(pixels, h, w, channels, e, label);
                return img(picture, e.method() + " heatmap for " + label);
            }));
            return this;
        }

        /**
         * A section with {@code e}'s attributions as a {@link TokenStrip}: one per token, or per
         * token and embedding dimension, summed (see {@link TokenStrip#perToken}).
         */
        public Builder tokens(Explanation e, List<String> tokens) {
            List<String> copy = List.copyOf(tokens);
            float[] perToken = TokenStrip.perToken(e, copy.size());
            TokenStrip.pieces(copy, perToken, null);
            sections.add(new Section(e.method(), e, label -> TokenStrip.html(copy, perToken, e.method() + ": " + label)));
            return this;
        }

        /** A section with {@code e}'s attributions (one per name) as {@link FeatureBars}, the largest 20. */
        public Builder features(Explanation e, List<String> names) {
            List<String> copy = List.copyOf(names);
            if (copy.size() != e.attributions().length)
                throw new IllegalArgumentException(e.method() + ": " + copy.size() + " feature names for " + e.attributions().length + " attributions");
            sections.add(new Section(e.method(), e, label -> FeatureBars.svg(copy, e.attributions(), e.method() + ": " + label, FeatureBars.DEFAULT_TOP)));
            return this;
        }

        /** A section holding only a picture (several methods side by side, say). */
        public Builder picture(String heading, BufferedImage picture) {
            Objects.requireNonNull(picture, "picture");
            sections.add(new Section(heading, null, label -> img(picture, heading)));
            return this;
        }

        /** The page. */
        public String html() {
            float[] outputs = prediction;
            List<String> names = labels;
            if (outputs == null) {
                Explanation first = sections.stream().map(Section::explanation).filter(Objects::nonNull).findFirst().orElse(null);
                outputs = first == null ? new float[0] : first.prediction();
                names = new ArrayList<>();
                for (int i = 0; i < outputs.length; i++) names.add("output " + i);
            }
            StringBuilder s = new StringBuilder(1 << 16);
            s.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                    .append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">\n")
                    .append("<title>").append(Html.escape(title)).append("</title>\n<style>\n").append(CSS).append("</style>\n</head>\n<body>\n")
                    .append("<h1>").append(Html.escape(title)).append("</h1>\n");
            s.append("<section class=\"summary\">\n<table class=\"about\">\n");
            row(s, "model", model);
            row(s, "input", input);
            s.append("</table>\n");
            if (outputs.length > 0) {
                s.append("<h2>Prediction</h2>\n<table class=\"prediction\">\n<tr><th>rank</th><th>label</th><th>index</th><th>output</th></tr>\n");
                int[] top = topByValue(outputs, 5);
                for (int r = 0; r < top.length; r++)
                    s.append("<tr><td>").append(r + 1).append("</td><td>").append(Html.escape(names.get(top[r]))).append("</td><td>")
                            .append(top[r]).append("</td><td>").append(String.format(Locale.ROOT, "%.4f", outputs[top[r]])).append("</td></tr>\n");
                s.append("</table>\n");
            }
            s.append("</section>\n");

            List<Object> json = new ArrayList<>();
            int n = 0;
            for (Section section : sections) {
                Explanation e = section.explanation();
                String label = e == null ? "" : targetLabel(e, names);
                s.append("<section class=\"explanation\" id=\"section-").append(++n).append("\">\n<h2>")
                        .append(Html.escape(e == null ? section.heading() : e.method() + ": " + label + " (output " + e.target() + ")"))
                        .append("</h2>\n<div class=\"figure\">\n").append(section.figure().apply(label)).append("</div>\n");
                if (e != null) {
                    s.append("<table class=\"details\">\n");
                    row(s, "method", e.method());
                    row(s, "target", label + " (output " + e.target() + ")");
                    row(s, "shape", e.shape().toString());
                    row(s, "sum of attributions", number(e.sum()));
                    row(s, "largest |attribution|", number(e.maxAbs()));
                    if (!Double.isNaN(e.completenessGap())) row(s, "completeness gap", number(e.completenessGap()));
                    for (Map.Entry<String, Double> d : e.details().entrySet()) row(s, d.getKey(), number(d.getValue()));
                    s.append("</table>\n");
                    json.add(toJson(e, label));
                }
                s.append("</section>\n");
            }

            Map<String, Object> all = new LinkedHashMap<>();
            all.put("title", title);
            all.put("model", model);
            all.put("input", input);
            all.put("labels", names);
            all.put("prediction", floats(outputs));
            all.put("explanations", json);
            // "<" as \u003c (a JSON escape) so no string inside can close the script element
            String text = Json.write(all, false).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026");
            s.append("<script type=\"application/json\" id=\"explanations\">").append(text).append("</script>\n</body>\n</html>\n");
            return s.toString();
        }

        /** Writes {@link #html()} to {@code file}, atomically. */
        public void write(Path file) throws IOException {
            AtomicFiles.writeString(file, html());
        }
    }

    private static final String CSS = """
            body { font-family: sans-serif; max-width: 60em; margin: 1em auto; padding: 0 1em; color: #222; }
            section { border-top: 1px solid #ccc; padding: 0.5em 0 1em; }
            table { border-collapse: collapse; margin: 0.5em 0; }
            td, th { border: 1px solid #ddd; padding: 2px 8px; text-align: left; font-size: 0.9em; }
            table.about td:first-child, table.details td:first-child { color: #555; }
            .figure img { image-rendering: pixelated; }
            """;

    static int[] topByValue(float[] outputs, int k) {
        List<Integer> idx = new ArrayList<>();
        for (int i = 0; i < outputs.length; i++) idx.add(i);
        idx.sort((a, b) -> outputs[a] != outputs[b] ? Float.compare(outputs[b], outputs[a]) : Integer.compare(a, b));
        return idx.stream().limit(k).mapToInt(Integer::intValue).toArray();
    }

    private static String targetLabel(Explanation e, List<String> labels) {
        if (labels.size() != e.prediction().length)
            throw new IllegalArgumentException(e.method() + ": " + e.prediction().length + " outputs, but the report has " + labels.size() + " labels");
        return labels.get(e.target());
    }

    private static String img(BufferedImage picture, String alt) {
        return "<img src=\"data:image/png;base64," + Base64.getEncoder().encodeToString(Heatmap.pngBytes(picture))
                + "\" width=\"" + picture.getWidth() + "\" height=\"" + picture.getHeight() + "\" alt=\"" + Html.escape(alt) + "\">\n";
    }

    private static void row(StringBuilder s, String name, String value) {
        s.append("<tr><td>").append(Html.escape(name)).append("</td><td>").append(Html.escape(value)).append("</td></tr>\n");
    }

    private static String number(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) return Long.toString((long) v); // counts (steps, samples) as counts
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.6g", v) : Double.toString(v);
    }

    private static Map<String, Object> toJson(Explanation e, String label) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("method", e.method());
        m.put("target", e.target());
        m.put("target_label", label);
        List<Integer> shape = new ArrayList<>();
        for (int d : e.shape().toArray()) shape.add(d);
        m.put("shape", shape);
        m.put("completeness_gap", finiteOrNull(e.completenessGap()));
        Map<String, Object> details = new LinkedHashMap<>();
        e.details().forEach((k, v) -> details.put(k, finiteOrNull(v)));
        m.put("details", details);
        m.put("prediction", floats(e.prediction()));
        m.put("attributions", floats(e.attributions()));
        return m;
    }

    /** JSON has no NaN or infinity: those become null. */
    private static Double finiteOrNull(Double v) {
        return v == null || !Double.isFinite(v) ? null : v;
    }

    /** Floats as the shortest decimals that read back as the same float (0.1f, not 0.10000000149011612). */
    private static List<Double> floats(float[] values) {
        List<Double> out = new ArrayList<>(values.length);
        for (float v : values) out.add(Float.isFinite(v) ? Double.parseDouble(Float.toString(v)) : null);
        return out;
    }
}
