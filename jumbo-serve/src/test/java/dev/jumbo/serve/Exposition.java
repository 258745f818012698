package dev.jumbo.serve;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A scrape of {@code GET /metrics} parsed as Prometheus reads the text format 0.0.4: each sample's
 * value by series (metric name and labels), and each family's type. Parsing fails on a line a
 * scraper would reject: a sample before its family's {@code # TYPE}, a malformed label, a bad number.
 */
record Exposition(Map<Series, Double> samples, Map<String, String> types) {
    /** A metric name and its labels (sorted by name, so that the order they were written in does not matter). */
    record Series(String name, SortedMap<String, String> labels) {
        static Series of(String name, String... labels) {
            SortedMap<String, String> map = new TreeMap<>();
            for (int i = 0; i < labels.length; i += 2) map.put(labels[i], labels[i + 1]);
            return new Series(name, map);
        }
    }

    static Exposition parse(String text) {
        Map<Series, Double> samples = new HashMap<>();
        Map<String, String> types = new HashMap<>();
        for (String line : text.split("\n", -1)) {
            if (line.isEmpty()) continue;
            if (line.startsWith("# TYPE ")) {
                String[] parts = line.split(" ");
                if (parts.length != 4 || !List.of("counter", "gauge", "histogram", "summary", "untyped").contains(parts[3]))
                    throw new AssertionError("bad TYPE line: " + line);
                if (types.put(parts[2], parts[3]) != null) throw new AssertionError("two TYPE lines for " + parts[2]);
                continue;
            }
            if (line.startsWith("#")) continue; // HELP and comments
            Series series = parseSeries(line);
            String value = line.substring(line.lastIndexOf(' ') + 1);
            if (!types.containsKey(family(series.name(), types))) throw new AssertionError("a sample before its family's TYPE: " + line);
            if (samples.put(series, number(value)) != null) throw new AssertionError("the same series twice: " + line);
        }
        return new Exposition(samples, types);
    }

    /** The value of a series, 0 when the scrape has none (a counter not yet incremented is not written). */
    double value(String name, String... labels) {
        return samples.getOrDefault(Series.of(name, labels), 0.0);
    }

    /** Every series of metric {@code name}. */
    List<Series> series(String name) {
        List<Series> found = new ArrayList<>();
        for (Series s : samples.keySet()) if (s.name().equals(name)) found.add(s);
        return found;
    }

    /** The family a sample belongs to: a histogram's {@code _bucket}, {@code _sum} and {@code _count} are its own. */
    private static String family(String sample, Map<String, String> types) {
        for (String suffix : new String[] {"_bucket", "_sum", "_count"})
            if (sample.endsWith(suffix) && "histogram".equals(types.get(sample.substring(0, sample.length() - suffix.length()))))
                return sample.substring(0, sample.length() - suffix.length());
        return sample;
    }

    private static Series parseSeries(String line) {
        int i = 0;
        while (i < line.length() && (Character.isLetterOrDigit(line.charAt(i)) || line.charAt(i) == '_' || line.charAt(i) == ':')) i++;
        String name = line.substring(0, i);
        if (name.isEmpty() || Character.isDigit(name.charAt(0))) throw new AssertionError("bad metric name: " + line);
        SortedMap<String, String> labels = new TreeMap<>();
        if (i < line.length() && line.charAt(i) == '{') {
            i++;
            while (line.charAt(i) != '}') {
                int eq = line.indexOf("=\"", i);
                if (eq < 0) throw new AssertionError("bad label: " + line);
                String label = line.substring(i, eq);
                if (!label.matches("[a-zA-Z_][a-zA-Z0-9_]*")) throw new AssertionError("bad label name '" + label + "': " + line);
                StringBuilder value = new StringBuilder();
                for (i = eq + 2; line.charAt(i) != '"'; i++) {
                    char c = line.charAt(i);
                    if (c == '\\') {
                        char next = line.charAt(++i);
                        value.append(switch (next) {
                            case 'n' -> '\n';
                            case '\\', '"' -> next;
                            default -> throw new AssertionError("bad escape \\" + next + ": " + line);
                        });
                    } else {
                        value.append(c);
                    }
                }
                if (labels.put(label, value.toString()) != null) throw new AssertionError("label " + label + " twice: " + line);
                i++; // the closing quote
                if (line.charAt(i) == ',') i++;
                else if (line.charAt(i) != '}') throw new AssertionError("bad label list: " + line);
            }
            i++;
        }
        if (i >= line.length() || line.charAt(i) != ' ') throw new AssertionError("no value: " + line);
        if (line.indexOf(' ', i + 1) >= 0) throw new AssertionError("more than a value after the series (a timestamp?): " + line);
        return new Series(name, labels);
    }

    static double number(String s) {
        return switch (s) {
            case "+Inf" -> Double.POSITIVE_INFINITY;
            case "-Inf" -> Double.NEGATIVE_INFINITY;
            case "NaN" -> Double.NaN;
            default -> Double.parseDouble(s);
        };
    }
}
