package dev.jumbo.data;

import dev.jumbo.io.FormatException;
import dev.jumbo.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The layout MNIST and Fashion-MNIST share: four IDX files of unsigned bytes, images
 * {@code [n, 28, 28]} and labels {@code [n]} holding class ids 0 to 9, for a training and a test
 * part.
 */
final class MnistFormat {
    /** Training images, training labels, test images, test labels: the names both datasets use. */
    static final List<String> FILES = List.of(
            "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte");
    static final int CLASSES = 10;

    private MnistFormat() {}

    static Splits load(Path dataDir, DatasetLocator locator) throws IOException {
        List<DatasetLocator.Found> files = locator.locate(dataDir, FILES);
        IdxArray[] arrays = new IdxArray[files.size()];
        for (int i = 0; i < arrays.length; i++) arrays[i] = read(files.get(i));
        return new Splits(
                examples(files.get(0).path(), arrays[0], files.get(1).path(), arrays[1]),
                examples(files.get(2).path(), arrays[2], files.get(3).path(), arrays[3]));
    }

    /** Reads one file; a corrupt download is deleted so that the next run fetches it again. */
    private static IdxArray read(DatasetLocator.Found f) throws IOException {
        try {
            return Idx.read(f.path());
        } catch (FormatException e) {
            if (f.downloaded()) Files.deleteIfExists(f.path());
            throw e;
        }
    }

    /** Images scaled to [0, 1] as {@code [n, h, w, 1]} (NHWC, one channel); labels as float class ids {@code [n]}. */
    static TensorDataset examples(Path imageFile, IdxArray images, Path labelFile, IdxArray labels) throws FormatException {
        expectRank(imageFile, images, 3, "images");
        expectRank(labelFile, labels, 1, "labels");
        int n = images.dims()[0], h = images.dims()[1], w = images.dims()[2];
        if (labels.dims()[0] != n)
            throw new FormatException(labelFile, "has " + labels.dims()[0] + " labels but " + imageFile.getFileName() + " has " + n + " images");
        byte[] pixels = images.data();
        float[] x = new float[pixels.length];
        for (int i = 0; i < x.length; i++) x[i] = (pixels[i] & 0xFF) / 255f;
        byte[] classes = labels.data();
        float[] y = new float[n];
        for (int i = 0; i < n; i++) {
            int label = classes[i] & 0xFF;
            if (label >= CLASSES) throw new FormatException(labelFile, "label " + label + " of example " + i + " is outside 0.." + (CLASSES - 1));
            y[i] = label;
        }
        return new TensorDataset(Tensor.of(x, n, h, w, 1), Tensor.of(y, n));
    }

    private static void expectRank(Path file, IdxArray a, int rank, String what) throws FormatException {
        if (a.dims().length != rank)
            throw new FormatException(file, String.format("wrong magic number 0x%08X, expected 0x%08X for unsigned-byte %s",
                    Idx.UNSIGNED_BYTE << 8 | a.dims().length, Idx.UNSIGNED_BYTE << 8 | rank, what));
    }
}
