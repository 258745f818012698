package dev.jumbo.cli;

import dev.jumbo.io.AtomicFiles;
import dev.jumbo.train.History;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.IntStream;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;

/** PNG charts of a training run, drawn with XChart. */
final class Charts {
    private Charts() {}

    /** Loss (left) and accuracy (right) per epoch, training and validation, side by side in one PNG. */
    static void trainingCurves(History h, Path png, String title) throws IOException {
        XYChart loss = chart(h, title + ": loss", "loss", "val_loss");
        XYChart acc = chart(h, title + ": accuracy", "accuracy", "val_accuracy");
        java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(1200, 450, java.awt.image.BufferedImage.TYPE_INT_RGB);
        java.awt.Graphics2D g = img.createGraphics();
        g.setRenderingHint(java.awt.RenderingHints.KEY_ANTIALIASING, java.awt.RenderingHints.VALUE_ANTIALIAS_ON);
        loss.paint(g, 600, 450);
        g.translate(600, 0);
        acc.paint(g, 600, 450);
        g.dispose();
        AtomicFiles.write(png, os -> javax.imageio.ImageIO.write(img, "png", os));
    }

    /** FLOPs per example (left) and parameters (right) of each layer, as bars, in one PNG. */
    static void layerCosts(dev.jumbo.train.Sequential m, Path png, String title) throws IOException {
        List<String> names = new java.util.ArrayList<>();
        List<Double> flops = new java.util.ArrayList<>(), params = new java.util.ArrayList<>();
        dev.jumbo.tensor.Shape s = m.inputShape();
        for (int i = 0; i < m.layers().size(); i++) {
            dev.jumbo.nn.Layer l = m.layers().get(i);
            names.add(i + " " + l.config().get("type"));
            flops.add((double) l.flops(s));
            params.add((double) l.stateDict().values().stream().mapToLong(t -> t.size()).sum());
            s = l.outputShape(s);
        }
        java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(1200, 450, java.awt.image.BufferedImage.TYPE_INT_RGB);
        java.awt.Graphics2D g = img.createGraphics();
        g.setRenderingHint(java.awt.RenderingHints.KEY_ANTIALIASING, java.awt.RenderingHints.VALUE_ANTIALIAS_ON);
        bars(title + ": FLOPs per example", "FLOPs", names, flops).paint(g, 600, 450);
        g.translate(600, 0);
        bars(title + ": parameters", "parameters", names, params).paint(g, 600, 450);
        g.dispose();
        AtomicFiles.write(png, os -> javax.imageio.ImageIO.write(img, "png", os));
    }

    private static org.knowm.xchart.CategoryChart bars(String title, String y, List<String> names, List<Double> values) {
        org.knowm.xchart.CategoryChart c = new org.knowm.xchart.CategoryChartBuilder().width(600).height(450).title(title).xAxisTitle("layer").yAxisTitle(y).build();
        c.getStyler().setLegendVisible(false);
        c.getStyler().setXAxisLabelRotation(45);
        c.addSeries(y, names, values);
        return c;
    }

    private static XYChart chart(History h, String title, String... series) {
        XYChart c = new XYChartBuilder().width(600).height(450).title(title).xAxisTitle("epoch").yAxisTitle(series[0]).build();
        c.getStyler().setMarkerSize(6);
        for (String s : series) {
            List<Double> v = h.get(s);
            if (v.isEmpty()) continue;
            double[] x = IntStream.rangeClosed(1, v.size()).asDoubleStream().toArray();
            XYSeries xy = c.addSeries(s.startsWith("val_") ? "validation" : "training", x, v.stream().mapToDouble(Double::doubleValue).toArray());
            xy.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        }
        return c;
    }
}
