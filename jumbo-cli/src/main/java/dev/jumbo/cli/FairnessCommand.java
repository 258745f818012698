package dev.jumbo.cli;

import dev.jumbo.data.Csv;
import dev.jumbo.data.TensorDataset;
import dev.jumbo.fairness.FairnessReport;
import dev.jumbo.fairness.GroupMetrics;
import dev.jumbo.io.FormatException;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.train.Sequential;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code jumbo fairness}: a binary classifier's per-group table and Fairlearn's demographic parity
 * and equalized odds differences and ratios, from a CSV of predictions or from a model and data.
 */
@Command(name = "fairness", mixinStandardHelpOptions = true,
        description = {"Audit a binary classifier across the groups of a sensitive feature: a per-group table (count, selection rate, accuracy, TPR, FPR, TNR, FNR) "
                + "and Fairlearn's demographic parity difference and ratio, equalized odds difference and ratio.",
                "From a CSV with columns y_true,y_pred,group (--predictions), or from a model folder that predicts each row of a numeric CSV "
                        + "(--model, --data, --sensitive COLUMN; the label is the last column unless --label says otherwise).",
                "If the model takes one input fewer than the data's feature columns, the sensitive column is left out of its inputs (it was trained without it).",
                "Example: jumbo fairness --model runs/census --data census.csv --sensitive sex --json"})
