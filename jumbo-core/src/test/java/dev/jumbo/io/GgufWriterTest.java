package dev.jumbo.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GgufWriterTest {
    @TempDir
    Path dir;

    /** Every field of {@code g} put into a new writer with its own type, every tensor added with its bytes. */
    static GgufWriter copyOf(GgufFile g) throws IOException {
        GgufWriter w = new GgufWriter();
        for (GgufField f : g.fields()) {
            if (f.type() == GgufValueType.ARRAY) w.putArray(f.key(), f.itemType(), g.array(f.key()));
            else w.put(f.key(), f.type(), g.value(f.key()));
        }
        for (GgufTensor t : g.tensors()) w.addTensor(t.name(), t.type(), t.dims(), g.data(t));
        return w;
    }

    @Test
    void roundTripKeepsEveryValueTypeAndTheTensorBytes() throws IOException {
        Random random = new Random(7);
        byte[] q8 = new byte[3 * 34], q4k = new byte[2 * 144], mxfp4 = new byte[17], f16 = new byte[6];
        random.nextBytes(q8);
        random.nextBytes(q4k);
        random.nextBytes(mxfp4);
        random.nextBytes(f16);
        GgufWriter w = new GgufWriter()
                .put("general.architecture", "llama")
                .put(Gguf.ALIGNMENT_KEY, GgufValueType.UINT32, 64)
                .put("u8", GgufValueType.UINT8, 200).put("i8", GgufValueType.INT8, -3)
                .put("u16", GgufValueType.UINT16, 60000).put("i16", GgufValueType.INT16, -300)
                .put("u32", GgufValueType.UINT32, 4_000_000_000L).put("i32", GgufValueType.INT32, -7)
                .put("u64", GgufValueType.UINT64, -2L).put("i64", GgufValueType.INT64, 1L << 50)
                .put("f32", GgufValueType.FLOAT32, 1e-5f).put("f64", GgufValueType.FLOAT64, Math.PI)
                .put("bool", GgufValueType.BOOL, true)
                .put("unicode ✓", "ünï\ncode \"quoted\" 😀")
                .putArray("tokens", GgufValueType.STRING, List.of("<unk>", "▁a", "", "😀"))
                .putArray("scores", GgufValueType.FLOAT32, List.of(0f, -1.5f, Float.NaN))
                .putArray("types", GgufValueType.INT32, List.of(1, 2, 3))
                .putArray("flags", GgufValueType.BOOL, List.of(true, false))
                .putArray("u64s", GgufValueType.UINT64, List.of(-1L, 0L))
                .putArray("none", GgufValueType.FLOAT64, List.of())
                .addTensor("q8", GgmlType.Q8_0, new long[] {32, 3}, q8)
                .addTensor("q4k", GgmlType.Q4_K, new long[] {256, 1, 2}, q4k)
                .addTensor("mx", GgmlType.MXFP4, new long[] {32}, mxfp4)
                .addTensor("empty", GgmlType.F32, new long[] {0, 5}, new byte[0])
                .addTensor("h", GgmlType.F16, new long[] {3}, f16);
        Path p = dir.resolve("all.gguf");
        w.write(p);
        try (GgufFile g = Gguf.open(p)) {
            assertThat(g.version()).isEqualTo(3);
            assertThat(g.alignment()).isEqualTo(64);
            assertThat(g.dataOffset() % 64).isZero();
            assertThat(g.fields()).extracting(GgufField::key).containsExactly("general.architecture", Gguf.ALIGNMENT_KEY,
                    "u8", "i8", "u16", "i16", "u32", "i32", "u64", "i64", "f32", "f64", "bool", "unicode ✓",
                    "tokens", "scores", "types", "flags", "u64s", "none");
            assertThat(g.value("u8")).isEqualTo(200);
            assertThat(g.value("i8")).isEqualTo(-3);
            assertThat(g.value("u16")).isEqualTo(60000);
            assertThat(g.value("i16")).isEqualTo(-300);
            assertThat(g.value("u32")).isEqualTo(4_000_000_000L);
            assertThat(g.value("i32")).isEqualTo(-7);
            assertThat(g.value("u64")).isEqualTo(-2L);
            assertThat(g.value("i64")).isEqualTo(1L << 50);
            assertThat(g.value("f32")).isEqualTo(1e-5f);
            assertThat(g.value("f64")).isEqualTo(Math.PI);
            assertThat(g.value("bool")).isEqualTo(true);
            assertThat(g.string("unicode ✓")).isEqualTo("ünï\ncode \"quoted\" 😀");
            assertThat(g.strings("tokens")).containsExactly("<unk>", "▁a", "", "😀");
            assertThat(g.floats("scores")).containsExactly(0f, -1.5f, Float.NaN);
            assertThat(g.array("flags")).isEqualTo(List.of(true, false));
            assertThat(g.array("u64s")).isEqualTo(List.of(-1L, 0L));
            assertThat(g.array("none")).isEmpty();
            assertThat(g.tensors()).extracting(GgufTensor::name).containsExactly("q8", "q4k", "mx", "empty", "h");
            assertThat(g.tensorInfo("q4k").dims()).containsExactly(256, 1, 2);
            assertThat(g.data(g.tensorInfo("q8")).toArray(ValueLayout.JAVA_BYTE)).isEqualTo(q8);
            assertThat(g.data(g.tensorInfo("q4k")).toArray(ValueLayout.JAVA_BYTE)).isEqualTo(q4k);
            assertThat(g.data(g.tensorInfo("mx")).toArray(ValueLayout.JAVA_BYTE)).isEqualTo(mxfp4);
            assertThat(g.data(g.tensorInfo("h")).toArray(ValueLayout.JAVA_BYTE)).isEqualTo(f16);
            for (GgufTensor t : g.tensors()) assertThat(t.offset() % 64).as(t.name()).isZero();

            // and what was read writes back to the same bytes
            Path again = dir.resolve("again.gguf");
            copyOf(g).write(again);
            assertThat(Files.readAllBytes(again)).isEqualTo(Files.readAllBytes(p));
        }
    }

    @Test
    void rewritesAFileFromLlamaCppToTheSameBytes() throws IOException {
        // llama.cpp's writer lays out metadata, infos, padding and data exactly as ours does
        Path original = GgufTest.sharedData().resolve("llama2c/stories260K.gguf");
        Path copy = dir.resolve("copy.gguf");
        try (GgufFile g = Gguf.open(original)) {
            copyOf(g).write(copy);
        }
        assertThat(Files.readAllBytes(copy)).isEqualTo(Files.readAllBytes(original));
    }

    @Test
    void anEmptyWriterWritesAValidFile() throws IOException {
        Path p = dir.resolve("empty.gguf");
        new GgufWriter().write(p);
        assertThat(Files.readAllBytes(p)).isEqualTo(GgufBytes.header(3, 0, 0).pad(32).build());
        try (GgufFile g = Gguf.open(p)) {
            assertThat(g.fields()).isEmpty();
            assertThat(g.tensors()).isEmpty();
        }
    }

    @Test
    void refusesValuesThatDoNotFitTheirType() {
        GgufWriter w = new GgufWriter();
        assertThatThrownBy(() -> w.put("k", GgufValueType.UINT8, 256)).isInstanceOf(IllegalArgumentException.class).hasMessage("key \"k\": 256 does not fit UINT8");
        assertThatThrownBy(() -> w.put("k", GgufValueType.INT8, -129)).hasMessageContaining("does not fit INT8");
        assertThatThrownBy(() -> w.put("k", GgufValueType.UINT32, -1)).hasMessageContaining("-1 does not fit UINT32");
        assertThatThrownBy(() -> w.put("k", GgufValueType.UINT32, 1.5)).hasMessage("key \"k\": a Double cannot be written as UINT32");
        assertThatThrownBy(() -> w.put("k", GgufValueType.BOOL, 1)).hasMessage("key \"k\": a Integer cannot be written as BOOL");
        assertThatThrownBy(() -> w.put("k", GgufValueType.STRING, null)).hasMessage("key \"k\": a null cannot be written as STRING");
        assertThatThrownBy(() -> w.put("k", "\uD800")).hasMessageContaining("not valid Unicode");
        assertThatThrownBy(() -> w.put("k", GgufValueType.ARRAY, List.of())).hasMessageContaining("use putArray");
        assertThatThrownBy(() -> w.putArray("k", GgufValueType.ARRAY, List.of(List.of()))).hasMessageContaining("nested arrays are not written");
        assertThatThrownBy(() -> w.putArray("k", GgufValueType.INT32, List.of(1, "2"))).hasMessage("key \"k[1]\": a String cannot be written as INT32");
        assertThatThrownBy(() -> w.put("", "v")).hasMessage("metadata keys cannot be empty");
        assertThatThrownBy(() -> w.put("k".repeat(65536), "v")).hasMessageContaining("keys are at most 65535 bytes");
        assertThatThrownBy(() -> w.put(Gguf.ALIGNMENT_KEY, GgufValueType.UINT32, 48)).hasMessageContaining("48 is not a power of two");
        assertThatThrownBy(() -> w.put(Gguf.ALIGNMENT_KEY, GgufValueType.UINT64, 64)).hasMessageContaining("must be UINT32");
        w.put("k", "v");
        assertThatThrownBy(() -> w.put("k", "w")).hasMessage("key \"k\" was already put");
    }

    @Test
    void refusesTensorsLlamaCppCouldNotRead() {
        GgufWriter w = new GgufWriter();
        assertThatThrownBy(() -> w.addTensor("n".repeat(64), GgmlType.F32, new long[] {1}, new byte[4]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("names are at most 63 bytes");
        w.addTensor("n".repeat(63), GgmlType.F32, new long[] {1}, new byte[4]);
        assertThatThrownBy(() -> w.addTensor("n".repeat(63), GgmlType.F32, new long[] {1}, new byte[4])).hasMessageContaining("was already added");
        assertThatThrownBy(() -> w.addTensor("t", GgmlType.F32, new long[] {1, 1, 1, 1, 1}, new byte[4])).hasMessageContaining("5 dimensions; at most 4");
        assertThatThrownBy(() -> w.addTensor("t", GgmlType.F32, new long[] {-1}, new byte[4])).hasMessageContaining("negative dimension");
        assertThatThrownBy(() -> w.addTensor("t", GgmlType.Q8_0, new long[] {16, 2}, new byte[34])).hasMessageContaining("Q8_0 rows of 16 values are not a whole number of blocks of 32");
        assertThatThrownBy(() -> w.addTensor("t", GgmlType.F16, new long[] {3}, new byte[4])).hasMessage("tensor \"t\": F16 [3] takes 6 bytes, not 4");
    }

    @Test
    void aFailedWriteLeavesThePreviousFileWhole() throws IOException {
        Path p = dir.resolve("model.gguf");
        new GgufWriter().put("version", "old").write(p);
        byte[] before = Files.readAllBytes(p);
        MemorySegment gone;
        try (Arena arena = Arena.ofConfined()) {
            gone = arena.allocate(4);
        }
        GgufWriter w = new GgufWriter().put("version", "new").addTensor("t", GgmlType.F32, new long[] {1}, gone);
        assertThatThrownBy(() -> w.write(p)).isInstanceOf(IllegalStateException.class);
        assertThat(Files.readAllBytes(p)).isEqualTo(before);
        List<Path> left = new ArrayList<>();
        try (var files = Files.list(dir)) {
            files.forEach(left::add);
        }
        assertThat(left).containsExactly(p); // no temporary file left behind
    }

    @Test
    void streamedTensorsAreWrittenWhenTheFileIsAndGiveTheSameBytes() throws IOException {
        byte[] q8 = new byte[4 * 34], f32 = new byte[4 * 3];
        new Random(3).nextBytes(q8);
        new Random(4).nextBytes(f32);
        Path fromArrays = dir.resolve("arrays.gguf"), streamed = dir.resolve("streamed.gguf");
        new GgufWriter().put("k", "v").addTensor("q", GgmlType.Q8_0, new long[] {64, 2}, q8).addTensor("f", GgmlType.F32, new long[] {3}, f32)
                .write(fromArrays);
        int[] calls = new int[1];
        GgufWriter w = new GgufWriter().put("k", "v")
                .addTensor("q", GgmlType.Q8_0, new long[] {64, 2}, out -> {
                    calls[0]++;
                    for (int at = 0; at < q8.length; at += 34) out.write(q8, at, 34); // a block at a time
                })
                .addTensor("f", GgmlType.F32, new long[] {3}, out -> {
                    for (byte b : f32) out.write(b);
                    out.close(); // harmless: the file's stream stays open
                });
        assertThat(calls[0]).as("nothing is asked for before write").isZero();
        w.write(streamed);
        assertThat(calls[0]).isEqualTo(1);
        assertThat(Files.readAllBytes(streamed)).isEqualTo(Files.readAllBytes(fromArrays));
        w.write(streamed); // a writer may write the file again: each write asks again
        assertThat(calls[0]).isEqualTo(2);
    }

    @Test
    void aStreamedTensorThatFailsOrWritesTheWrongSizeLeavesThePreviousFile() throws IOException {
        Path p = dir.resolve("model.gguf");
        new GgufWriter().put("version", "old").write(p);
        byte[] before = Files.readAllBytes(p);
        GgufWriter failing = new GgufWriter().put("version", "new")
                .addTensor("a", GgmlType.F32, new long[] {1024}, out -> out.write(new byte[4096]))
                .addTensor("b", GgmlType.F32, new long[] {1024}, out -> {
                    out.write(new byte[2048]);
                    throw new IOException("disk gone half-way through b");
                });
        assertThatThrownBy(() -> failing.write(p)).isInstanceOf(IOException.class).hasMessage("disk gone half-way through b");
        assertThat(Files.readAllBytes(p)).isEqualTo(before);
        GgufWriter tooShort = new GgufWriter().put("version", "new").addTensor("short", GgmlType.F16, new long[] {3, 2}, out -> out.write(new byte[10]));
        assertThatThrownBy(() -> tooShort.write(p)).isInstanceOf(IllegalStateException.class)
                .hasMessage("tensor \"short\": F16 [3, 2] takes 12 bytes; its TensorBytes wrote 10");
        GgufWriter tooLong = new GgufWriter().addTensor("long", GgmlType.F32, new long[] {1}, out -> out.write(new byte[8]));
        assertThatThrownBy(() -> tooLong.write(p)).hasMessageContaining("takes 4 bytes; its TensorBytes wrote 8");
        assertThat(Files.readAllBytes(p)).isEqualTo(before);
        try (var files = Files.list(dir)) {
            assertThat(files.toList()).containsExactly(p); // no temporary file left behind
        }
    }

    @Test
    void rewritesAFileFromItsOwnMapping() throws IOException {
        // the tensors' segments map the file being replaced: the new file goes to a temporary name first
        Path p = dir.resolve("model.gguf");
        new GgufWriter().addTensor("t", GgmlType.F32, new long[] {2}, new byte[] {1, 2, 3, 4, 5, 6, 7, 8}).write(p);
        try (GgufFile g = Gguf.open(p)) {
            copyOf(g).put("added", "yes").write(p);
        }
        try (GgufFile g = Gguf.open(p)) {
            assertThat(g.string("added")).isEqualTo("yes");
            assertThat(g.data(g.tensorInfo("t")).toArray(ValueLayout.JAVA_BYTE)).containsExactly(1, 2, 3, 4, 5, 6, 7, 8);
        }
    }
}
