package dev.jumbo.cli;

import dev.jumbo.data.Csv;
import dev.jumbo.data.FashionMnist;
import dev.jumbo.data.Mnist;
import dev.jumbo.data.Splits;
import dev.jumbo.data.TensorDataset;
import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The dataset argument shared by train, evaluate and predict. */
final class DataOptions {
    @Parameters(index = "0", paramLabel = "DATASET",
            description = "fashion-mnist, mnist, or csv:TRAIN.csv[,TEST.csv] (numeric, label in the last column, header row)")
    String dataset;

    @Option(names = "--data", paramLabel = "DIR", description = "Folder holding the dataset's files (otherwise the cache, then /usr/share/datasets, then download).")
    Path dataDir;

    /** The options as if given on the command line (for commands that take the dataset another way). */
    static DataOptions of(String dataset, Path dataDir) {
        DataOptions d = new DataOptions();
        d.dataset = dataset;
        d.dataDir = dataDir;
        return d;
    }

    Splits load() throws IOException {
        return switch (dataset) {
            case "fashion-mnist" -> FashionMnist.load(dataDir);
            case "mnist" -> Mnist.load(dataDir);
            default -> {
                if (!dataset.startsWith("csv:"))
                    throw new IllegalArgumentException("unknown dataset '" + dataset + "': use fashion-mnist, mnist or csv:FILE");
                String[] files = dataset.substring(4).split(",");
                TensorDataset train = Csv.read(Path.of(files[0]), true, -1);
                TensorDataset test = files.length > 1 ? Csv.read(Path.of(files[1]), true, -1) : train;
                yield new Splits(train, test);
            }
        };
    }

    /** The same examples reshaped to what a model takes (e.g. 28x28x1 images to 784 inputs). */
    static TensorDataset fit(TensorDataset d, Shape modelInput) {
        Tensor x = d.x();
        if (x.size() / Math.max(1, x.dim(0)) != modelInput.size())
            throw new IllegalArgumentException("the model takes examples of shape " + modelInput + " but the data has " + x.shape());
        int[] dims = new int[modelInput.rank() + 1];
        dims[0] = x.dim(0);
        System.arraycopy(modelInput.toArray(), 0, dims, 1, modelInput.rank());
        return new TensorDataset(x.reshape(dims), d.y());
    }

    /**
     * The classes a run keeps ({@code --classes 0-4}, {@code --classes 5,7,9}, {@code 0-2,8}), in
     * ascending order: class {@code kept[i]} becomes label {@code i}, so a model trained on
     * classes 5-9 has a 5-way output.
     */
    record ClassSubset(int[] kept) {
        /**
         * Parses a list of class ids and ranges.
         *
         * @throws IllegalArgumentException quoting {@code spec} and the part that is not a class id or range
         */
        static ClassSubset parse(String option, String spec) {
            return parse(option, spec, 2);
        }

        /** {@link #parse(String, String)} needing at least {@code least} classes (1 for the positives of a yes/no task). */
        static ClassSubset parse(String option, String spec, int least) {
            TreeSet<Integer> ids = new TreeSet<>();
            for (String part : spec.split(",", -1)) {
                String p = part.strip();
                try {
                    int dash = p.indexOf('-', 1);
                    int from = Integer.parseInt(dash < 0 ? p : p.substring(0, dash).strip());
                    int to = dash < 0 ? from : Integer.parseInt(p.substring(dash + 1).strip());
                    if (from < 0 || to < from) throw new NumberFormatException();
                    for (int c = from; c <= to; c++) ids.add(c);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException(option + " '" + spec + "': '" + p + "' is not a class id or a range like 0-4 (ids are 0 or more, ranges ascending)");
                }
            }
            if (ids.size() < least) throw new IllegalArgumentException(option + " '" + spec + "' keeps " + ids.size() + " class; a classifier needs at least 2");
            return new ClassSubset(ids.stream().mapToInt(Integer::intValue).toArray());
        }

        /**
         * The examples of the kept classes with their labels renumbered 0..k-1; {@code classes} is
         * how many the dataset has, to refuse ids it lacks.
         *
         * @throws IllegalArgumentException naming the class ids the dataset does not have, or a class with no example
         */
        TensorDataset select(TensorDataset d, int classes, String option, String split) {
            if (kept[kept.length - 1] >= classes)
                throw new IllegalArgumentException(option + " names class " + kept[kept.length - 1] + " but the dataset has classes 0-" + (classes - 1));
            int[] newLabel = new int[classes];
            java.util.Arrays.fill(newLabel, -1);
            for (int i = 0; i < kept.length; i++) newLabel[kept[i]] = i;
            float[] y = d.y().toFloatArray();
            List<Integer> rows = new ArrayList<>();
            int[] counts = new int[kept.length];
            for (int i = 0; i < y.length; i++) {
                int c = (int) y[i];
                if (c >= 0 && c < classes && newLabel[c] >= 0) {
                    rows.add(i);
                    counts[newLabel[c]]++;
                }
            }
            for (int i = 0; i < kept.length; i++)
                if (counts[i] == 0) throw new IllegalArgumentException(option + ": the " + split + " data has no example of class " + kept[i]);
            int[] idx = rows.stream().mapToInt(Integer::intValue).toArray();
            float[] labels = new float[idx.length];
            for (int i = 0; i < idx.length; i++) labels[i] = newLabel[(int) y[idx[i]]];
            return new TensorDataset(d.x().rows(idx), Tensor.of(labels, idx.length));
        }

        /** Both splits narrowed to the kept classes ({@code classes}: how many the training split has). */
        Splits select(Splits s, int classes, String option) {
            return new Splits(select(s.train(), classes, option, "training"), select(s.test(), classes, option, "test"));
        }

        /** The kept classes' names out of all of a dataset's names. */
        List<String> names(List<String> all) {
            List<String> out = new ArrayList<>();
            for (int c : kept) out.add(c < all.size() ? all.get(c) : Integer.toString(c));
            return out;
        }

        /** As {@code --classes} takes it back: "5,6,7,8,9". */
        String describe() {
            StringBuilder sb = new StringBuilder();
            for (int c : kept) sb.append(sb.isEmpty() ? "" : ",").append(c);
            return sb.toString();
        }
    }
}
