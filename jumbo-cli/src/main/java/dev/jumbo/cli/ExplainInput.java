package dev.jumbo.cli;

import dev.jumbo.data.Csv;
import dev.jumbo.data.ImageFile;
import dev.jumbo.data.Splits;
import dev.jumbo.data.TensorDataset;
import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What {@code jumbo explain --input} names for a classifier, made into one example of the model's
 * shape: a dataset item ({@code fashion-mnist:test:17}), an image file, a row of a CSV file
 * ({@code rows.csv:3}, counting data rows from 0; a file of one row needs no index) or the numbers
 * themselves ({@code 5.1,3.5,1.4,0.2}). Images are {@link ImageFile}'s, as {@code jumbo serve} reads them.
 *
 * @param values      the example in the model's input shape, row-major
 * @param image       its height, width and channels when it is an image, else null
 * @param label       the true class of a dataset item, -1 when unknown
 * @param description how the input is named in output ("fashion-mnist test example 17 (label 9)")
 * @param featureNames a name per value for tabular inputs (a CSV header, else x0, x1 ...), else empty
 * @param background  examples to stand for "absent" (SHAP's background, LIME's statistics): the dataset's
 *                    training split or the CSV's rows, at most {@code backgroundSize}, the first ones
 */
record ExplainInput(float[] values, ImageFile.Layout image, int label, String description, List<String> featureNames,
                    float[][] background) {

    private static final Pattern ITEM = Pattern.compile("(fashion-mnist|mnist):(train|test):(\\d+)");
    private static final Pattern CSV_ROW = Pattern.compile("(.+\\.csv)(?::(\\d+))?", Pattern.CASE_INSENSITIVE);
    private static final Pattern IMAGE = Pattern.compile(".+\\.(png|jpe?g|gif|bmp)", Pattern.CASE_INSENSITIVE);

    /**
     * Reads {@code spec} for a model taking {@code shape}.
     *
     * @throws IllegalArgumentException saying what was expected if the input is not one of the forms or has the wrong size
     */
    static ExplainInput read(String spec, Shape shape, Path dataDir, int backgroundSize) throws IOException {
        Matcher item = ITEM.matcher(spec);
        if (item.matches()) return datasetItem(item.group(1), item.group(2), Integer.parseInt(item.group(3)), shape, dataDir, backgroundSize);
        Matcher image = IMAGE.matcher(spec);
        if (image.matches()) {
            ImageFile.Layout layout = ImageFile.layout(shape);
            if (layout == null)
                throw new IllegalArgumentException("the model takes inputs of shape " + shape + ", not images; give a CSV row or numbers");
            Path file = Path.of(spec);
            float[] x = ImageFile.read(Files.readAllBytes(file), layout, file.getFileName().toString());
            return new ExplainInput(x, layout, -1, "image " + spec + " (read as " + layout.height() + "x" + layout.width()
                    + (layout.channels() == 1 ? " grey" : " RGB") + ")", List.of(), new float[0][]);
        }
        Matcher csv = CSV_ROW.matcher(spec);
        if (csv.matches()) return csvRow(Path.of(csv.group(1)), csv.group(2) == null ? -1 : Integer.parseInt(csv.group(2)), shape, backgroundSize);
        if (spec.matches("[-+0-9.eE, ]+") && spec.contains(",") || spec.matches("[-+]?[0-9.]+([eE][-+]?\\d+)?")) {
            String[] parts = spec.split(",");
            float[] x = new float[parts.length];
            for (int i = 0; i < parts.length; i++) {
                try {
                    x[i] = Float.parseFloat(parts[i].strip());
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("--input value " + (i + 1) + " '" + parts[i].strip() + "' is not a number");
                }
                if (!Float.isFinite(x[i])) throw new IllegalArgumentException("--input value " + (i + 1) + " is not finite");
            }
            checkSize(x.length, shape, "--input has");
            return new ExplainInput(x, null, -1, "the values given", names(null, x.length), new float[0][]);
        }
        throw new IllegalArgumentException("--input '" + spec + "' is none of: DATASET:SPLIT:INDEX (fashion-mnist:test:17), an image file "
                + "(.png, .jpg, .gif, .bmp), FILE.csv[:ROW] or comma-separated numbers");
    }

    private static ExplainInput datasetItem(String dataset, String split, int index, Shape shape, Path dataDir, int backgroundSize) throws IOException {
        Splits splits = DataOptions.of(dataset, dataDir).load();
        TensorDataset part = split.equals("train") ? splits.train() : splits.test();
        if (index >= part.size())
            throw new IllegalArgumentException(dataset + " " + split + " has " + part.size() + " examples (0 to " + (part.size() - 1) + "), not " + index);
        checkSize(part.x().size() / part.size(), shape, dataset + " examples have");
        float[] x = part.x().slice(0, index, index + 1).toFloatArray();
        int label = (int) part.y().toFloatArray()[index];
        TensorDataset train = splits.train();
        float[][] background = rows(train.x(), Math.min(backgroundSize, train.size()));
        return new ExplainInput(x, ImageFile.layout(shape), label, dataset + " " + split + " example " + index + " (label " + label + ")",
                List.of(), background);
    }

    private static ExplainInput csvRow(Path file, int row, Shape shape, int backgroundSize) throws IOException {
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException(file + ": no such file");
        Tensor all = Csv.readFeatures(file, true);
        int n = all.dim(0), columns = all.dim(1);
        boolean labelled = columns == shape.size() + 1; // a training file: features, then the label
        if (!labelled) checkSize(columns, shape, file + " has rows of");
        if (row < 0 && n > 1)
            throw new IllegalArgumentException(file + " has " + n + " rows: name one as " + file + ":ROW (0 to " + (n - 1) + ")");
        int r = Math.max(row, 0);
        if (r >= n) throw new IllegalArgumentException(file + " has " + n + " data rows (0 to " + (n - 1) + "), not " + r);
        Tensor x = labelled ? all.slice(1, 0, columns - 1) : all;
        float[][] data = rows(x, n);
        float[][] background = rows(x, Math.min(backgroundSize, n));
        return new ExplainInput(data[r], null, labelled ? (int) all.get(r, columns - 1) : -1, file + " row " + r,
                names(header(file), shape.size()), background);
    }

    private static float[][] rows(Tensor x, int n) {
        int width = x.size() / x.dim(0);
        float[] all = x.slice(0, 0, n).toFloatArray();
        float[][] out = new float[n][];
        for (int i = 0; i < n; i++) out[i] = java.util.Arrays.copyOfRange(all, i * width, (i + 1) * width);
        return out;
    }

    private static List<String> header(Path file) throws IOException {
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line = r.readLine();
            if (line == null) return null;
            List<String> names = new ArrayList<>();
            for (String s : line.replace("\uFEFF", "").split(",", -1)) names.add(s.strip());
            return names;
        }
    }

    private static List<String> names(List<String> header, int n) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) out.add(header != null && i < header.size() && !header.get(i).isEmpty() ? header.get(i) : "x" + i);
        return out;
    }

    private static void checkSize(int values, Shape shape, String what) {
        if (values != shape.size())
            throw new IllegalArgumentException(what + " " + values + " value" + (values == 1 ? "" : "s") + " but the model takes inputs of shape "
                    + shape + " (" + shape.size() + " values)");
    }

    /** The class index {@code target} names: a number, or one of the labels (any case). */
    static int target(String target, List<String> labels, int outputs) {
        int t;
        if (target.matches("\\d+")) t = Integer.parseInt(target);
        else {
            t = -1;
            for (int i = 0; i < labels.size(); i++) if (labels.get(i).toLowerCase(Locale.ROOT).equals(target.toLowerCase(Locale.ROOT))) t = i;
            if (t < 0)
                throw new IllegalArgumentException("--target '" + target + "' is neither a class index nor one of the labels " + labels);
        }
        if (t >= outputs)
            throw new IllegalArgumentException("class " + t + " does not exist: the model has " + outputs + " outputs (0 to " + (outputs - 1) + ")");
        return t;
    }
}
