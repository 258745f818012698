package dev.jumbo.explain;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * Attributions of named features (a tabular model's columns, LIME's or SHAP's groups) as horizontal
 * bars in inline SVG: the largest by absolute value first, red for positive, blue for negative,
 * each labelled with its name and value, drawn from a zero line (in the middle when some are
 * negative and some positive).
 *
 * <pre>{@code
 * String svg = FeatureBars.svg(List.of("age", "income"), e.attributions(), "kernelshap: approved", 20);
 * }</pre>
 */
public final class FeatureBars {
    /** How many bars a report shows. */
    public static final int DEFAULT_TOP = 20;
    static final int WIDTH = 640, NAME_WIDTH = 190, VALUE_WIDTH = 70, ROW = 20, BAR = 14, TOP = 28, NAME_CHARS = 28;

    private FeatureBars() {}

    /** The indices of the {@code top} largest values by absolute value, largest first (ties by index). */
    static int[] order(float[] values, int top) {
        List<Integer> idx = new ArrayList<>(values.length);
        for (int i = 0; i < values.length; i++) idx.add(i);
        idx.sort(Comparator.comparingDouble((Integer i) -> -Math.abs(values[i])).thenComparingInt(i -> i));
        return idx.stream().limit(Math.max(0, top)).mapToInt(Integer::intValue).toArray();
    }

    /**
     * The chart as one {@code <svg>} element, {@value #WIDTH} pixels wide; names are escaped (a long
     * one is cut, its whole spelling in the bar's tooltip).
     *
     * @throws IllegalArgumentException if there is not one finite value per name or {@code top < 1}
     */
    public static String svg(List<String> names, float[] values, String title, int top) {
        if (names.size() != values.length) throw new IllegalArgumentException(names.size() + " feature names for " + values.length + " values");
        if (top < 1) throw new IllegalArgumentException("top " + top + " shows no bar");
        for (int i = 0; i < values.length; i++)
            if (!Float.isFinite(values[i])) throw new IllegalArgumentException("value of feature " + i + " (" + names.get(i) + ") is " + values[i]);
        int[] shown = order(values, top);
        float end = TokenStrip.maxAbs(values);
        boolean negatives = false, positives = false;
        for (int i : shown) {
            negatives |= values[i] < 0;
            positives |= values[i] > 0;
        }
        int plot = WIDTH - NAME_WIDTH - 2 * VALUE_WIDTH;
        // the zero line: left when nothing is negative, right when nothing is positive, else the middle
        int zero = NAME_WIDTH + VALUE_WIDTH + (negatives && positives ? plot / 2 : negatives ? plot : 0);
        double half = negatives && positives ? plot / 2.0 : plot;
        int height = TOP + shown.length * ROW + (shown.length < values.length ? ROW : 0) + 6;

        StringBuilder s = new StringBuilder();
        s.append("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"feature-bars\" width=\"").append(WIDTH)
                .append("\" height=\"").append(height).append("\" viewBox=\"0 0 ").append(WIDTH).append(' ').append(height)
                .append("\" font-family=\"sans-serif\" font-size=\"12\">\n");
        s.append("<text x=\"4\" y=\"16\" font-weight=\"bold\">").append(Html.escape(title)).append("</text>\n");
        for (int row = 0; row < shown.length; row++) {
            int i = shown[row];
            float v = values[i];
            int y = TOP + row * ROW;
            double length = end == 0 ? 0 : Math.abs(v) / end * half;
            double x = v < 0 ? zero - length : zero;
            String name = names.get(i);
            String cut = name.length() > NAME_CHARS ? name.substring(0, NAME_CHARS - 1) + "\u2026" : name;
            String value = String.format(Locale.ROOT, "%.4g", v);
            s.append("<g class=\"bar\"><title>").append(Html.escape(name + " = " + value)).append("</title>");
            s.append("<text x=\"").append(NAME_WIDTH - 6).append("\" y=\"").append(y + BAR - 3)
                    .append("\" text-anchor=\"end\">").append(Html.escape(cut)).append("</text>");
            s.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>",
                    x, y, length, BAR, ColourScale.DIVERGING.css(v < 0 ? -1 : 1)));
            double labelX = v < 0 ? x - 4 : x + length + 4;
            s.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"%s\">%s</text></g>\n",
                    labelX, y + BAR - 3, v < 0 ? "end" : "start", Html.escape(value)));
        }
        s.append("<line x1=\"").append(zero).append("\" y1=\"").append(TOP - 4).append("\" x2=\"").append(zero)
                .append("\" y2=\"").append(TOP + shown.length * ROW).append("\" stroke=\"#333\"/>\n");
        if (shown.length < values.length)
            s.append("<text x=\"4\" y=\"").append(TOP + shown.length * ROW + BAR).append("\" fill=\"#555\">and ")
                    .append(values.length - shown.length).append(" more features, none larger</text>\n");
        return s.append("</svg>\n").toString();
    }
}
