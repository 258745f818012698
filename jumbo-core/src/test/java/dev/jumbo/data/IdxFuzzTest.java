package dev.jumbo.data;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.jumbo.io.FormatException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Whatever bytes an IDX file holds, plain or gzipped, {@link Idx#read} returns an array or throws
 * {@link FormatException}, and never allocates for data the file does not hold. The
 * {@code @FuzzTest} replays stored inputs in the normal build and fuzzes with {@code JAZZER_FUZZ=1}.
 */
class IdxFuzzTest {
    private static Path scratch;

    @FuzzTest(maxDuration = "60s")
    void readNeverThrowsAnythingButFormatException(byte[] input) throws IOException {
        check(input);
    }

    @Test
    void mutationsOfValidFilesOnlyThrowFormatException() throws IOException {
        Random random = new Random(99);
        byte[] plain = IdxFiles.ubyte(new int[] {2, 3, 2}, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
        for (byte[] valid : new byte[][] {plain, IdxFiles.gzip(plain)}) {
            for (int i = 0; i < 500; i++) {
                byte[] b = valid.clone();
                int at = random.nextInt(b.length);
                switch (random.nextInt(4)) {
                    case 0 -> b[at] ^= (byte) (1 << random.nextInt(8));
                    case 1 -> b[at] = (byte) random.nextInt(256);
                    case 2 -> b = Arrays.copyOf(b, at);
                    default -> b = Arrays.copyOf(b, b.length + 1 + random.nextInt(8));
                }
                check(b);
            }
        }
    }

    private static void check(byte[] bytes) throws IOException {
        Path p = scratch();
        Files.write(p, bytes);
        try {
            Idx.read(p);
        } catch (FormatException expected) {
            // the only acceptable failure
        }
    }

    /** One file reused for every input: a fuzz test has no @TempDir. */
    private static synchronized Path scratch() {
        if (scratch == null) {
            try {
                scratch = Files.createTempFile("idx-fuzz", ".idx");
                scratch.toFile().deleteOnExit();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return scratch;
    }
}
