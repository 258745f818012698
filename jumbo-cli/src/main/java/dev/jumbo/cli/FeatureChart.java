package dev.jumbo.cli;

import dev.jumbo.explain.ColourScale;
import dev.jumbo.io.AtomicFiles;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;

/**
 * Attributions of named features as a bar chart in a PNG, drawn with XChart: the largest 20 by
 * absolute value, left to right from the largest, red bars for those that raise the output and
 * blue for those that lower it (the colours of {@link ColourScale#DIVERGING}'s ends). XChart 3.8
 * draws bars upright only, so names run along the bottom; the HTML report's bars
 * ({@link dev.jumbo.explain.FeatureBars}) lie flat.
 */
final class FeatureChart {
    static final int WIDTH = 900, HEIGHT = 500, TOP = 20, NAME_CHARS = 24;

    private FeatureChart() {}

    /**
     * Writes the chart to {@code png}, atomically.
     *
     * @throws IllegalArgumentException if there is not one finite value per name, or none
     */
    static void png(List<String> names, float[] values, String title, Path png) throws IOException {
        BufferedImage img = image(names, values, title);
        AtomicFiles.write(png, os -> javax.imageio.ImageIO.write(img, "png", os));
    }

    static BufferedImage image(List<String> names, float[] values, String title) {
        if (names.size() != values.length) throw new IllegalArgumentException(names.size() + " feature names for " + values.length + " values");
        if (values.length == 0) throw new IllegalArgumentException("no features to chart");
        for (int i = 0; i < values.length; i++)
            if (!Float.isFinite(values[i])) throw new IllegalArgumentException("value of feature " + i + " (" + names.get(i) + ") is " + values[i]);
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < values.length; i++) order.add(i);
        order.sort(Comparator.comparingDouble((Integer i) -> -Math.abs(values[i])).thenComparingInt(i -> i));
        List<Integer> shown = order.subList(0, Math.min(TOP, order.size()));

        // XChart keys bars by category, so names are made unique; two series (one per sign) give two colours
        List<String> categories = new ArrayList<>();
        List<Double> up = new ArrayList<>(), down = new ArrayList<>();
        for (int i : shown) {
            String name = names.get(i).length() > NAME_CHARS ? names.get(i).substring(0, NAME_CHARS - 1) + "\u2026" : names.get(i);
            while (categories.contains(name)) name = name + "\u200B";
            categories.add(name);
            up.add(values[i] > 0 ? (double) values[i] : 0.0);
            down.add(values[i] < 0 ? (double) values[i] : 0.0);
        }
        String subtitle = shown.size() < values.length ? " (largest " + shown.size() + " of " + values.length + ")" : "";
        CategoryChart c = new CategoryChartBuilder().width(WIDTH).height(HEIGHT).title(title + subtitle)
                .xAxisTitle("feature").yAxisTitle("attribution").build();
        c.getStyler().setOverlapped(true);
        c.getStyler().setXAxisLabelRotation(45);
        c.getStyler().setChartBackgroundColor(Color.WHITE);
        c.getStyler().setSeriesColors(new Color[] {new Color(ColourScale.DIVERGING.rgb(1)), new Color(ColourScale.DIVERGING.rgb(-1))});
        c.addSeries("raises the output", categories, up);
        c.addSeries("lowers the output", categories, down);

        BufferedImage img = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        c.paint(g, WIDTH, HEIGHT);
        g.dispose();
        return img;
    }
}
