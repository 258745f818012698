package dev.jumbo.data;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

/** Builds IDX files byte by byte, as the MNIST page describes them, for tests. */
final class IdxFiles {
    private IdxFiles() {}

    /** Magic {@code 00 00 type rank}, big-endian dimensions, then {@code data}. */
    static byte[] idx(int type, int[] dims, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + data.length); // big-endian by default
        b.put((byte) 0).put((byte) 0).put((byte) type).put((byte) dims.length);
        for (int d : dims) b.putInt(d);
        return b.put(data).array();
    }

    static byte[] ubyte(int[] dims, byte[] data) {
        return idx(0x08, dims, data);
    }

    static byte[] gzip(byte[] bytes) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /**
     * Writes the four MNIST-layout files into {@code dir}: {@code train} and {@code test} examples
     * of 28×28 images whose pixel {@code p} of example {@code i} is {@code (i * 31 + p) % 256}
     * and whose label is {@code (i + shift) % 10}.
     */
    static void writeMnistLayout(Path dir, int train, int test, int shift, boolean gzipped) throws IOException {
        Files.createDirectories(dir);
        String suffix = gzipped ? ".gz" : "";
        write(dir.resolve("train-images-idx3-ubyte" + suffix), images(train), gzipped);
        write(dir.resolve("train-labels-idx1-ubyte" + suffix), labels(train, shift), gzipped);
        write(dir.resolve("t10k-images-idx3-ubyte" + suffix), images(test), gzipped);
        write(dir.resolve("t10k-labels-idx1-ubyte" + suffix), labels(test, shift), gzipped);
    }

    static byte[] images(int n) {
        byte[] pixels = new byte[n * 28 * 28];
        for (int i = 0; i < n; i++)
            for (int p = 0; p < 28 * 28; p++) pixels[i * 784 + p] = (byte) ((i * 31 + p) % 256);
        return ubyte(new int[] {n, 28, 28}, pixels);
    }

    static byte[] labels(int n, int shift) {
        byte[] labels = new byte[n];
        for (int i = 0; i < n; i++) labels[i] = (byte) ((i + shift) % 10);
        return ubyte(new int[] {n}, labels);
    }

    private static void write(Path file, byte[] bytes, boolean gzipped) throws IOException {
        Files.write(file, gzipped ? gzip(bytes) : bytes);
    }
}
