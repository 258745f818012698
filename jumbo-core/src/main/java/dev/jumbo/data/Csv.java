package dev.jumbo.data;

import dev.jumbo.io.FormatException;
import dev.jumbo.tensor.Tensor;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.regex.Pattern;

/**
 * Reads numeric CSV files into a dataset: one example per line, comma-separated numbers, one
 * column of which is the label. Fields may be surrounded by spaces or double quotes; blank lines
 * are skipped. Numbers are decimal ({@code 3}, {@code -0.5}, {@code 1e-3}); {@code nan} and
 * {@code inf} (any case, with a sign) are accepted as NumPy and pandas write them.
 *
 * <pre>{@code
 * TensorDataset iris = Csv.read(Path.of("iris.csv"), true, -1);   // header line, label last
 * }</pre>
 */
public final class Csv {
    private static final Pattern DECIMAL = Pattern.compile("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?");
    private static final Pattern NON_FINITE = Pattern.compile("[+-]?(nan|inf|infinity)", Pattern.CASE_INSENSITIVE);

    /** {@code labelColumn} value for files with no label column (every column is a feature; y is all zeros). */
    public static final int NO_LABEL = -2;

    private Csv() {}

    /** The rows of an unlabelled numeric CSV file as a {@code [n, columns]} tensor (inputs to predict on). */
    public static Tensor readFeatures(Path file, boolean header) throws IOException {
        return read(file, header, NO_LABEL).x();
    }

    /**
     * Reads {@code file}: x is {@code [n, columns - 1]}, y is {@code [n]} holding the label column.
     *
     * @param header      true if the first line holds column names (skipped)
     * @param labelColumn index of the label column from 0, -1 for the last column, or {@link #NO_LABEL}
     * @throws FormatException naming the line and column of a bad number, a line with the wrong
     *     number of columns, a label column the file does not have, text that is not UTF-8, or a
     *     file without data lines
     */
    public static TensorDataset read(Path file, boolean header, int labelColumn) throws IOException {
        if (labelColumn < NO_LABEL)
            throw new IllegalArgumentException("label column must be -1 (last), NO_LABEL or an index from 0, got " + labelColumn);
        float[] x = new float[1024];
        float[] y = new float[64];
        int rows = 0, columns = -1, label = -1, lineNumber = 0;
        boolean headerPending = header;
        try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            for (String line; (line = reader.readLine()) != null; ) {
                lineNumber++;
                if (lineNumber == 1 && line.startsWith("\uFEFF")) line = line.substring(1); // byte-order mark
                if (line.isBlank()) continue;
                String[] fields = line.split(",", -1);
                if (columns < 0) {
                    columns = fields.length;
                    if (columns < 2 && labelColumn != NO_LABEL)
                        throw new FormatException(file, "line " + lineNumber + " has " + columns + " column; need features and a label");
                    label = labelColumn == -1 ? columns - 1 : labelColumn == NO_LABEL ? -1 : labelColumn;
                    if (label >= columns)
                        throw new FormatException(file, "label column " + labelColumn + " is outside the " + columns + " columns of line " + lineNumber);
                } else if (fields.length != columns) {
                    throw new FormatException(file, "line " + lineNumber + " has " + fields.length + " columns, expected " + columns);
                }
                if (headerPending) {
                    headerPending = false;
                    continue;
                }
                int features = label < 0 ? columns : columns - 1;
                if ((long) (rows + 1) * features > Integer.MAX_VALUE - 8)
                    throw new FormatException(file, "more than 2^31 values at line " + lineNumber + "; too large to load");
                if (x.length < (rows + 1) * features) x = Arrays.copyOf(x, (int) Math.min(Integer.MAX_VALUE - 8, Math.max(2L * x.length, (long) (rows + 1) * features)));
                if (y.length == rows) y = Arrays.copyOf(y, 2 * rows);
                for (int c = 0, f = 0; c < columns; c++) {
                    float v = number(file, lineNumber, c, fields[c]);
                    if (c == label) y[rows] = v;
                    else x[rows * features + f++] = v;
                }
                rows++;
            }
        } catch (CharacterCodingException e) {
            throw new FormatException(file, "is not UTF-8 text (after line " + lineNumber + ")", e);
        }
        if (rows == 0) throw new FormatException(file, "has no data lines");
        int features = label < 0 ? columns : columns - 1;
        return new TensorDataset(
                Tensor.of(Arrays.copyOf(x, rows * features), rows, features),
                Tensor.of(Arrays.copyOf(y, rows), rows));
    }

    private static float number(Path file, int line, int column, String field) throws FormatException {
        String s = field.strip();
        if (s.length() >= 2 && s.startsWith("\"") && s.endsWith("\"")) s = s.substring(1, s.length() - 1).strip();
        if (DECIMAL.matcher(s).matches()) return Float.parseFloat(s);
        if (NON_FINITE.matcher(s).matches()) {
            boolean negative = s.startsWith("-");
            if (s.toLowerCase().contains("nan")) return Float.NaN;
            return negative ? Float.NEGATIVE_INFINITY : Float.POSITIVE_INFINITY;
        }
        String shown = field.length() > 40 ? field.substring(0, 37) + "..." : field;
        throw new FormatException(file, "line " + line + ", column " + (column + 1) + ": "
                + (s.isEmpty() ? "empty field" : "\"" + shown + "\" is not a number"));
    }
}
