package dev.jumbo.train;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Per-epoch values of each metric, in the order they were first logged (Keras' {@code History}).
 *
 * <pre>{@code
 * History h = model.fit(x, y, FitOptions.defaults().epochs(3));
 * double last = h.last("val_accuracy");
 * }</pre>
 */
public final class History {
    private final Map<String, List<Double>> values = new LinkedHashMap<>();

    /** Appends one epoch's logs. */
    public void append(Map<String, Double> logs) {
        logs.forEach((k, v) -> values.computeIfAbsent(k, key -> new ArrayList<>()).add(v));
    }

    /** Values of {@code metric} per epoch (empty if never logged). */
    public List<Double> get(String metric) {
        return Collections.unmodifiableList(values.getOrDefault(metric, List.of()));
    }

    /** The latest value of {@code metric}. */
    public double last(String metric) {
        List<Double> v = values.get(metric);
        if (v == null || v.isEmpty()) throw new IllegalArgumentException("no values for metric '" + metric + "'; have " + values.keySet());
        return v.getLast();
    }

    /** Metric names. */
    public List<String> metrics() {
        return List.copyOf(values.keySet());
    }

    /** Number of epochs recorded. */
    public int epochs() {
        return values.values().stream().mapToInt(List::size).max().orElse(0);
    }

    /** All values, as an unmodifiable view. */
    public Map<String, List<Double>> asMap() {
        return Collections.unmodifiableMap(values);
    }

    /** A copy holding only the first {@code epochs} epochs (what a checkpoint taken mid-epoch has finished). */
    public History firstEpochs(int epochs) {
        History h = new History();
        values.forEach((k, v) -> h.values.put(k, new ArrayList<>(v.subList(0, Math.min(epochs, v.size())))));
        return h;
    }
}