final class FairnessCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--predictions", paramLabel = "FILE.csv", description = "CSV with a header naming columns y_true, y_pred (0 or 1) and group (text without commas), in any order.")
    Path predictions;

    @Option(names = "--model", paramLabel = "DIR", description = "Model folder from jumbo train (a classifier with 2 outputs).")
    Path model;

    @Option(names = "--data", paramLabel = "FILE.csv", description = "Numeric CSV with a header, as jumbo train csv:FILE reads it.")
    Path data;

    @Option(names = "--sensitive", paramLabel = "COLUMN", description = "The column of --data whose values are the groups.")
    String sensitive;

    @Option(names = "--label", paramLabel = "COLUMN", description = "The column of --data holding the true label (default: the last).")
    String label;

    @Option(names = "--json", description = "Print one JSON object with the four figures and the per-group table as the last line.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        FairnessReport report;
        if (predictions != null) {
            if (model != null || data != null || sensitive != null || label != null)
                throw new IllegalArgumentException("--predictions takes no --model, --data, --sensitive or --label: the file holds y_true, y_pred and group");
            report = fromPredictions(predictions);
        } else {
            if (model == null || data == null || sensitive == null)
                throw new IllegalArgumentException("give --predictions FILE.csv, or --model DIR with --data FILE.csv and --sensitive COLUMN");
            Main.banner(spec.commandLine().getErr());
            report = fromModel(Sequential.load(model), data, sensitive, label, spec.commandLine().getErr());
        }
        PrintWriter out = spec.commandLine().getOut();
        print(report, out);
        if (json) out.println(JsonOutput.line(json(report)));
        out.flush();
        return 0;
    }

    /** Reads y_true, y_pred and group by their header names (in any order, other columns ignored). */
    static FairnessReport fromPredictions(Path file) throws IOException {
        List<Integer> yTrue = new ArrayList<>(), yPred = new ArrayList<>();
        List<String> groups = new ArrayList<>();
        try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String headerLine = reader.readLine();
            if (headerLine == null) throw new FormatException(file, "is empty; expected a header with y_true,y_pred,group");
            List<String> header = fields(headerLine.replace("\uFEFF", ""));
            int t = column(file, header, "y_true"), p = column(file, header, "y_pred"), g = column(file, header, "group");
            int lineNumber = 1;
            for (String line; (line = reader.readLine()) != null; ) {
                lineNumber++;
                if (line.isBlank()) continue;
                List<String> f = fields(line);
                if (f.size() != header.size())
                    throw new FormatException(file, "line " + lineNumber + " has " + f.size() + " columns, the header " + header.size());
                yTrue.add(binary(file, lineNumber, "y_true", f.get(t)));
                yPred.add(binary(file, lineNumber, "y_pred", f.get(p)));
                if (f.get(g).isEmpty()) throw new FormatException(file, "line " + lineNumber + ": empty group");
                groups.add(f.get(g));
            }
        }
        if (groups.isEmpty()) throw new FormatException(file, "has no data lines");
        return FairnessReport.of(yTrue.stream().mapToInt(Integer::intValue).toArray(), yPred.stream().mapToInt(Integer::intValue).toArray(),
                groups.toArray(String[]::new));
    }

    /**
     * Predicts every row of {@code file} with {@code model}: the features are every column but the
     * label, and also without the sensitive column when the model takes one input fewer than that.
     */
    static FairnessReport fromModel(Sequential model, Path file, String sensitive, String label, PrintWriter err) throws IOException {
        List<String> header = header(file);
        int s = column(file, header, sensitive);
        int l = label == null ? header.size() - 1 : column(file, header, label);
        if (s == l) throw new IllegalArgumentException("--sensitive and the label are the same column '" + header.get(s) + "'");
        Tensor table = Csv.readFeatures(file, true);
        int rows = table.dim(0), columns = table.dim(1);
        float[] values = table.toFloatArray();
        int inputs = model.inputShape().size();
        boolean dropSensitive;
        if (inputs == columns - 1) dropSensitive = false;
        else if (inputs == columns - 2) dropSensitive = true;
        else
            throw new IllegalArgumentException("the model takes " + inputs + " inputs but " + file + " has " + (columns - 1)
                    + " feature columns (" + (columns - 2) + " without '" + sensitive + "')");
        err.println("predicting " + rows + " rows with " + inputs + " inputs"
                + (dropSensitive ? " ('" + header.get(s) + "' left out: the model takes one input fewer than the feature columns)"
                        : " ('" + header.get(s) + "' included, as the model takes every feature column)"));
        int features = inputs;
        float[] x = new float[rows * features];
        int[] yTrue = new int[rows];
        String[] groups = new String[rows];
        for (int r = 0; r < rows; r++) {
            for (int c = 0, f = 0; c < columns; c++) {
                if (c == l || (dropSensitive && c == s)) continue;
                x[r * features + f++] = values[r * columns + c];
            }
            yTrue[r] = binary(file, r + 1, header.get(l), values[r * columns + l]);
            groups[r] = groupName(values[r * columns + s]);
        }
        Tensor inputsTensor = DataOptions.fit(new TensorDataset(Tensor.of(x, rows, features), Tensor.zeros(rows)), model.inputShape()).x();
        Tensor p = model.predict(inputsTensor, 256);
        if (p.dim(-1) != 2) throw new IllegalArgumentException("fairness needs a binary classifier (2 outputs); the model has " + p.dim(-1));
        return FairnessReport.of(yTrue, p.argmax(), groups);
    }

    static void print(FairnessReport report, PrintWriter out) {
        out.printf("%-12s %8s %10s %9s %7s %7s %7s %7s%n", "group", "count", "selection", "accuracy", "TPR", "FPR", "TNR", "FNR");
        List<GroupMetrics> rows = new ArrayList<>(report.byGroup().values());
        rows.add(report.overall());
        for (GroupMetrics m : rows)
            out.printf("%-12s %8d %10.4f %9.4f %7.4f %7.4f %7.4f %7.4f%n", m.group(), m.count(), m.selectionRate(), m.accuracy(),
                    m.truePositiveRate(), m.falsePositiveRate(), m.trueNegativeRate(), m.falseNegativeRate());
        out.printf("demographic parity difference %.4f, ratio %.4f%n", report.demographicParityDifference(), report.demographicParityRatio());
        out.printf("equalized odds difference %.4f, ratio %.4f%n", report.equalizedOddsDifference(), report.equalizedOddsRatio());
        out.flush();
    }

    static Map<String, Object> json(FairnessReport report) {
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("demographic_parity_difference", number(report.demographicParityDifference()));
        result.put("demographic_parity_ratio", number(report.demographicParityRatio()));
        result.put("equalized_odds_difference", number(report.equalizedOddsDifference()));
        result.put("equalized_odds_ratio", number(report.equalizedOddsRatio()));
        Map<String, Object> byGroup = new LinkedHashMap<>();
        report.byGroup().forEach((g, m) -> byGroup.put(g, row(m)));
        result.put("by_group", byGroup);
        result.put("overall", row(report.overall()));
        return result;
    }

    private static Map<String, Object> row(GroupMetrics m) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("count", m.count());
        r.put("selection_rate", m.selectionRate());
        r.put("accuracy", m.accuracy());
        r.put("true_positive_rate", m.truePositiveRate());
        r.put("false_positive_rate", m.falsePositiveRate());
        r.put("true_negative_rate", m.trueNegativeRate());
        r.put("false_negative_rate", m.falseNegativeRate());
        return r;
    }

    // an undefined ratio (0/0) is null in JSON, which has no NaN
    private static Double number(double v) {
        return Double.isNaN(v) ? null : v;
    }

    private static List<String> header(Path file) throws IOException {
        try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line = reader.readLine();
            if (line == null) throw new FormatException(file, "is empty; expected a header line naming the columns");
            return fields(line.replace("\uFEFF", ""));
        }
    }

    private static int column(Path file, List<String> header, String name) throws FormatException {
        int i = header.indexOf(name);
        if (i < 0) throw new FormatException(file, "has no column '" + name + "'; its columns are " + String.join(",", header));
        return i;
    }

    private static List<String> fields(String line) {
        return Arrays.stream(line.split(",", -1)).map(f -> {
            String s = f.strip();
            return s.length() >= 2 && s.startsWith("\"") && s.endsWith("\"") ? s.substring(1, s.length() - 1).strip() : s;
        }).toList();
    }

    private static int binary(Path file, int line, String column, String field) throws FormatException {
        return switch (field) {
            case "0", "0.0" -> 0;
            case "1", "1.0" -> 1;
            default -> throw new FormatException(file, "line " + line + ", " + column + ": \"" + field + "\" is not 0 or 1");
        };
    }

    private static int binary(Path file, int row, String column, float value) throws FormatException {
        if (value == 0) return 0;
        if (value == 1) return 1;
        throw new FormatException(file, "data row " + row + ", " + column + ": " + value + " is not 0 or 1");
    }

    // group values are numbers in a numeric CSV: 1.0 reads as "1", so groups print as the file wrote them
    private static String groupName(float v) {
        return v == Math.rint(v) && Math.abs(v) < 1e9 ? Long.toString((long) v) : Float.toString(v);
    }
}
