package dev.jumbo.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One malformed file per check the reader makes (see {@link Gguf}), each hand-built or cut from a
 * valid file, and each refused with a {@link FormatException} that names the problem and where
 * it is. The two counts in the header sit at bytes 8 (tensors) and 16 (metadata); the first key
 * starts at byte 24.
 */
class GgufValidationTest {
    private static final int F32 = GgmlType.F32.id();
    private static final int Q8_0 = GgmlType.Q8_0.id();

    @TempDir
    Path dir;

    private Path file(byte[] bytes) throws IOException {
        Path p = dir.resolve("model.gguf");
        Files.write(p, bytes);
        return p;
    }

    /** Asserts that opening fails with a one-line FormatException naming the file and containing each of {@code problems}. */
    private AbstractThrowableAssert<?, ? extends Throwable> rejects(byte[] bytes, String... problems) throws IOException {
        Path p = file(bytes);
        return assertThatThrownBy(() -> Gguf.open(p).close())
                .isInstanceOfSatisfying(FormatException.class, e -> {
                    assertThat(e.file()).isEqualTo(p);
                    assertThat(e.getMessage()).isEqualTo(p + ": " + e.problem()).doesNotContain("\n");
                    for (String problem : problems) assertThat(e.problem()).contains(problem);
                });
    }

    private GgufFile open(byte[] bytes) throws IOException {
        return Gguf.open(file(bytes));
    }

    /** A file with one u8 key "a": 38 bytes. */
    private static byte[] oneKey() {
        return GgufBytes.header(3, 0, 1).key("a", GgufValueType.UINT8).u8(7).build();
    }

    /** A file with one tensor "t" of {@code typeId} and {@code dims}, at {@code offset}, followed by {@code dataBytes} bytes of data. */
    private static byte[] oneTensor(int typeId, long offset, int dataBytes, long... dims) {
        return GgufBytes.header(3, 1, 0).tensor("t", typeId, offset, dims).pad(32).fill(dataBytes, 0x3F).build();
    }

    // ---------------------------------------------------------------- magic and version

    @Test
    void rejectsAFileWithoutTheMagic() throws IOException {
        byte[] b = oneKey();
        b[3] = 'L';
        rejects(b, "not a GGUF file", "47 47 55 4c");
        rejects("GGML this is not".getBytes(), "not a GGUF file", "47 47 4d 4c");
    }

    @Test
    void rejectsAFileTooShortForTheMagicOrTheCounts() throws IOException {
        rejects(new byte[] {'G', 'G'}, "the magic", "needs 4 bytes", "ends at byte 2");
        rejects(new byte[0], "the magic", "ends at byte 0");
        rejects(Arrays.copyOf(oneKey(), 20), "the metadata count at byte 16 needs 8 bytes, but the file ends at byte 20");
    }

    @Test
    void rejectsVersion1AndVersionsAfter3() throws IOException {
        rejects(GgufBytes.header(1, 0, 0).build(), "version 1", "not supported");
        rejects(GgufBytes.header(4, 0, 0).build(), "version 4 is not supported");
        rejects(GgufBytes.header(0, 0, 0).build(), "version 0 is not supported");
    }

    @Test
    void rejectsAByteSwappedVersionAsBigEndian() throws IOException {
        rejects(GgufBytes.header(0x03000000, 0, 0).build(), "0x3000000", "big-endian");
    }

    @Test
    void readsVersion2WhoseLayoutIsTheSame() throws IOException {
        try (GgufFile g = open(GgufBytes.patchU32(oneKey(), 4, 2))) {
            assertThat(g.version()).isEqualTo(2);
            assertThat(g.integer("a")).isEqualTo(7);
        }
    }

    // ---------------------------------------------------------------- counts

    @Test
    void rejectsMoreMetadataEntriesThanTheFileCanHold() throws IOException {
        // each entry takes at least 14 bytes; 16 bytes follow the header
        rejects(GgufBytes.patchU64(oneKey(), 16, 2), "declares 2 metadata entries (at byte 16)", "the 14 bytes after the header hold at most 1");
        rejects(GgufBytes.patchU64(oneKey(), 16, -1), "declares 18446744073709551615 metadata entries", "at most 1048576 are read");
        rejects(GgufBytes.patchU64(oneKey(), 16, 1L << 62), "declares 4611686018427387904 metadata entries");
    }

