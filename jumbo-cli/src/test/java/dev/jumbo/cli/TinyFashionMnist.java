package dev.jumbo.cli;

import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.zip.GZIPOutputStream;

/** Writes a small Fashion-MNIST-shaped dataset (gzip IDX files) whose classes are learnable. */
final class TinyFashionMnist {
    private TinyFashionMnist() {}

    static Path write(Path dir, int train, int test, long seed) throws IOException {
        Files.createDirectories(dir);
        Random rnd = new Random(seed);
        writeSplit(dir, "train", train, rnd);
        writeSplit(dir, "t10k", test, rnd);
        return dir;
    }

    private static void writeSplit(Path dir, String prefix, int n, Random rnd) throws IOException {
        byte[] images = new byte[n * 784], labels = new byte[n];
        for (int i = 0; i < n; i++) {
            int k = rnd.nextInt(10);
            labels[i] = (byte) k;
            // class k lights up row band k (rows 2k+4 .. 2k+5) over noise
            for (int p = 0; p < 784; p++) {
                int row = p / 28;
                boolean band = row >= 2 * k + 4 && row < 2 * k + 6;
                images[i * 784 + p] = (byte) (band ? 200 + rnd.nextInt(56) : rnd.nextInt(60));
            }
        }
        writeIdx(dir.resolve(prefix + "-images-idx3-ubyte.gz"), new int[] {n, 28, 28}, images);
        writeIdx(dir.resolve(prefix + "-labels-idx1-ubyte.gz"), new int[] {n}, labels);
    }

    static void writeIdx(Path file, int[] dims, byte[] data) throws IOException {
        try (OutputStream os = new GZIPOutputStream(Files.newOutputStream(file)); DataOutputStream out = new DataOutputStream(os)) {
            out.writeInt(0x00000800 | dims.length);
            for (int d : dims) out.writeInt(d);
            out.write(data);
        }
    }
}
