package dev.jumbo.data;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;

/**
 * Zalando's Fashion-MNIST: 28×28 grey images of clothing in 10 classes, 60,000 for training and
 * 10,000 for testing. Images load as {@code [n, 28, 28, 1]} floats in [0, 1], labels as {@code [n]}
 * float class ids (0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt,
 * 7 Sneaker, 8 Bag, 9 Ankle boot).
 *
 * <p>The files ({@code train-images-idx3-ubyte}, {@code train-labels-idx1-ubyte},
 * {@code t10k-images-idx3-ubyte}, {@code t10k-labels-idx1-ubyte}, each plain or {@code .gz}) are
 * taken from {@code dataDir} if given; otherwise from {@code $JUMBO_CACHE/datasets/fashion-mnist}
 * ({@code ~/.cache/jumbo/...} without the variable), then {@code /usr/share/datasets/fashion-mnist}
 * (Debian package {@code dataset-fashion-mnist}); otherwise they are downloaded into the cache.
 *
 * <pre>{@code
 * Splits data = FashionMnist.load(null);
 * TensorDataset train = data.train();   // x [60000, 28, 28, 1], y [60000]
 * }</pre>
 */
public final class FashionMnist {
    /** The names of classes 0 to 9. */
    public static final java.util.List<String> CLASS_NAMES = java.util.List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
            "Shirt", "Sneaker", "Bag", "Ankle boot");

    /** Where the original files are published. */
    static final URI BASE_URL = URI.create("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/");

    private FashionMnist() {}

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
        return DatasetLocator.standard("Fashion-MNIST", "fashion-mnist", BASE_URL, "dataset-fashion-mnist");
    }
}