    @Test
    void rejectsMoreTensorsThanTheFileCanHold() throws IOException {
        // each tensor info takes at least 24 bytes
        byte[] b = oneTensor(F32, 0, 4, 1);
        rejects(GgufBytes.patchU64(b, 8, 100), "declares 100 tensors (at byte 8)", "hold at most 1");
        rejects(GgufBytes.patchU64(b, 8, Long.MIN_VALUE), "declares 9223372036854775808 tensors");
        // the metadata's minimum is taken off first: one key leaves no room for a tensor
        rejects(GgufBytes.patchU64(oneKey(), 8, 1), "declares 1 tensors", "hold at most 0");
    }

    @Test
    void rejectsMoreEntriesThanTheReaderKeepsObjectsFor() throws IOException {
        // a sparse file large enough for 2^20 + 1 of the smallest entries: refused from the counts alone
        for (int countAt : new int[] {8, 16}) {
            Path p = file(GgufBytes.patchU64(GgufBytes.header(3, 0, 0).build(), countAt, Gguf.MAX_ENTRIES + 1));
            try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
                f.setLength(24 + 24 * (Gguf.MAX_ENTRIES + 1));
            }
            assertThatThrownBy(() -> Gguf.open(p).close()).isInstanceOf(FormatException.class)
                    .hasMessageContaining("declares 1048577 " + (countAt == 8 ? "tensors" : "metadata entries"))
                    .hasMessageContaining("at most 1048576 are read");
        }
    }

    // ---------------------------------------------------------------- strings

    @Test
    void rejectsAKeyLongerThanTheBytesLeft() throws IOException {
        byte[] b = GgufBytes.header(3, 0, 1).u64(100).raw("ab".getBytes()).fill(10, 0).build();
        rejects(b, "metadata key 0 at byte 24 is 100 bytes long, but only 12 bytes are left");
    }

    @Test
    void rejectsAStringLengthOverTheLimit() throws IOException {
        byte[] b = GgufBytes.header(3, 0, 1).key("a", GgufValueType.STRING).u64(-1).fill(8, 0).build();
        rejects(b, "key \"a\" (at byte 24): string", "18446744073709551615 bytes long; at most 1073741824");
        b = GgufBytes.header(3, 0, 1).key("a", GgufValueType.STRING).u64(1L << 31).fill(8, 0).build();
        rejects(b, "2147483648 bytes long; at most 1073741824");
    }

    @Test
    void rejectsAStringValueLongerThanTheBytesLeft() throws IOException {
        byte[] b = GgufBytes.header(3, 0, 1).key("a", GgufValueType.STRING).u64(50).raw("xyz".getBytes()).build();
        rejects(b, "key \"a\" (at byte 24): string", "50 bytes long, but only 3 bytes are left");
    }

    @Test
    void rejectsAKeyLongerThanTheSpecAllows() throws IOException {
        String key = "k".repeat(Gguf.MAX_KEY_BYTES + 1);
        rejects(GgufBytes.header(3, 0, 1).key(key, GgufValueType.UINT8).u8(1).build(), "metadata key 0", "65536 bytes long; at most 65535");
        try (GgufFile g = open(GgufBytes.header(3, 0, 1).key(key.substring(1), GgufValueType.UINT8).u8(1).build())) {
            assertThat(g.integer(key.substring(1))).isEqualTo(1);
        }
    }

    @Test
    void rejectsAnEmptyKey() throws IOException {
        // one byte more than the entry takes: an empty key makes it shorter than the smallest valid entry
        rejects(GgufBytes.header(3, 0, 1).key("", GgufValueType.UINT8).u8(1).u8(0).build(), "metadata key 0 (at byte 24) is empty");
    }

    @Test
    void rejectsKeysNamesAndStringsThatAreNotUtf8() throws IOException {
        byte[] bad = {'a', (byte) 0xC3, '('};
        rejects(GgufBytes.header(3, 0, 1).u64(3).raw(bad).u32(GgufValueType.UINT8.id()).u8(1).build(), "metadata key 0 at byte 24 is not valid UTF-8");
        rejects(GgufBytes.header(3, 0, 1).key("a", GgufValueType.STRING).u64(3).raw(bad).build(), "key \"a\" (at byte 24): string at byte 37 is not valid UTF-8");
        rejects(GgufBytes.header(3, 0, 1).key("a", GgufValueType.ARRAY).u32(GgufValueType.STRING.id()).u64(2).str("ok").u64(3).raw(bad).build(),
                "key \"a\" (at byte 24) item 1: string", "is not valid UTF-8");
        rejects(GgufBytes.header(3, 1, 0).u64(3).raw(bad).u32(1).u64(1).u32(F32).u64(0).pad(32).fill(4, 0).build(), "the name of tensor 0 at byte 24 is not valid UTF-8");
        // a lone surrogate encoded as UTF-8 (CESU) is not UTF-8 either
        rejects(GgufBytes.header(3, 0, 1).key("a", GgufValueType.STRING).u64(3).raw((byte) 0xED, (byte) 0xA0, (byte) 0x80).build(), "not valid UTF-8");
    }

    // ---------------------------------------------------------------- values and arrays

    @Test
    void rejectsUnknownValueTypes() throws IOException {
        rejects(GgufBytes.header(3, 0, 1).str("a").u32(13).u8(1).fill(8, 0).build(), "key \"a\" (at byte 24): unknown value type 13 at byte 33");
        rejects(GgufBytes.header(3, 0, 1).str("a").u32(-1).u8(1).fill(8, 0).build(), "unknown value type 4294967295");
        rejects(GgufBytes.header(3, 0, 1).key("a", GgufValueType.ARRAY).u32(77).u64(0).build(), "array item type: unknown value type 77 at byte 37");
    }

    @Test
    void rejectsABoolOtherThanZeroOrOne() throws IOException {
        rejects(GgufBytes.header(3, 0, 1).key("a", GgufValueType.BOOL).u8(2).build(), "key \"a\" (at byte 24): bool at byte 37 is 2, neither 0 nor 1");
        rejects(GgufBytes.header(3, 0, 1).key("a", GgufValueType.ARRAY).u32(GgufValueType.BOOL.id()).u64(3).u8(1).u8(0).u8(255).build(),
                "item 2: bool at byte 51 is 255");
    }

    @Test
    void rejectsAScalarCutShort() throws IOException {
        rejects(GgufBytes.header(3, 0, 1).key("a", GgufValueType.UINT64).u32(0).build(), "key \"a\" (at byte 24): UINT64 at byte 37 needs 8 bytes");
    }

    @Test
    void rejectsAnArrayLongerThanTheBytesLeft() throws IOException {
        byte[] b = GgufBytes.header(3, 0, 1).key("a", GgufValueType.ARRAY).u32(GgufValueType.UINT32.id()).u64(1000).u32(1).build();
        rejects(b, "key \"a\" (at byte 24): array of 1000 UINT32 at byte 41 needs at least 4000 bytes, but only 4 are left");
    }

    @Test
    void rejectsAnArrayOfStringsWithFewerThanEightBytesEach() throws IOException {
        // 40 bytes are enough for 40 u8 but not for 10 strings, each at least a u64 length
        byte[] b = GgufBytes.header(3, 0, 1).key("a", GgufValueType.ARRAY).u32(GgufValueType.STRING.id()).u64(10).fill(40, 0).build();
        rejects(b, "array of 10 STRING", "needs at least 80 bytes, but only 40 are left");
        b = GgufBytes.header(3, 0, 1).key("a", GgufValueType.ARRAY).u32(GgufValueType.ARRAY.id()).u64(4).fill(40, 0).build();
        rejects(b, "array of 4 ARRAY", "needs at least 48 bytes");
    }

    @Test
    void rejectsAnArrayOverTheItemLimit() throws IOException {
        byte[] b = GgufBytes.header(3, 0, 1).key("a", GgufValueType.ARRAY).u32(GgufValueType.UINT8.id()).u64((1L << 30) + 1).fill(16, 0).build();
        rejects(b, "array of 1073741825 UINT8", "longer than the 1073741824 items allowed");
        b = GgufBytes.header(3, 0, 1).key("a", GgufValueType.ARRAY).u32(GgufValueType.UINT64.id()).u64(-2).fill(16, 0).build();
        rejects(b, "array of 18446744073709551614 UINT64");
    }

    @Test
    void readsArraysNestedThreeDeep() throws IOException {
        byte[] b = GgufBytes.header(3, 0, 1).key("a", GgufValueType.ARRAY)
                .u32(GgufValueType.ARRAY.id()).u64(2)
                .u32(GgufValueType.ARRAY.id()).u64(1).u32(GgufValueType.UINT8.id()).u64(2).u8(1).u8(2)
                .u32(GgufValueType.STRING.id()).u64(1).str("x")
                .build();
        try (GgufFile g = open(b)) {
            assertThat(g.field("a").orElseThrow()).isEqualTo(new GgufField("a", GgufValueType.ARRAY, GgufValueType.ARRAY, 2));
            assertThat(g.array("a")).isEqualTo(List.of(List.of(List.of(1, 2)), List.of("x")));
        }
    }

    @Test
    void rejectsArraysNestedDeeperThanThreeWithoutRecursingIntoThem() throws IOException {
        byte[] b = GgufBytes.header(3, 0, 1).key("a", GgufValueType.ARRAY)
                .u32(GgufValueType.ARRAY.id()).u64(1).u32(GgufValueType.ARRAY.id()).u64(1).u32(GgufValueType.ARRAY.id()).u64(1)
                .u32(GgufValueType.UINT8.id()).u64(1).u8(1).build();
        rejects(b, "key \"a\" (at byte 24) item 0 item 0 item 0: arrays nested more than 3 deep");
        // a million levels, as the gguf-py recursion report did it: refused at the fourth
        GgufBytes deep = GgufBytes.header(3, 0, 1).key("a", GgufValueType.ARRAY);
        for (int i = 0; i < 1_000_000; i++) deep.u32(GgufValueType.ARRAY.id()).u64(1);
        rejects(deep.build(), "arrays nested more than 3 deep");
    }

    @Test
    void rejectsDuplicateKeys() throws IOException {
        byte[] b = GgufBytes.header(3, 0, 2).key("a", GgufValueType.UINT8).u8(1).key("a", GgufValueType.UINT8).u8(2).build();
        rejects(b, "duplicate key \"a\" (at byte 38): it is also at byte 24");
    }

    // ---------------------------------------------------------------- alignment

    @Test
    void rejectsAnAlignmentThatIsNotAPowerOfTwo() throws IOException {
        for (long a : new long[] {0, 24, 0xFFFFFFFFL}) {
            byte[] b = GgufBytes.header(3, 0, 1).key(Gguf.ALIGNMENT_KEY, GgufValueType.UINT32).u32(a).build();
            rejects(b, "key general.alignment (at byte 24) is " + a + ", not a power of two");
        }
    }

    @Test
    void rejectsAnAlignmentOfAnotherTypeThanU32() throws IOException {
        byte[] b = GgufBytes.header(3, 0, 1).key(Gguf.ALIGNMENT_KEY, GgufValueType.UINT64).u64(32).build();
        rejects(b, "key general.alignment (at byte 24) is UINT64; it must be UINT32");
    }

    @Test
    void alignsTheDataSectionAndEachTensorToACustomAlignment() throws IOException {
        byte[] b = GgufBytes.header(3, 2, 1).key(Gguf.ALIGNMENT_KEY, GgufValueType.UINT32).u32(256)
                .tensor("x", F32, 0, 1).tensor("y", F32, 256, 2).pad(256).fill(256, 0).fill(8, 0).build();
        try (GgufFile g = open(b)) {
            assertThat(g.alignment()).isEqualTo(256);
            assertThat(g.dataOffset()).isEqualTo(256);
            assertThat(g.tensors()).extracting(GgufTensor::offset).containsExactly(256L, 512L);
        }
        // with the default of 32, the same offsets leave a gap
        rejects(GgufBytes.patchU32(b, 53, 32), "tensor \"y\"", "has data offset 256, expected 32");
    }

    // ---------------------------------------------------------------- tensor infos

    @Test
    void rejectsAnUnknownOrRemovedGgmlType() throws IOException {
        for (long id : new long[] {4, 5, 31, 33, 36, 38, 43, 0xFFFFFFFFL})
            rejects(oneTensor((int) id, 0, 64, 1), "tensor \"t\" (info at byte 24) has unknown ggml type " + id);
    }

    @Test
    void rejectsMoreThanFourDimensions() throws IOException {
        rejects(oneTensor(F32, 0, 4, 1, 1, 1, 1, 1), "tensor \"t\" (info at byte 24) has 5 dimensions; at most 4");
        byte[] b = GgufBytes.header(3, 1, 0).str("t").u32(-1).fill(64, 0).build();
        rejects(b, "has 4294967295 dimensions");
    }

    @Test
    void readsATensorWithoutDimensionsAsAScalar() throws IOException {
        try (GgufFile g = open(GgufBytes.header(3, 1, 0).tensor("t", F32, 0).pad(32).f32(2.5f).build())) {
            assertThat(g.tensorInfo("t").dims()).isEmpty();
            assertThat(g.tensor("t").item()).isEqualTo(2.5f);
        }
    }

    @Test
    void readsADimensionOfZeroAsAnEmptyTensor() throws IOException {
        try (GgufFile g = open(oneTensor(F32, 0, 0, 3, 0))) {
            assertThat(g.tensorInfo("t").byteSize()).isZero();
            assertThat(g.tensor("t").shape().toArray()).containsExactly(0, 3);
        }
    }

    @Test
    void rejectsANegativeDimension() throws IOException {
        rejects(oneTensor(F32, 0, 4, 1, -1), "tensor \"t\" (info at byte 24): dimension 1 is 18446744073709551615, over 2^63-1");
    }

    @Test
    void rejectsDimensionsWhoseElementCountOverflows() throws IOException {
        rejects(oneTensor(F32, 0, 4, 1L << 32, 1L << 32), "dimensions [4294967296, 4294967296] have more elements than a 64-bit count holds");
        // 2^61 elements fit, 2^64 bytes do not
        rejects(oneTensor(GgmlType.F64.id(), 0, 4, 1L << 61), "F64 [2305843009213693952] takes more bytes than a 64-bit size holds");
    }

    @Test
    void rejectsRowsThatAreNotAWholeNumberOfBlocks() throws IOException {
        rejects(oneTensor(Q8_0, 0, 68, 33, 2), "tensor \"t\" (info at byte 24): Q8_0 rows of 33 values are not a whole number of blocks of 32");
        rejects(oneTensor(GgmlType.Q4_K.id(), 0, 144, 128), "Q4_K rows of 128 values are not a whole number of blocks of 256");
        // without dimensions a tensor is one value: never a whole block
        rejects(oneTensor(GgmlType.Q4_0.id(), 0, 18), "Q4_0 rows of 1 values are not a whole number of blocks of 32");
    }

    @Test
    void rejectsATensorNameLongerThan64Bytes() throws IOException {
        String name = "n".repeat(65);
        rejects(GgufBytes.header(3, 1, 0).tensor(name, F32, 0, 1).pad(32).fill(4, 0).build(), "the name of tensor 0", "65 bytes long; at most 64");
        try (GgufFile g = open(GgufBytes.header(3, 1, 0).tensor(name.substring(1), F32, 0, 1).pad(32).fill(4, 0).build())) {
            assertThat(g.hasTensor(name.substring(1))).isTrue();
        }
    }

    @Test
    void rejectsDuplicateTensorNames() throws IOException {
        byte[] b = GgufBytes.header(3, 2, 0).tensor("t", F32, 0, 1).tensor("t", F32, 32, 1).pad(32).fill(64, 0).build();
        rejects(b, "duplicate tensor \"t\" (info at byte 57): a tensor of that name is also at byte 24");
    }

    @Test
    void rejectsAnOffsetOver2To63() throws IOException {
        rejects(oneTensor(F32, -32, 4, 1), "tensor \"t\" (info at byte 24): offset 18446744073709551584 is over 2^63-1");
    }

    // ---------------------------------------------------------------- layout of the data section

    @Test
    void rejectsADataSectionStartingPastTheEndOfTheFile() throws IOException {
        // the infos end at byte 57; aligned, the data would start at 64, but the file stops at 60
        byte[] b = GgufBytes.header(3, 1, 0).tensor("t", F32, 0, 0).fill(3, 0).build();
        rejects(b, "the data section would start at byte 64 (the header ends at 57, aligned to 32), past the end of the file (60 bytes)");
    }

    @Test
    void rejectsOffsetsThatAreNotTheRunningPaddedSum() throws IOException {
        // two F32 [1] tensors: 4 bytes each, so the second starts at 32
        GgufBytes ok = GgufBytes.header(3, 2, 0).tensor("a", F32, 0, 1).tensor("b", F32, 32, 1).pad(32).fill(36, 0);
        try (GgufFile g = open(ok.build())) {
            assertThat(g.tensors()).extracting(GgufTensor::offset).containsExactly(96L, 128L);
        }
        // tensor b's offset field: after a's info (33 bytes) and b's name, dimension count and dimension
        int bOffset = 24 + 33 + 8 + 1 + 4 + 8 + 4;
        rejects(GgufBytes.patchU64(ok.build(), bOffset, 4), "tensor \"b\" (info at byte 57) has data offset 4, expected 32",
                "each tensor follows the previous one, padded to the alignment 32");
        // overlapping the first
        rejects(GgufBytes.patchU64(ok.build(), bOffset, 0), "has data offset 0, expected 32");
        // a gap before the first
        rejects(GgufBytes.patchU64(ok.build(), 24 + 8 + 1 + 4 + 8 + 4, 32), "tensor \"a\" (info at byte 24) has data offset 32, expected 0");
    }

    @Test
    void rejectsATensorRunningPastTheEndOfTheFile() throws IOException {
        // the tensor claims 400 bytes, the file has 10 after the header
        rejects(oneTensor(F32, 0, 10, 100), "tensor \"t\" (info at byte 24): its 400 bytes at file offset 64 run past the end of the file (74 bytes)");
        // a huge claim that fits a long is refused the same way
        rejects(oneTensor(GgmlType.I8.id(), 0, 10, Long.MAX_VALUE), "its 9223372036854775807 bytes at file offset 64 run past the end");
    }

    @Test
    void acceptsAFileWithoutTheLastTensorsPadding() throws IOException {
        try (GgufFile g = open(oneTensor(F32, 0, 4, 1))) {
            assertThat(g.tensor("t").item()).isEqualTo(Float.intBitsToFloat(0x3F3F3F3F));
        }
    }

    @Test
    void everyTruncationOfAValidFileIsRefusedUnlessOnlyPaddingIsCut() throws IOException {
        Path p = dir.resolve("valid.gguf");
        new GgufWriter()
                .put("general.architecture", "llama")
                .putArray("tokenizer.ggml.tokens", GgufValueType.STRING, List.of("<unk>", "a", "bc"))
                .put("llama.block_count", GgufValueType.UINT32, 1)
                .addTensor("a", GgmlType.F32, new long[] {3}, new byte[12])
                .addTensor("b", GgmlType.Q8_0, new long[] {32}, new byte[34])
                .write(p);
        byte[] valid = Files.readAllBytes(p);
        long end;
        try (GgufFile g = Gguf.open(p)) {
            GgufTensor last = g.tensors().getLast();
            end = last.offset() + last.byteSize();
            MemorySegment data = g.data(last);
            assertThat(data.byteSize()).isEqualTo(34);
        }
        for (int n = 0; n < valid.length; n++) {
            byte[] cut = Arrays.copyOf(valid, n);
            if (n >= end) {
                try (GgufFile g = open(cut)) {
                    assertThat(g.tensors()).hasSize(2);
                }
            } else {
                Path f = file(cut);
                assertThatThrownBy(() -> Gguf.open(f).close()).as("cut at " + n).isInstanceOf(FormatException.class);
            }
        }
    }
}
