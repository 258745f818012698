package dev.jumbo.io;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Whatever bytes a GGUF file holds, opening and reading it either succeeds or throws
 * {@link FormatException}: never an index, arithmetic, cast, stack or out-of-memory error. A file
 * that reads also writes back and reads again to the same metadata and tensor bytes. The
 * {@code @FuzzTest} replays its stored inputs in the normal build and fuzzes with
 * {@code JAZZER_FUZZ=1}; the seeded test below mutates valid files on every build.
 */
class GgufFuzzTest {
    private static Path scratch;

    @FuzzTest(maxDuration = "60s")
    void readNeverThrowsAnythingButFormatException(byte[] input) throws IOException {
        check(input);
    }

    @Test
    void randomBytesAndMutationsOfAValidFileOnlyThrowFormatException() throws IOException {
        Random random = new Random(4321);
        byte[] valid = validFile();
        check(valid);
        long[] interesting = {0, 1, 2, 3, 4, 12, 31, 32, 33, 64, 255, 1L << 30, (1L << 30) + 1, 1L << 31, 1L << 32, 1L << 61, 1L << 62,
            Long.MAX_VALUE, Long.MIN_VALUE, -1, -32};
        for (int i = 0; i < 1000; i++) {
            byte[] b = valid.clone();
            for (int k = 1 + random.nextInt(3); k > 0 && b.length > 0; k--) {
                int at = random.nextInt(b.length);
                switch (random.nextInt(6)) {
                    case 0 -> b[at] ^= (byte) (1 << random.nextInt(8));
                    case 1 -> b[at] = (byte) random.nextInt(256);
                    case 2 -> b = Arrays.copyOf(b, at); // truncate
                    case 3 -> b = Arrays.copyOf(b, b.length + 1 + random.nextInt(40)); // append zeros
                    default -> {
                        // a count, length, dimension or offset replaced by a value that has broken readers before
                        long v = interesting[random.nextInt(interesting.length)];
                        int width = random.nextBoolean() ? 8 : 4;
                        if (at + width <= b.length) {
                            ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
                            if (width == 8) bb.putLong(at, v);
                            else bb.putInt(at, (int) v);
                        }
                    }
                }
            }
            check(b);
        }
        for (int i = 0; i < 300; i++) {
            byte[] b = new byte[random.nextInt(96)];
            random.nextBytes(b);
            if (b.length >= 24 && random.nextBoolean()) {
                // a real header, so the fuzzing reaches the entries
                ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
                bb.put(0, "GGUF".getBytes()).putInt(4, 3).putLong(8, random.nextInt(3)).putLong(16, random.nextInt(3));
            }
            check(b);
        }
    }

    @Test
    void theStoredValidInputsAreValid() throws Exception {
        // so that the replayed inputs reach past the header checks
        Path inputs = Path.of(GgufFuzzTest.class.getResource("GgufFuzzTestInputs/readNeverThrowsAnythingButFormatException").toURI());
        List<String> valid = new ArrayList<>();
        try (var files = Files.list(inputs)) {
            for (Path f : files.toList()) {
                if (!f.getFileName().toString().startsWith("valid-")) continue;
                try (GgufFile g = Gguf.open(f)) {
                    assertThat(g.fields()).isNotEmpty();
                }
                valid.add(f.getFileName().toString());
            }
        }
        assertThat(valid).hasSize(4);
    }

    /** A file with metadata of several types, a vocabulary and tensors in several types: the mutations start from here. */
    static byte[] validFile() throws IOException {
        Path p = scratch().resolveSibling("valid.gguf");
        new GgufWriter()
                .put("general.architecture", "llama")
                .put("llama.block_count", GgufValueType.UINT32, 2)
                .put("llama.attention.layer_norm_rms_epsilon", GgufValueType.FLOAT32, 1e-5f)
                .put("big", GgufValueType.UINT64, -1L)
                .put("flag", GgufValueType.BOOL, true)
                .putArray("tokenizer.ggml.tokens", GgufValueType.STRING, List.of("<unk>", "▁a", "b"))
                .putArray("tokenizer.ggml.scores", GgufValueType.FLOAT32, List.of(0f, -1f, -2f))
                .putArray("tokenizer.ggml.token_type", GgufValueType.INT32, List.of(2, 1, 1))
                .addTensor("norm", GgmlType.F32, new long[] {4}, new byte[16])
                .addTensor("w", GgmlType.Q8_0, new long[] {32, 2}, new byte[68])
                .addTensor("h", GgmlType.F16, new long[] {2, 2}, new byte[8])
                .write(p);
        return Files.readAllBytes(p);
    }

