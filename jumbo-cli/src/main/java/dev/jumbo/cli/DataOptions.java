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
}
