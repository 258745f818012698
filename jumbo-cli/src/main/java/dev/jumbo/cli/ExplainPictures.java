package dev.jumbo.cli;

import dev.jumbo.explain.ExplanationReport;
import dev.jumbo.explain.Explanation;
import dev.jumbo.explain.Heatmap;
import dev.jumbo.explain.TokenStrip;
import dev.jumbo.text.Tokenizer;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.List;

/**
 * What {@code jumbo explain --out} writes: an HTML report ({@code .html}) with a section per method,
 * or one PNG ({@code .png}): an image's heatmaps side by side, a text's token strips one above the
 * other, a table's bars (one chart per method: {@code FILE.png} for the first, {@code FILE-METHOD.png}
 * for the others).
 */
final class ExplainPictures {
    private ExplainPictures() {}

    static void writeClassifier(Path out, String model, ExplainInput in, float[] prediction, List<String> labels,
                                List<Explanation> done) throws IOException {
        List<String> names = labelsFor(prediction.length, labels);
        boolean image = in.image() != null;
        var l = in.image();
        if (out.toString().endsWith(".png")) {
            if (image) {
                List<BufferedImage> pictures = new ArrayList<>();
                List<String> titles = new ArrayList<>();
                for (Explanation e : done) {
                    pictures.add(Heatmap.overlay(in.values(), l.height(), l.width(), l.channels(), e, names.get(e.target())));
                    titles.add(ExplainCommand.caption(e));
                }
                Heatmap.writePng(pictures.size() == 1 ? pictures.getFirst() : Heatmap.sideBySide(pictures, titles), out);
            } else {
                for (int i = 0; i < done.size(); i++) {
                    Explanation e = done.get(i);
                    FeatureChart.png(in.featureNames(), e.attributions(), e.method() + ": class " + names.get(e.target()), i == 0 ? out : sibling(out, e.method()));
                }
            }
            return;
        }
        ExplanationReport.Builder report = ExplanationReport.builder("Why " + model + " said " + names.get(ExplainCommand.argmax(prediction)))
                .model(model).input(in.description()).prediction(prediction, names);
        for (Explanation e : done) {
            if (image) report.image(e, in.values(), l.height(), l.width(), l.channels());
            else report.features(e, in.featureNames());
        }
        report.write(out);
    }

    static void writeText(Path out, String model, String input, List<String> tokens, float[] outputs, List<Explanation> done,
                          Tokenizer tokenizer) throws IOException {
        List<String> names = outputs.length == 1 ? List.of("similarity") : vocabulary(tokenizer, outputs.length);
        if (out.toString().endsWith(".png")) {
            List<BufferedImage> strips = new ArrayList<>();
            for (Explanation e : done)
                strips.add(TokenStrip.picture(tokens, e.attributions(), e.method() + ": " + names.get(e.target())));
            Heatmap.writePng(stacked(strips), out);
            return;
        }
        ExplanationReport.Builder report = ExplanationReport.builder("Why " + model + " said " + names.get(done.getFirst().target()))
                .model(model).input(input).prediction(outputs, names);
        for (Explanation e : done) report.tokens(e, tokens);
        report.write(out);
    }

    /** The token of each id, decoded when asked for (a vocabulary of 50,257 is read for the five best). */
    private static List<String> vocabulary(Tokenizer tokenizer, int size) {
        return new AbstractList<>() {
            @Override
            public String get(int i) {
                return tokenizer.decode(new int[] {i});
            }

            @Override
            public int size() {
                return size;
            }
        };
    }

    private static List<String> labelsFor(int outputs, List<String> labels) {
        if (labels.size() == outputs) return labels;
        List<String> names = new ArrayList<>();
        for (int i = 0; i < outputs; i++) names.add(String.valueOf(i));
        return names;
    }

    private static Path sibling(Path out, String method) {
        String name = out.getFileName().toString();
        return out.resolveSibling(name.substring(0, name.length() - 4) + "-" + method + ".png");
    }

    private static BufferedImage stacked(List<BufferedImage> parts) {
        if (parts.size() == 1) return parts.getFirst();
        int w = 0, h = 0;
        for (BufferedImage p : parts) {
            w = Math.max(w, p.getWidth());
            h += p.getHeight();
        }
        BufferedImage all = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = all.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        int y = 0;
        for (BufferedImage p : parts) {
            g.drawImage(p, 0, y, null);
            y += p.getHeight();
        }
        g.dispose();
        return all;
    }
}