    private static void check(byte[] bytes) throws IOException {
        Path p = scratch();
        Files.write(p, bytes);
        GgufFile g;
        try {
            g = Gguf.open(p);
        } catch (FormatException expected) {
            return;
        }
        try (g) {
            List<Object> values = new ArrayList<>();
            boolean writable = true;
            for (GgufField f : g.fields()) {
                values.add(g.value(f.key()));
                readTyped(g, f);
                writable &= f.itemType() != GgufValueType.ARRAY; // nested arrays are read, not written
            }
            for (GgufTensor t : g.tensors()) {
                var data = g.data(t);
                if (t.byteSize() > 0) data.get(ValueLayout.JAVA_BYTE, t.byteSize() - 1);
                try {
                    if (!t.type().isQuantized() && t.elements() <= 1 << 16) g.tensor(t.name());
                } catch (FormatException tooLarge) {
                    assertThat(tooLarge.problem()).contains("over 2^31-1"); // a huge dimension beside a zero one
                }
                try {
                    g.matrix(t.name());
                } catch (FormatException notAMatrix) {
                    assertThat(notAMatrix.problem()).containsAnyOf("not a matrix", "cannot compute with", "not supported");
                }
                writable &= t.name().getBytes(java.nio.charset.StandardCharsets.UTF_8).length <= GgufWriter.MAX_NAME_BYTES;
            }
            if (!writable) return;
            Path copy = p.resolveSibling("copy.gguf");
            GgufWriterTest.copyOf(g).write(copy);
            try (GgufFile again = Gguf.open(copy)) {
                assertThat(again.fields()).isEqualTo(g.fields());
                for (int i = 0; i < values.size(); i++)
                    assertThat(Objects.equals(again.value(again.fields().get(i).key()), values.get(i))).as(again.fields().get(i).key()).isTrue();
                assertThat(again.tensors()).hasSameSizeAs(g.tensors());
                for (int i = 0; i < g.tensors().size(); i++) {
                    GgufTensor a = g.tensors().get(i), b = again.tensors().get(i);
                    assertThat(b.name()).isEqualTo(a.name());
                    assertThat(b.dims()).isEqualTo(a.dims());
                    assertThat(again.data(b).mismatch(g.data(a))).isEqualTo(-1);
                }
            }
        }
    }

    /** Every typed accessor that fits the field; only an integer that does not fit may be refused. */
    private static void readTyped(GgufFile g, GgufField f) throws FormatException {
        String key = f.key();
        GgufValueType type = f.type();
        try {
            if (type.isInteger()) g.integer(key);
            if (type.isInteger() || type == GgufValueType.FLOAT32 || type == GgufValueType.FLOAT64) g.number(key);
            if (type == GgufValueType.STRING) g.string(key);
            if (type == GgufValueType.BOOL) g.bool(key);
            if (type == GgufValueType.ARRAY) {
                g.array(key);
                if (f.itemType() == GgufValueType.STRING) g.strings(key);
                if (f.itemType() == GgufValueType.FLOAT32 || f.itemType() == GgufValueType.FLOAT64) g.floats(key);
                if (f.itemType().isInteger()) g.ints(key);
            }
        } catch (FormatException e) {
            assertThat(e.problem()).contains("more than");
        }
    }

    /** One file reused for every input: fuzzing runs millions, and a fuzz test has no @TempDir. */
    private static synchronized Path scratch() {
        if (scratch == null) {
            try {
                Path dir = Files.createTempDirectory("gguf-fuzz");
                dir.toFile().deleteOnExit();
                scratch = dir.resolve("input.gguf");
                for (String name : new String[] {"input.gguf", "copy.gguf", "valid.gguf"}) dir.resolve(name).toFile().deleteOnExit();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return scratch;
    }
}
