package dev.jumbo.data;

import static dev.jumbo.data.IdxFiles.gzip;
import static dev.jumbo.data.IdxFiles.idx;
import static dev.jumbo.data.IdxFiles.ubyte;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumbo.io.FormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxTest {
    @TempDir
    Path dir;

    private Path file(String name, byte[] bytes) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    private void rejects(byte[] bytes, String problem) throws IOException {
        Path p = file("bad-idx", bytes);
        assertThatThrownBy(() -> Idx.read(p))
                .isInstanceOfSatisfying(FormatException.class, e -> assertThat(e.file()).isEqualTo(p))
                .hasMessage(p + ": " + problem);
    }

    @Test
    void readsDimensionsAndUnsignedBytes() throws IOException {
        byte[] data = {0, 1, 2, 3, 4, (byte) 255};
        IdxArray a = Idx.read(file("a-idx2-ubyte", ubyte(new int[] {2, 3}, data)));
        assertThat(a.dims()).containsExactly(2, 3);
        assertThat(a.data()).containsExactly(data);
        assertThat(a.data()[5] & 0xFF).isEqualTo(255);
        assertThat(a).isEqualTo(new IdxArray(new int[] {2, 3}, data.clone()));
    }

    @Test
    void detectsGzipByItsMagicWhateverTheName() throws IOException {
        byte[] plain = ubyte(new int[] {4}, new byte[] {9, 8, 7, 6});
        IdxArray a = Idx.read(file("labels-without-gz-suffix", gzip(plain)));
        assertThat(a.dims()).containsExactly(4);
        assertThat(a.data()).containsExactly(9, 8, 7, 6);
    }

    @Test
    void acceptsEmptyArrays() throws IOException {
        assertThat(Idx.read(file("empty", ubyte(new int[] {0, 28, 28}, new byte[0]))).data()).isEmpty();
    }

    @Test
    void rejectsAWrongMagicNumber() throws IOException {
        rejects(new byte[] {0x12, 0x34, 8, 1, 0, 0, 0, 0},
                "wrong magic number 0x12340801, expected 0x000008nn (0x08 = unsigned bytes, nn = number of dimensions); not an IDX file");
    }

    @Test
    void rejectsTypesOtherThanUnsignedByteNamingTheTypeCode() throws IOException {
        rejects(idx(0x0D, new int[] {1}, new byte[4]),
                "wrong magic number 0x00000D01: IDX type code 0x0D (32-bit float) is not supported, only 0x08 (unsigned byte)");
    }

    @Test
    void rejectsAShortRead() throws IOException {
        byte[] whole = ubyte(new int[] {10}, new byte[10]);
        rejects(Arrays.copyOf(whole, whole.length - 6), "file ends after 4 of 10 data bytes");
        rejects(gzip(Arrays.copyOf(whole, whole.length - 6)), "file ends after 4 of 10 data bytes (after decompression)");
        rejects(Arrays.copyOf(whole, 6), "file ends after 2 of the 4 dimension bytes");
        rejects(new byte[] {0, 0}, "file ends after 2 of the 4 magic-number bytes");
        rejects(new byte[0], "file ends after 0 of the 4 magic-number bytes");
    }

    @Test
    void rejectsTrailingBytes() throws IOException {
        byte[] withExtra = Arrays.copyOf(ubyte(new int[] {2}, new byte[] {1, 2}), 4 + 4 + 2 + 3);
        rejects(withExtra, "3 trailing bytes after the 2 data bytes");
        rejects(gzip(withExtra), "3 trailing bytes after the 2 data bytes (after decompression)");
    }

    @Test
    void rejectsCorruptGzip() throws IOException {
        byte[] gz = gzip(ubyte(new int[] {1000}, new byte[1000]));
        Path p = file("cut.gz", Arrays.copyOf(gz, gz.length / 2));
        assertThatThrownBy(() -> Idx.read(p)).isInstanceOf(FormatException.class).hasMessageContaining("corrupt or truncated gzip data");
        Path q = file("two-bytes.gz", new byte[] {0x1f, (byte) 0x8b});
        assertThatThrownBy(() -> Idx.read(q)).isInstanceOf(FormatException.class).hasMessageContaining("corrupt or truncated gzip data");
    }

    @Test
    void rejectsDimensionsTooLargeWithoutAllocatingForThem() throws IOException {
        rejects(ubyte(new int[] {-1}, new byte[0]), "dimension 0 is 4294967295, over 2^31-1");
        rejects(ubyte(new int[] {1 << 16, 1 << 16}, new byte[0]), "dimensions [65536, 65536] describe 4294967296 bytes; arrays over 2^31 bytes are not supported");
        int[] many = new int[5];
        Arrays.fill(many, Integer.MAX_VALUE);
        rejects(ubyte(many, new byte[0]), "dimensions describe more bytes than a 64-bit count holds");
        // a gzipped file claiming 2 GB of data but holding none: detected at the end of the stream
        rejects(gzip(ubyte(new int[] {Integer.MAX_VALUE - 8}, new byte[0])), "file ends after 0 of 2147483639 data bytes (after decompression)");
    }
}
