package dev.jumbo.data;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;

/**
 * LeCun, Cortes and Burges' MNIST: 28×28 grey images of handwritten digits, 60,000 for training
 * and 10,000 for testing. Images load as {@code [n, 28, 28, 1]} floats in [0, 1], labels as
 * {@code [n]} float digits 0 to 9.
 *
 * <p>The files ({@code train-images-idx3-ubyte}, {@code train-labels-idx1-ubyte},
 * {@code t10k-images-idx3-ubyte}, {@code t10k-labels-idx1-ubyte}, each plain or {@code .gz}) are
 * taken from {@code dataDir} if given; otherwise from {@code $JUMBO_CACHE/datasets/mnist}
 * ({@code ~/.cache/jumbo/...} without the variable), then {@code /usr/share/datasets/mnist};
 * otherwise they are downloaded into the cache from the mirror PyTorch uses.
 *
 * <pre>{@code
 * Splits data = Mnist.load(Path.of("data/mnist"));
 * }</pre>
 */
public final class Mnist {
    /** The mirror torchvision downloads from (the original site throttles automated downloads). */
    static final URI BASE_URL = URI.create("https://ossci-datasets.s3.amazonaws.com/mnist/");

    private Mnist() {}

    /**
     * Loads both parts.
     *
     * @param dataDir folder holding the four files, or null to search the usual places and download
     * @throws java.io.FileNotFoundException if {@code dataDir} is given and lacks files (they are named)
     * @throws dev.jumbo.io.FormatException if a file is malformed
     * @throws IOException if the files are nowhere and cannot be downloaded
     */
    public static Splits load(Path dataDir) throws IOException {
        return load(dataDir, locator());
    }

    static Splits load(Path dataDir, DatasetLocator locator) throws IOException {
        return MnistFormat.load(dataDir, locator);
    }

    static DatasetLocator locator() {
        return DatasetLocator.standard("MNIST", "mnist", BASE_URL, null);
    }
}
