package dev.jumbo.io;

import static dev.jumbo.io.SafetensorsFiles.f32;
import static dev.jumbo.io.SafetensorsFiles.shape;
import static dev.jumbo.io.SafetensorsFiles.u16;
import static dev.jumbo.io.SafetensorsFiles.u8;
import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.jumbo.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Whatever bytes a safetensors file holds, reading it either succeeds or throws
 * {@link FormatException}: never an index, arithmetic, cast or out-of-memory error. A file that
 * reads also writes back and reads again to the same tensors. The {@code @FuzzTest} replays its
 * stored inputs in the normal build and fuzzes with {@code JAZZER_FUZZ=1}; the seeded test below
 * mutates valid files on every build.
 */
class SafetensorsFuzzTest {
    private static Path scratch;

    @FuzzTest(maxDuration = "60s")
    void readNeverThrowsAnythingButFormatException(byte[] input) throws IOException {
        check(input);
    }

    @Test
    void randomBytesAndMutationsOfAValidFileOnlyThrowFormatException() throws IOException {
        Random random = new Random(1234);
        byte[] valid = validFile();
        check(valid);
        byte[] interesting = "{}[],:\"0123456789-. eE".getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < 1500; i++) {
            byte[] b = valid.clone();
            for (int k = 1 + random.nextInt(3); k > 0; k--) {
                int at = random.nextInt(b.length);
                switch (random.nextInt(6)) {
                    case 0 -> b[at] ^= (byte) (1 << random.nextInt(8));
                    case 1 -> b[at] = (byte) random.nextInt(256);
                    case 2 -> b[at] = interesting[random.nextInt(interesting.length)];
                    case 3 -> b = Arrays.copyOf(b, at); // truncate
                    case 4 -> b = Arrays.copyOf(b, b.length + 1 + random.nextInt(16)); // append zeros
                    default -> b = mutateHeaderNumber(b, random);
                }
                if (b.length == 0) break;
            }
            check(b);
        }
        for (int i = 0; i < 300; i++) {
            byte[] b = new byte[random.nextInt(64)];
            random.nextBytes(b);
            if (b.length >= 8 && random.nextBoolean()) b = SafetensorsFiles.build(b.length - 8, Arrays.copyOfRange(b, 8, b.length), new byte[0]);
            check(b);
        }
    }

    /** A file with several dtypes, metadata and a scalar: the mutations start from here. */
    static byte[] validFile() {
        return new SafetensorsFiles()
                .entry("__metadata__", "{\"format\":\"pt\"}", new byte[0])
                .add("w", "F32", shape(2, 2), f32(1, 2, 3, 4))
                .add("h", "F16", shape(3), u16(0x3C00, 0xC000, 0x7E00))
                .add("b", "BF16", shape(1), u16(0x3F80))
                .add("s", "F32", shape(), f32(9))
                .add("u", "U8", shape(2, 1), u8(0, 255))
                .build();
    }

    /** Replaces one number in the header with another, so the JSON stays valid and the offset checks are reached. */
    private static byte[] mutateHeaderNumber(byte[] b, Random random) {
        int end = (int) Math.min(b.length, 8 + 200);
        for (int tries = 0; tries < 20; tries++) {
            int at = 8 + random.nextInt(Math.max(1, end - 8));
            if (at < b.length && b[at] >= '0' && b[at] <= '9') {
                b[at] = (byte) ('0' + random.nextInt(10));
                return b;
            }
        }
        return b;
    }

    private static void check(byte[] bytes) throws IOException {
        Path p = scratch();
        Files.write(p, bytes);
        Map<String, Tensor> tensors;
        try {
            tensors = Safetensors.read(p);
            Safetensors.readMetadata(p);
        } catch (FormatException expected) {
            return;
        }
        Path copy = p.resolveSibling("copy.safetensors");
        Safetensors.write(copy, tensors, Safetensors.readMetadata(p));
        Map<String, Tensor> again = Safetensors.read(copy);
        assertThat(List.copyOf(again.keySet())).isEqualTo(List.copyOf(tensors.keySet()));
        for (String name : tensors.keySet())
            assertThat(again.get(name).toFloatArray()).containsExactly(tensors.get(name).toFloatArray());
    }

    /** One file reused for every input: fuzzing runs millions, and a fuzz test has no @TempDir. */
    private static synchronized Path scratch() {
        if (scratch == null) {
            try {
                Path dir = Files.createTempDirectory("safetensors-fuzz");
                dir.toFile().deleteOnExit();
                scratch = dir.resolve("input.safetensors");
                scratch.toFile().deleteOnExit();
                dir.resolve("copy.safetensors").toFile().deleteOnExit();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return scratch;
    }
}
