package dev.jumbo.data;

import dev.jumbo.io.FormatException;
import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads IDX files, the format of MNIST and Fashion-MNIST (as described on Yann LeCun's MNIST
 * page): a 4-byte magic number {@code 00 00 TT NN} (type code TT, NN dimensions), NN big-endian
 * 32-bit dimension sizes, then the values in row-major order. Only unsigned bytes (type 0x08)
 * are supported, which is what those datasets use. Gzip-compressed files ({@code .gz}) are
 * recognised by their first two bytes, {@code 1f 8b}, whatever their name.
 *
 * <pre>{@code
 * IdxArray labels = Idx.read(Path.of("t10k-labels-idx1-ubyte.gz"));   // dims [10000]
 * }</pre>
 */
public final class Idx {
    /** The only type code supported: unsigned bytes. */
    static final int UNSIGNED_BYTE = 0x08;

    private Idx() {}

    /**
     * Reads one IDX file, checking that its size matches its dimensions exactly.
     *
     * @throws FormatException for a wrong magic number, an unsupported type, a file shorter or
     *     longer than its dimensions say, or corrupt gzip data
     */
    public static IdxArray read(Path file) throws IOException {
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            raw.mark(2);
            boolean gzip = raw.read() == 0x1f && raw.read() == 0x8b;
            raw.reset();
            if (!gzip) return parse(file, raw, Files.size(file));
            try (InputStream in = new GZIPInputStream(raw, 1 << 16)) {
                return parse(file, in, -1);
            } catch (ZipException | EOFException corrupt) {
                // thrown by the decompressor; a short IDX body is detected by parse without exceptions
                throw new FormatException(file, "corrupt or truncated gzip data: " + corrupt.getMessage(), corrupt);
            }
        }
    }

    /** @param size the file's length in bytes when known (uncompressed), -1 otherwise */
    private static IdxArray parse(Path file, InputStream in, long size) throws IOException {
        String unpacked = size < 0 ? " (after decompression)" : "";
        // 4 bytes: magic number, 0x00 0x00, type code, number of dimensions
        byte[] magic = in.readNBytes(4);
        if (magic.length < 4) throw new FormatException(file, "file ends after " + magic.length + " of the 4 magic-number bytes" + unpacked);
        int magicNumber = bigEndian(magic, 0);
        if (magic[0] != 0 || magic[1] != 0)
            throw new FormatException(file, String.format("wrong magic number 0x%08X, expected 0x000008nn (0x08 = unsigned bytes, nn = number of dimensions); not an IDX file", magicNumber));
        int type = magic[2] & 0xFF;
        if (type != UNSIGNED_BYTE)
            throw new FormatException(file, String.format("wrong magic number 0x%08X: IDX type code 0x%02X (%s) is not supported, only 0x08 (unsigned byte)", magicNumber, type, typeName(type)));
        int rank = magic[3] & 0xFF;

        // rank × 4 bytes: big-endian dimension sizes, outermost first
        byte[] dimBytes = in.readNBytes(4 * rank);
        if (dimBytes.length < 4 * rank)
            throw new FormatException(file, "file ends after " + dimBytes.length + " of the " + 4 * rank + " dimension bytes" + unpacked);
        int[] dims = new int[rank];
        long count = 1;
        for (int i = 0; i < rank; i++) {
            long d = bigEndian(dimBytes, 4 * i) & 0xFFFFFFFFL;
            if (d > Integer.MAX_VALUE) throw new FormatException(file, "dimension " + i + " is " + d + ", over 2^31-1");
            dims[i] = (int) d;
            try {
                count = Math.multiplyExact(count, d); // up to 255 factors below 2^31: the product can overflow a long
            } catch (ArithmeticException overflow) {
                throw new FormatException(file, "dimensions describe more bytes than a 64-bit count holds");
            }
        }
        if (count > Integer.MAX_VALUE - 8)
            throw new FormatException(file, "dimensions " + Arrays.toString(dims) + " describe " + count + " bytes; arrays over 2^31 bytes are not supported");

        // count bytes: the values, row-major
        long header = 4 + 4L * rank;
        if (size >= 0) {
            // the size is known: answer without reading (or allocating for) a body that is not there
            if (size - header < count) throw new FormatException(file, "file ends after " + (size - header) + " of " + count + " data bytes");
            if (size - header > count) throw new FormatException(file, (size - header - count) + " trailing bytes after the " + count + " data bytes");
        }
        // readNBytes grows its buffer as bytes arrive, so a lying header cannot force a huge allocation
        byte[] data = in.readNBytes((int) count);
        if (data.length < count)
            throw new FormatException(file, "file ends after " + data.length + " of " + count + " data bytes" + unpacked);
        long trailing = in.transferTo(OutputStream.nullOutputStream());
        if (trailing > 0) throw new FormatException(file, trailing + " trailing bytes after the " + count + " data bytes" + unpacked);
        return new IdxArray(dims, data);
    }

    private static int bigEndian(byte[] b, int at) {
        return (b[at] & 0xFF) << 24 | (b[at + 1] & 0xFF) << 16 | (b[at + 2] & 0xFF) << 8 | (b[at + 3] & 0xFF);
    }

    private static String typeName(int type) {
        return switch (type) {
            case 0x09 -> "signed byte";
            case 0x0B -> "16-bit integer";
            case 0x0C -> "32-bit integer";
            case 0x0D -> "32-bit float";
            case 0x0E -> "64-bit float";
            default -> "unknown";
        };
    }
}
