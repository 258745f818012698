package dev.jumbo.io;

import static dev.jumbo.io.SafetensorsFiles.f32;
import static dev.jumbo.io.SafetensorsFiles.f64;
import static dev.jumbo.io.SafetensorsFiles.i32;
import static dev.jumbo.io.SafetensorsFiles.i64;
import static dev.jumbo.io.SafetensorsFiles.shape;
import static dev.jumbo.io.SafetensorsFiles.u16;
import static dev.jumbo.io.SafetensorsFiles.u8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumbo.tensor.DType;
import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.tensor.WeightMatrix;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {
    @TempDir
    Path dir;

    private Path file(byte[] bytes) throws IOException {
        Path p = dir.resolve("model.safetensors");
        Files.write(p, bytes);
        return p;
    }

    /** Asserts that reading fails with a FormatException naming the file and containing {@code problem}. */
    private AbstractThrowableAssert<?, ? extends Throwable> rejects(byte[] bytes, String problem) throws IOException {
        Path p = file(bytes);
        assertThatThrownBy(() -> Safetensors.readMetadata(p))
                .isInstanceOf(FormatException.class)
                .hasMessageContaining(problem);
        return assertThatThrownBy(() -> Safetensors.read(p))
                .isInstanceOfSatisfying(FormatException.class, e -> {
                    assertThat(e.file()).isEqualTo(p);
                    assertThat(e.getMessage()).isEqualTo(p + ": " + e.problem()).doesNotContain("\n");
                })
                .hasMessageContaining(problem);
    }

    // ---------------------------------------------------------------- round trip and compatibility

    @Test
    void roundTripKeepsValuesShapesOrderAndMetadata() throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("z.weight", Tensor.of(new float[] {1, -2, 3.5f, Float.MIN_VALUE, Float.MAX_VALUE, -0f}, 2, 3));
        tensors.put("a.bias", Tensor.of(new float[] {7}, new int[0]));
        tensors.put("empty", Tensor.zeros(0, 4));
        tensors.put("view", Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3).transpose(0, 1));
        tensors.put("ünïcode \"name\"", Tensor.ones(3));
        Path p = dir.resolve("out.safetensors");
        Safetensors.write(p, tensors, Map.of("format", "pt"));

        Map<String, Tensor> back = Safetensors.read(p);
        assertThat(List.copyOf(back.keySet())).isEqualTo(List.copyOf(tensors.keySet()));
        for (String name : tensors.keySet()) {
            assertThat(back.get(name).shape()).as(name).isEqualTo(tensors.get(name).shape());
            assertThat(back.get(name).toFloatArray()).as(name).containsExactly(tensors.get(name).toFloatArray());
        }
        assertThat(Safetensors.readMetadata(p)).isEqualTo(Map.of("format", "pt"));
        assertThat(Files.size(p) % 4).isZero();
    }

    @Test
    void writesTheSameBytesAsTheReferenceWriter() throws IOException {
        // the reference serializes {"attn.0": F32 [1, 2, 3]} to a 64-byte header (already aligned) and the data
        Path p = dir.resolve("ref.safetensors");
        Safetensors.write(p, Map.of("attn.0", Tensor.of(new float[] {0, 1, 2, 3, 4, 5}, 1, 2, 3)), null);
        String header = "{\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}";
        assertThat(header).hasSize(64);
        assertThat(Files.readAllBytes(p)).isEqualTo(SafetensorsFiles.build(header, f32(0, 1, 2, 3, 4, 5)));
    }

    @Test
    void padsTheHeaderWithSpacesToEightBytes() throws IOException {
        Path p = dir.resolve("empty.safetensors");
        Safetensors.write(p, Map.of(), null);
        assertThat(Files.readAllBytes(p)).isEqualTo(SafetensorsFiles.build("{}      ", new byte[0]));
        Safetensors.write(p, Map.of(), Map.of("framework", "pt"));
        // 35 bytes of JSON, 5 spaces
        assertThat(Files.readAllBytes(p)).isEqualTo(SafetensorsFiles.build("{\"__metadata__\":{\"framework\":\"pt\"}}     ", new byte[0]));
        assertThat(Safetensors.read(p)).isEmpty();
    }

    @Test
    void readsAPythonStyleFileConvertingEveryDtypeToF32() throws IOException {
        byte[] bytes = new SafetensorsFiles()
                .entry("__metadata__", "{\"format\":\"pt\"}", new byte[0])
                .add("f64", "F64", shape(2), f64(1.5, -1e10))
                .add("i64", "I64", shape(2), i64(-5, 1L << 40))
                .add("f32", "F32", shape(2, 2), f32(1, 2, 3, 4))
                .add("i32", "I32", shape(3), i32(-1, 0, Integer.MAX_VALUE))
                .add("bf16", "BF16", shape(3), u16(0x3F80, 0xC040, 0x4049))
                .add("f16", "F16", shape(2, 2), u16(0x3C00, 0xC000, 0x3555, 0x7C00))
                .add("i8", "I8", shape(2), u8(-128, 127))
                .add("u8", "U8", shape(2), u8(0, 255))
                .add("scalar", "F32", shape(), f32(42))
                .build();
        Path p = file(bytes);
        Map<String, Tensor> t = Safetensors.read(p);
        assertThat(List.copyOf(t.keySet())).isEqualTo(List.of("f64", "i64", "f32", "i32", "bf16", "f16", "i8", "u8", "scalar"));
        assertThat(t.get("f64").toFloatArray()).containsExactly(1.5f, -1e10f);
        assertThat(t.get("i64").toFloatArray()).containsExactly(-5f, (float) (1L << 40));
        assertThat(t.get("f32").shape()).isEqualTo(Shape.of(2, 2));
        assertThat(t.get("f32").toFloatArray()).containsExactly(1, 2, 3, 4);
        assertThat(t.get("i32").toFloatArray()).containsExactly(-1f, 0f, (float) Integer.MAX_VALUE);
        assertThat(t.get("bf16").toFloatArray()).containsExactly(1f, -3f, 3.140625f);
        assertThat(t.get("f16").toFloatArray()).containsExactly(1f, -2f, 0.333251953125f, Float.POSITIVE_INFINITY);
        assertThat(t.get("i8").toFloatArray()).containsExactly(-128, 127);
        assertThat(t.get("u8").toFloatArray()).containsExactly(0, 255);
        assertThat(t.get("scalar").rank()).isZero();
        assertThat(t.get("scalar").item()).isEqualTo(42f);
        assertThat(Safetensors.readMetadata(p)).isEqualTo(Map.of("format", "pt"));
    }

    @Test
    void convertsTheRemainingDtypes() throws IOException {
        byte[] bytes = new SafetensorsFiles()
                .add("u64", "U64", shape(2), i64(7, -1))
                .add("u32", "U32", shape(1), i32(-1))
                .add("i16", "I16", shape(2), u16(0x8000, 0x7FFF))
                .add("u16", "U16", shape(1), u16(0xFFFF))
                .add("e5m2", "F8_E5M2", shape(2), u8(0x3C, 0xC0))
                .add("e4m3", "F8_E4M3", shape(5), u8(0x38, 0x7E, 0x7F, 0x01, 0xB8))
                .add("bool", "BOOL", shape(2), u8(1, 0))
                .build();
        Map<String, Tensor> t = Safetensors.read(file(bytes));
        assertThat(t.get("u64").toFloatArray()).containsExactly(7f, 1.8446744e19f);
        assertThat(t.get("u32").toFloatArray()).containsExactly(4294967295f);
        assertThat(t.get("i16").toFloatArray()).containsExactly(-32768, 32767);
        assertThat(t.get("u16").toFloatArray()).containsExactly(65535);
        assertThat(t.get("e5m2").toFloatArray()).containsExactly(1f, -2f);
        assertThat(t.get("e4m3").toFloatArray()).containsExactly(1f, 448f, Float.NaN, 0.001953125f, -1f);
        assertThat(t.get("bool").toFloatArray()).containsExactly(1, 0);
    }

    @Test
    void matricesOfF32F16AndBf16AreViewsOfTheMappingOthersAreConverted() throws IOException {
        byte[] bytes = new SafetensorsFiles()
                .add("f32", "F32", shape(2, 2), f32(1, 2, 3, 4))
                .add("f16", "F16", shape(1, 2), u16(0x3C00, 0xC000))
                .add("bf16", "BF16", shape(2, 1), u16(0x3F80, 0xC040))
                .add("f64", "F64", shape(1, 2), f64(1.5, -2))
                .add("vector", "F32", shape(2), f32(1, 2))
                .build();
        Path p = file(bytes);
        try (SafetensorsFile f = Safetensors.open(p)) {
            for (String name : List.of("f32", "f16", "bf16")) {
                WeightMatrix m = f.matrix(name);
                assertThat(m.type().name()).isEqualTo(name.toUpperCase(java.util.Locale.ROOT));
                assertThat(m.data().isMapped()).as(name + " is not copied").isTrue();
                assertThat(m.data().heapBase()).isEmpty();
            }
            float[] row = new float[2];
            f.matrix("f32").row(1, row, 0);
            assertThat(row).containsExactly(3, 4);
            f.matrix("f16").row(0, row, 0);
            assertThat(row).containsExactly(1, -2);
            WeightMatrix bf16 = f.matrix("bf16");
            assertThat(new int[] {bf16.rows(), bf16.cols()}).containsExactly(2, 1);
            bf16.row(1, row, 0);
            assertThat(row[0]).isEqualTo(-3f);
            // WeightMatrix has no F64 kernels: converted to F32 on the heap
            WeightMatrix f64 = f.matrix("f64");
            assertThat(f64.type()).isEqualTo(DType.F32);
            assertThat(f64.data().heapBase()).isPresent();
            f64.row(0, row, 0);
            assertThat(row).containsExactly(1.5f, -2f);
            assertThatThrownBy(() -> f.matrix("vector")).isInstanceOf(FormatException.class).hasMessage(p + ": tensor \"vector\" has shape [2], not a matrix");
            WeightMatrix kept = f.matrix("f32");
            f.close();
            assertThatThrownBy(() -> kept.row(0, row, 0)).as("closing unmaps").isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(() -> f.matrix("f32")).isInstanceOf(IllegalStateException.class).hasMessageContaining("is closed");
        }
    }

    @Test
    void acceptsEntriesListedOutOfOffsetOrderAndKeepsFileOrder() throws IOException {
        // the reference sorts by offsets before checking them: only the tiling matters, not the listing
        String header = "{\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
        Map<String, Tensor> t = Safetensors.read(file(SafetensorsFiles.build(header, f32(1, 2))));
        assertThat(List.copyOf(t.keySet())).isEqualTo(List.of("b", "a"));
        assertThat(t.get("a").item()).isEqualTo(1f);
        assertThat(t.get("b").item()).isEqualTo(2f);
    }

    @Test
    void acceptsZeroSizedTensorsSharingAnOffset() throws IOException {
        byte[] bytes = new SafetensorsFiles()
                .add("e1", "F32", shape(0), new byte[0])
                .add("e2", "F16", shape(3, 0), new byte[0])
                .add("x", "F32", shape(1), f32(5))
                .build();
        Map<String, Tensor> t = Safetensors.read(file(bytes));
        assertThat(t.get("e2").shape()).isEqualTo(Shape.of(3, 0));
        assertThat(t.get("x").item()).isEqualTo(5f);
    }

    @Test
    void ignoresUnknownFieldsInAnEntryAndNullMetadata() throws IOException {
        String header = "{\"__metadata__\":null,\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"extra\":1}}";
        Path p = file(SafetensorsFiles.build(header, f32(3)));
        assertThat(Safetensors.read(p).get("a").item()).isEqualTo(3f);
        assertThat(Safetensors.readMetadata(p)).isEmpty();
    }

    // ---------------------------------------------------------------- validation, one rule each

    @Test
    void rejectsAFileTooShortForTheSizeField() throws IOException {
        rejects(new byte[] {8, 0, 0, 0, 0}, "file has 5 bytes, too short for the 8-byte header size");
        rejects(new byte[0], "file has 0 bytes");
    }

    @Test
    void rejectsAHeaderLargerThanTheLimit() throws IOException {
        rejects(SafetensorsFiles.build(100_000_001L, "{}".getBytes(), new byte[0]), "header size 100000001 exceeds the limit of 100000000 bytes");
        rejects(SafetensorsFiles.build(-1L, "{}".getBytes(), new byte[0]), "header size 18446744073709551615 exceeds the limit");
    }

    @Test
    void rejectsATruncatedHeader() throws IOException {
        rejects(SafetensorsFiles.build(100, "{\"a\":".getBytes(), new byte[0]), "header size 100 runs past the end of the file (13 bytes)");
    }

    @Test
    void rejectsTruncatedData() throws IOException {
        byte[] whole = new SafetensorsFiles().add("w", "F32", shape(4), f32(1, 2, 3, 4)).build();
        byte[] cut = java.util.Arrays.copyOf(whole, whole.length - 3);
        rejects(cut, "tensor data ends at byte 16 of the data buffer, past its end: the file holds 13 data bytes");
    }

    @Test
    void rejectsAHeaderThatIsNotUtf8() throws IOException {
        byte[] header = "{\"a\u00ff\":1}".getBytes(StandardCharsets.ISO_8859_1); // a lone 0xFF byte
        rejects(SafetensorsFiles.build(header.length, header, new byte[0]), "header is not valid UTF-8 (at header byte 3)");
    }

    @Test
    void rejectsAHeaderNotStartingWithABrace() throws IOException {
        rejects(SafetensorsFiles.build(" {}     ", new byte[0]), "header does not start with '{'");
        rejects(SafetensorsFiles.build("", new byte[0]), "header does not start with '{'");
    }

    @Test
    void rejectsBadJson() throws IOException {
        rejects(SafetensorsFiles.build("{\"a\":}  ", new byte[0]), "header is not valid JSON: at line 1 column 6: unexpected '}', expected a value");
        rejects(SafetensorsFiles.build("{} x    ", new byte[0]), "header is not valid JSON: at line 1 column 4");
    }

    @Test
    void rejectsDuplicateNames() throws IOException {
        String entry = "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}";
        rejects(SafetensorsFiles.build("{\"a\":" + entry + ",\"a\":" + entry + "}", f32(1)), "duplicate key \"a\"");
    }

    @Test
    void rejectsAnUnknownDtypeByName() throws IOException {
        byte[] bytes = new SafetensorsFiles().add("w", "Q4_K", shape(2), u8(0, 0)).build();
        rejects(bytes, "tensor \"w\": unknown dtype \"Q4_K\"");
    }

    @Test
    void rejectsMissingOrMistypedFields() throws IOException {
        rejects(SafetensorsFiles.build("{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", f32(1)), "tensor \"w\": missing dtype");
        rejects(SafetensorsFiles.build("{\"w\":{\"dtype\":3,\"shape\":[1],\"data_offsets\":[0,4]}}", f32(1)), "tensor \"w\": dtype is not a string");
        rejects(SafetensorsFiles.build("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", f32(1)), "tensor \"w\": missing shape");
        rejects(SafetensorsFiles.build("{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", f32(1)),
                "tensor \"w\": shape is not a list of non-negative integers (item 0 is -1)");
        rejects(SafetensorsFiles.build("{\"w\":{\"dtype\":\"F32\",\"shape\":[1.0],\"data_offsets\":[0,4]}}", f32(1)), "shape is not a list");
        rejects(SafetensorsFiles.build("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", f32(1)),
                "tensor \"w\": data_offsets is not a list of 2 non-negative integers");
        rejects(SafetensorsFiles.build("{\"w\":[1]}", f32(1)), "tensor \"w\": entry is not an object");
        rejects(SafetensorsFiles.build("{\"__metadata__\":{\"k\":1}}", new byte[0]), "__metadata__ value for \"k\" is not a string");
        rejects(SafetensorsFiles.build("{\"__metadata__\":[]}", new byte[0]), "__metadata__ is not an object");
    }

    @Test
    void rejectsOverlappingOffsets() throws IOException {
        String header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}";
        rejects(SafetensorsFiles.build(header, f32(1, 2, 3)), "tensor \"b\": data_offsets [4, 12] overlap tensor \"a\", which ends at 8");
    }

    @Test
    void rejectsGappedOffsets() throws IOException {
        String header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}";
        rejects(SafetensorsFiles.build(header, f32(1, 2, 3)), "tensor \"b\": data_offsets [8, 12] leave a gap: tensor \"a\" ends at 4");
        String late = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}";
        rejects(SafetensorsFiles.build(late, f32(1, 2)), "tensor \"a\": data_offsets [4, 8] leave a gap: the data buffer starts at 0");
    }

    @Test
    void rejectsOffsetsThatEndBeforeTheyBegin() throws IOException {
        String header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}";
        rejects(SafetensorsFiles.build(header, f32(1)), "tensor \"a\": data_offsets [4, 0] end before they begin");
    }

    @Test
    void rejectsUnsortedOffsetsThatDoNotTileTheBuffer() throws IOException {
        // listed out of order, and sorted they still overlap: the check runs on the sorted entries
        String header = "{\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        rejects(SafetensorsFiles.build(header, f32(1, 2, 3)), "tensor \"b\": data_offsets [4, 12] overlap tensor \"a\"");
    }

    @Test
    void rejectsASizeThatDoesNotMatchShapeAndDtype() throws IOException {
        byte[] bytes = new SafetensorsFiles().entry("w", "{\"dtype\":\"F16\",\"shape\":[2,3],\"data_offsets\":[0,8]}", new byte[8]).build();
        rejects(bytes, "tensor \"w\": data_offsets [0, 8] hold 8 bytes, but shape [2, 3] of F16 needs 12");
    }

    @Test
    void rejectsShapeProductsThatOverflow() throws IOException {
        String elements = "{\"w\":{\"dtype\":\"U8\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,1]}}";
        rejects(SafetensorsFiles.build(elements, u8(0)), "tensor \"w\": shape [4294967296, 4294967296] has more elements than a 64-bit count holds");
        String bytes = "{\"w\":{\"dtype\":\"F64\",\"shape\":[2305843009213693952],\"data_offsets\":[0,1]}}";
        rejects(SafetensorsFiles.build(bytes, u8(0)), "tensor \"w\": shape [2305843009213693952] of F64 overflows a 64-bit byte count");
    }

    @Test
    void rejectsADataBufferNotFullyCovered() throws IOException {
        String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
        rejects(SafetensorsFiles.build(header, f32(1, 2)), "tensors cover 4 of the 8 bytes in the data buffer; the rest is unaccounted for");
    }

    @Test
    void rejectsTensorsOverTwoBillionElementsButReadsTheirMetadata() throws IOException {
        // 2^31 one-byte elements: a sparse file of just over 2 GB, which exercises 64-bit offsets too
        long n = 1L << 31;
        String header = "{\"__metadata__\":{\"k\":\"v\"},\"big\":{\"dtype\":\"U8\",\"shape\":[" + n + "],\"data_offsets\":[0," + n + "]}}";
        header += " ".repeat((8 - header.length() % 8) % 8);
        Path p = file(SafetensorsFiles.build(header, new byte[0]));
        try (RandomAccessFile raf = new RandomAccessFile(p.toFile(), "rw")) {
            raf.setLength(8 + header.length() + n);
        }
        assertThat(Safetensors.readMetadata(p)).isEqualTo(Map.of("k", "v"));
        assertThatThrownBy(() -> Safetensors.read(p))
                .isInstanceOf(FormatException.class)
                .hasMessageContaining("tensor \"big\" has 2147483648 elements; tensors over 2^31 elements are not supported yet");
    }

    // ---------------------------------------------------------------- the mapped view

    @Test
    void aViewConvertsOneTensorAtATimeFromAnyThreadUntilClosed() throws Exception {
        Path p = file(new SafetensorsFiles()
                .entry("__metadata__", "{\"format\":\"pt\"}", new byte[0])
                .add("w", "F32", shape(2, 2), f32(1, 2, 3, 4))
                .add("h", "F16", shape(3), u16(0x3C00, 0xC000, 0x7C00))
                .build());
        SafetensorsFile view = Safetensors.open(p);
        try (view) {
            assertThat(view.file()).isEqualTo(p);
            assertThat(view.names()).containsExactly("w", "h");
            assertThat(view.shape("w")).containsExactly(2, 2);
            assertThat(view.metadata()).isEqualTo(Map.of("format", "pt"));
            assertThat(view.tensor("h").toFloatArray()).containsExactly(1f, -2f, Float.POSITIVE_INFINITY);
            // the mapping is shared: a loader may convert tensors on worker threads
            Tensor w = CompletableFuture.supplyAsync(() -> {
                try {
                    return view.tensor("w");
                } catch (FormatException e) {
                    throw new UncheckedIOException(e);
                }
            }).get();
            assertThat(w.shape()).isEqualTo(Shape.of(2, 2));
            assertThat(w.toFloatArray()).containsExactly(1, 2, 3, 4);
            assertThatThrownBy(() -> view.tensor("missing")).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no tensor \"missing\"");
            assertThatThrownBy(() -> view.shape("missing")).isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> view.tensor("w")).isInstanceOf(IllegalStateException.class).hasMessageContaining("is closed");
        view.close();
    }

    @Test
    void aViewRejectsAMalformedFileWhenOpened() throws IOException {
        byte[] whole = new SafetensorsFiles().add("w", "F32", shape(4), f32(1, 2, 3, 4)).build();
        Path p = file(java.util.Arrays.copyOf(whole, whole.length - 3));
        assertThatThrownBy(() -> Safetensors.open(p)).isInstanceOf(FormatException.class).hasMessageContaining("past its end");
    }

    @Test
    void readsTensorsLyingPastTwoAndFourGigabytesOfASparseFile() throws IOException {
        // Two paddings of 2^31 zero bytes, each followed by a small tensor, so the last one starts
        // past byte 2^32 of the file. Only the small tensors are written: the file is sparse where
        // the filesystem allows it, and no test should need 4 GB of disk or memory.
        long gb2 = 1L << 31, past2 = 8 + gb2, pad1 = past2 + 12, past4 = pad1 + gb2;
        String header = "{\"__metadata__\":{\"format\":\"pt\"},"
                + info("head", "F32", 2, 0, 8) + ","
                + info("pad.0", "F32", gb2 / 4, 8, past2) + ","
                + info("past2g", "F32", 3, past2, pad1) + ","
                + info("pad.1", "U8", gb2, pad1, past4) + ","
                + info("past4g", "BF16", 3, past4, past4 + 6) + "}";
        header += " ".repeat((8 - header.length() % 8) % 8);
        long dataStart = 8 + header.length();
        Path p = dir.resolve("big.safetensors");
        try (FileChannel out = FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            out.write(ByteBuffer.wrap(SafetensorsFiles.build(header, f32(1, 2))), 0);
            out.write(ByteBuffer.wrap(f32(-1.5f, 3, 1e-7f)), dataStart + past2);
            out.write(ByteBuffer.wrap(u16(0x3F80, 0xC040, 0x4049)), dataStart + past4);
        }
        assertThat(Files.size(p)).isEqualTo(dataStart + past4 + 6).isGreaterThan(1L << 32);

        try (SafetensorsFile view = Safetensors.open(p)) {
            assertThat(view.names()).containsExactly("head", "pad.0", "past2g", "pad.1", "past4g");
            assertThat(view.metadata()).isEqualTo(Map.of("format", "pt"));
            assertThat(view.shape("pad.1")).containsExactly(gb2);
            assertThat(view.tensor("head").toFloatArray()).containsExactly(1, 2);
            assertThat(view.tensor("past2g").toFloatArray()).containsExactly(-1.5f, 3, 1e-7f);
            assertThat(view.tensor("past4g").toFloatArray()).containsExactly(1f, -3f, 3.140625f);
            // 2^31 elements is one too many for a Tensor: refused when asked for, not when opened
            assertThatThrownBy(() -> view.tensor("pad.1"))
                    .isInstanceOf(FormatException.class)
                    .hasMessageContaining("tensor \"pad.1\" has 2147483648 elements; tensors over 2^31 elements are not supported yet");
        }
    }

    /** A header entry with explicit data offsets, for layouts too large to build in memory. */
    private static String info(String name, String dtype, long elements, long begin, long end) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":[" + elements + "],\"data_offsets\":[" + begin + "," + end + "]}";
    }

    @Test
    void refusesToWriteATensorNamedLikeTheMetadata() {
        assertThatThrownBy(() -> Safetensors.write(dir.resolve("x"), Map.of("__metadata__", Tensor.ones(1)), null))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
