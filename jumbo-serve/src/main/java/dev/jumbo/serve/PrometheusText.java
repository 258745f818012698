package dev.jumbo.serve;

/**
 * Writes Prometheus's text exposition format, version 0.0.4: per metric family a {@code # HELP}
 * and a {@code # TYPE} line, then one line per sample, {@code name{label="value",...} number}.
 * Label values escape backslash, double quote and newline; help texts backslash and newline.
 *
 * <pre>{@code
 * String text = new PrometheusText()
 *         .family("jumbo_generated_tokens_total", "counter", "Tokens generated.")
 *         .sample("jumbo_generated_tokens_total", 42, "model", "stories260K")
 *         .text();
 * // # HELP jumbo_generated_tokens_total Tokens generated.
 * // # TYPE jumbo_generated_tokens_total counter
 * // jumbo_generated_tokens_total{model="stories260K"} 42
 * }</pre>
 *
 * @see <a href="https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format">the text format</a>
 */
final class PrometheusText {
    /** The {@code Content-Type} of a scrape's answer. */
    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final StringBuilder out = new StringBuilder();

    /** Starts a family: {@code type} is counter, gauge or histogram. */
    PrometheusText family(String name, String type, String help) {
        out.append("# HELP ").append(name).append(' ').append(escapeHelp(help)).append('\n');
        out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
        return this;
    }

    /** One sample; {@code labels} are names and values in turn. */
    PrometheusText sample(String name, double value, String... labels) {
        out.append(name);
        if (labels.length > 0) {
            if (labels.length % 2 != 0) throw new IllegalArgumentException("labels are name, value pairs; got " + labels.length + " strings");
            out.append('{');
            for (int i = 0; i < labels.length; i += 2) {
                if (i > 0) out.append(',');
                out.append(labels[i]).append("=\"").append(escapeLabel(labels[i + 1])).append('"');
            }
            out.append('}');
        }
        out.append(' ').append(number(value)).append('\n');
        return this;
    }

    /** A histogram's samples: {@code name_bucket} per bound (cumulative) and +Inf, {@code name_sum}, {@code name_count}. */
    PrometheusText histogram(String name, Histogram histogram, String... labels) {
        double[] bounds = histogram.bounds();
        long[] counts = histogram.cumulativeCounts(); // read once: the +Inf bucket and _count agree
        String[] withLe = java.util.Arrays.copyOf(labels, labels.length + 2);
        withLe[labels.length] = "le";
        for (int i = 0; i < counts.length; i++) {
            withLe[labels.length + 1] = i < bounds.length ? number(bounds[i]) : "+Inf";
            sample(name + "_bucket", counts[i], withLe);
        }
        sample(name + "_sum", histogram.sum(), labels);
        return sample(name + "_count", counts[counts.length - 1], labels);
    }

    /** What was written. */
    String text() {
        return out.toString();
    }

    static String escapeLabel(String value) {
        return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }

    static String escapeHelp(String help) {
        return help.replace("\\", "\\\\").replace("\n", "\\n");
    }

    /** A sample value as Prometheus reads it: whole numbers without a fraction, {@code +Inf}, {@code -Inf}, {@code NaN}. */
    static String number(double value) {
        if (Double.isNaN(value)) return "NaN";
        if (Double.isInfinite(value)) return value > 0 ? "+Inf" : "-Inf";
        if (value == Math.rint(value) && Math.abs(value) < 1e15) return Long.toString((long) value);
        return Double.toString(value);
    }
}
