package dev.jumbo.io;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.SequencedMap;

/**
 * Reads <a href="https://github.com/ggml-org/ggml/blob/master/docs/gguf.md">GGUF</a> files, the
 * model format of llama.cpp: typed metadata (architecture, hyperparameters, vocabulary) and
 * tensors stored in ggml's types, quantized ones included. {@link GgufWriter} writes them.
 *
 * <p>Layout, all little-endian: the magic {@code "GGUF"}, a u32 version, a u64 tensor count and a
 * u64 metadata count; the metadata entries (a string key, a u32 {@link GgufValueType} and the
 * value); the tensor infos (a string name, a u32 dimension count, that many u64 dimensions, a u32
 * {@link GgmlType} and a u64 offset into the data section); zero padding up to the alignment
 * ({@code general.alignment}, 32 if absent); then the data section, where each tensor starts at
 * its offset and is followed by padding up to the alignment. A string is a u64 byte length and
 * that many UTF-8 bytes.
 *
 * <p>{@link #open} maps the file and checks all of it before handing out a view, as llama.cpp's
 * reference reader ({@code gguf_init_from_file_impl} in {@code ggml/src/gguf.cpp}) does, and more
 * strictly where a past loader bug lived (the 2024 GGUF heap overflows came from unchecked string
 * lengths, array counts and tensor counts multiplied in fixed-width arithmetic, and from files that
 * lie about tensor sizes): every count and length is bounded by the bytes the file has left,
 * sizes are computed with exact arithmetic, arrays nest at most {@value #MAX_ARRAY_DEPTH} deep, and
 * each tensor must lie at the running padded offset and inside the file. Any violation is a
 * {@link FormatException} naming the file, the problem, and the key or tensor with its byte
 * offset. Versions 2 and 3 are read (their layout is the same; 3 only allowed big-endian files,
 * which are refused here); version 1 is refused, as llama.cpp refuses it.
 *
 * <pre>{@code
 * try (GgufFile gguf = Gguf.open(Path.of("stories260K.gguf"))) {
 *     String arch = gguf.string("general.architecture");              // "llama"
 *     long layers = gguf.integer(arch + ".block_count");
 *     WeightMatrix wq = gguf.matrix("blk.0.attn_q.weight");
 * }
 * }</pre>
 */
public final class Gguf {
    /** The first four bytes of every GGUF file. */
    public static final String MAGIC = "GGUF";
    /** The version {@link GgufWriter} writes; the reader also accepts 2. */
    public static final int VERSION = 3;
    /** The alignment of the data section and of each tensor when {@code general.alignment} is absent. */
    public static final int DEFAULT_ALIGNMENT = 32;
    /** The metadata key that sets the alignment; it must be a u32 power of two. */
    public static final String ALIGNMENT_KEY = "general.alignment";
    /** Longest tensor name read, in bytes (the spec's limit; llama.cpp's {@code GGML_MAX_NAME} allows one byte less). */
    public static final int MAX_NAME_BYTES = 64;
    /** Longest metadata key, in bytes (the spec's limit). */
    public static final int MAX_KEY_BYTES = 65_535;
    /** Longest string value, in bytes: 1 GiB, llama.cpp's {@code GGUF_MAX_STRING_LENGTH}. */
    public static final long MAX_STRING_BYTES = 1L << 30;
    /** Most items in one array: 2^30, llama.cpp's {@code GGUF_MAX_ARRAY_ELEMENTS}. */
    public static final long MAX_ARRAY_LENGTH = 1L << 30;
    /** Deepest nesting of arrays read: an array of arrays of arrays (llama.cpp reads no nesting at all). */
    public static final int MAX_ARRAY_DEPTH = 3;
    /** Most dimensions a tensor may have ({@code GGML_MAX_DIMS}). */
    public static final int MAX_DIMS = 4;
    /**
     * Most metadata entries, and most tensors, in one file: 2^20, far above any model (a large
     * Llama has about 1,000 tensors and 50 keys); the view keeps an object for each, so this bounds
     * the memory a hostile header can make the reader allocate.
     */
    public static final long MAX_ENTRIES = 1L << 20;

    private static final int HEADER_BYTES = 24; // magic, version, tensor count, metadata count
    /** The smallest metadata entry: key length, a one-byte key, value type, a one-byte value. */
    private static final int MIN_FIELD_BYTES = 8 + 1 + 4 + 1;
    /** The smallest tensor info: name length, an empty name, dimension count, type, offset. */
    private static final int MIN_TENSOR_BYTES = 8 + 4 + 4 + 8;

    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Gguf() {}

    /**
     * Maps {@code file} and checks its header and tensor layout, reading no tensor data; close the
     * view to unmap it.
     *
     * @throws FormatException if the file is not a valid GGUF file
     */
    public static GgufFile open(Path file) throws IOException {
        return new GgufFile(file);
    }

    /** A metadata entry: what the header declares, where its key and its value start. */
    record Field(GgufField info, long keyOffset, long valueOffset) {}

    /** A checked header: version, alignment, where the data section starts, the fields and tensors by name in file order. */
    record Header(int version, int alignment, long dataOffset, SequencedMap<String, Field> fields,
            SequencedMap<String, GgufTensor> tensors) {}

    /** The whole file, read-only; it lives as long as {@code arena}. */
    static MemorySegment map(Path file, Arena arena) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            // mapped rather than read: models are larger than a Java array, and weights are used in place
            return channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
        }
    }

    // ---------------------------------------------------------------- the header

    static Header readHeader(Path file, MemorySegment m) throws FormatException {
        Cursor in = new Cursor(file, m, 0);
        // uint32_t magic: the bytes 'G' 'G' 'U' 'F'
        in.need(4, "the magic \"GGUF\"");
        byte[] magic = m.asSlice(0, 4).toArray(ValueLayout.JAVA_BYTE);
        if (!Arrays.equals(magic, MAGIC.getBytes(StandardCharsets.US_ASCII)))
            throw new FormatException(file, "not a GGUF file: it starts with bytes " + hex(magic) + ", not \"GGUF\"");
        in.pos = 4;
        // uint32_t version
        int version = in.u32("the version");
        if ((version & 0xFFFF) == 0 && version != 0)
            throw new FormatException(file, "GGUF version " + Integer.toUnsignedString(version) + " (0x" + Integer.toHexString(version)
                    + ") looks byte-swapped: big-endian files are not supported");
        if (version == 1) throw new FormatException(file, "GGUF version 1 (32-bit counts) is not supported any more; convert the file again");
        if (version != 2 && version != 3)
            throw new FormatException(file, "GGUF version " + Integer.toUnsignedString(version) + " is not supported (versions 2 and 3 are)");
        // uint64_t tensor_count; uint64_t metadata_kv_count
        long tensorCount = in.u64("the tensor count");
        long fieldCount = in.u64("the metadata count");
        long rest = m.byteSize() - HEADER_BYTES;
        if (fieldCount < 0 || fieldCount > MAX_ENTRIES || fieldCount > rest / MIN_FIELD_BYTES)
            throw new FormatException(file, "the header declares " + Long.toUnsignedString(fieldCount) + " metadata entries (at byte 16), but "
                    + (fieldCount >= 0 && fieldCount <= MAX_ENTRIES ? "the " + rest + " bytes after the header hold at most " + rest / MIN_FIELD_BYTES : "at most " + MAX_ENTRIES + " are read"));
        long restForTensors = rest - fieldCount * MIN_FIELD_BYTES; // both factors are small: no overflow
        if (tensorCount < 0 || tensorCount > MAX_ENTRIES || tensorCount > restForTensors / MIN_TENSOR_BYTES)
            throw new FormatException(file, "the header declares " + Long.toUnsignedString(tensorCount) + " tensors (at byte 8), but "
                    + (tensorCount >= 0 && tensorCount <= MAX_ENTRIES ? "the bytes after the header and metadata hold at most " + restForTensors / MIN_TENSOR_BYTES : "at most " + MAX_ENTRIES + " are read"));

        // gguf_metadata_kv_t metadata_kv[metadata_kv_count]
        SequencedMap<String, Field> fields = new LinkedHashMap<>();
        for (long i = 0; i < fieldCount; i++) {
            long keyOffset = in.pos;
            // gguf_string_t key: not empty, at most 65535 bytes
            String key = in.string("metadata key " + i, MAX_KEY_BYTES);
            String where = "key " + Safetensors.quote(key) + " (at byte " + keyOffset + ")";
            if (key.isEmpty()) throw new FormatException(file, "metadata key " + i + " (at byte " + keyOffset + ") is empty");
            Field first = fields.get(key);
            if (first != null) throw new FormatException(file, "duplicate " + where + ": it is also at byte " + first.keyOffset);
            // gguf_metadata_value_type value_type; gguf_metadata_value_t value
            GgufValueType type = in.valueType(where);
            long valueOffset = in.pos;
            GgufField info;
            if (type == GgufValueType.ARRAY) {
                GgufValueType itemType = in.valueType(where + ": array item type");
                long length = in.skipArrayItems(where, itemType, 1);
                info = new GgufField(key, type, itemType, length);
            } else {
                in.skipValue(where, type, 0);
                info = new GgufField(key, type, null, 1);
            }
            fields.put(key, new Field(info, keyOffset, valueOffset));
        }

        // general.alignment: u32, a power of two
        int alignment = DEFAULT_ALIGNMENT;
        Field a = fields.get(ALIGNMENT_KEY);
        if (a != null) {
            if (a.info.type() != GgufValueType.UINT32)
                throw new FormatException(file, "key " + ALIGNMENT_KEY + " (at byte " + a.keyOffset + ") is " + a.info.type() + "; it must be UINT32");
            alignment = m.get(I32, a.valueOffset);
            if (alignment == 0 || Integer.bitCount(alignment) != 1)
                throw new FormatException(file, "key " + ALIGNMENT_KEY + " (at byte " + a.keyOffset + ") is " + Integer.toUnsignedString(alignment) + ", not a power of two");
        }
        long align = Integer.toUnsignedLong(alignment); // 2^31 is a u32 power of two

        // gguf_tensor_info_t tensor_infos[tensor_count]
        SequencedMap<String, Long> infoOffsets = new LinkedHashMap<>();
        List<GgufTensor> relative = new ArrayList<>(); // offsets still relative to the data section
        for (long i = 0; i < tensorCount; i++) {
            long infoOffset = in.pos;
            // gguf_string_t name: at most 64 bytes
            String name = in.string("the name of tensor " + i, MAX_NAME_BYTES);
            String where = "tensor " + Safetensors.quote(name) + " (info at byte " + infoOffset + ")";
            Long first = infoOffsets.get(name);
            if (first != null) throw new FormatException(file, "duplicate " + where + ": a tensor of that name is also at byte " + first);
            infoOffsets.put(name, infoOffset);
            // uint32_t n_dimensions: at most 4
            int nDims = in.u32(where + ": dimension count");
            if (nDims < 0 || nDims > MAX_DIMS)
                throw new FormatException(file, where + " has " + Integer.toUnsignedString(nDims) + " dimensions; at most " + MAX_DIMS + " are allowed");
            // uint64_t dimensions[n_dimensions]: ne[0] (contiguous) first; 0 is allowed, as llama.cpp allows it
            long[] dims = new long[nDims];
            long elements = 1;
            for (int d = 0; d < nDims; d++) {
                dims[d] = in.u64(where + ": dimension " + d);
                if (dims[d] < 0)
                    throw new FormatException(file, where + ": dimension " + d + " is " + Long.toUnsignedString(dims[d]) + ", over 2^63-1");
            }
            for (long d : dims) {
                try {
                    elements = Math.multiplyExact(elements, d);
                } catch (ArithmeticException overflow) {
                    throw new FormatException(file, where + ": dimensions " + Arrays.toString(dims) + " have more elements than a 64-bit count holds");
                }
            }
            // ggml_type type
            int typeId = in.u32(where + ": type");
            GgmlType type = GgmlType.byId(Integer.toUnsignedLong(typeId)).orElseThrow(() -> new FormatException(file,
                    where + " has unknown ggml type " + Integer.toUnsignedString(typeId)));
            long rowLength = nDims > 0 ? dims[0] : 1; // ggml reads a missing dimension as 1
            if (rowLength % type.blockSize() != 0)
                throw new FormatException(file, where + ": " + type + " rows of " + rowLength + " values are not a whole number of blocks of " + type.blockSize());
            long bytes;
            try {
                bytes = type.byteSize(elements);
            } catch (ArithmeticException overflow) {
                throw new FormatException(file, where + ": " + type + " " + Arrays.toString(dims) + " takes more bytes than a 64-bit size holds");
            }
            // uint64_t offset: relative to the data section
            long offset = in.u64(where + ": offset");
            if (offset < 0) throw new FormatException(file, where + ": offset " + Long.toUnsignedString(offset) + " is over 2^63-1");
            relative.add(new GgufTensor(name, type, dims, offset, bytes));
        }

        // uint8_t _padding[]: to the alignment; then tensor_data[]
        long headerEnd = in.pos;
        // as llama.cpp, a file without tensors needs no padding (vocabulary-only files end right after the header)
        long dataOffset = tensorCount == 0 ? headerEnd : padded(headerEnd, align); // headerEnd <= file size: no overflow
        if (dataOffset > m.byteSize())
            throw new FormatException(file, "the data section would start at byte " + dataOffset + " (the header ends at " + headerEnd
                    + ", aligned to " + align + "), past the end of the file (" + m.byteSize() + " bytes)");
        // Each tensor starts where the previous one ends, padded: the reference's `ti.offset != ctx->size`.
        // Lying offsets could otherwise make tensors overlap or point past the mapping.
        SequencedMap<String, GgufTensor> tensors = new LinkedHashMap<>();
        long expected = 0;
        for (GgufTensor t : relative) {
            String where = "tensor " + Safetensors.quote(t.name()) + " (info at byte " + infoOffsets.get(t.name()) + ")";
            if (t.offset() != expected)
                throw new FormatException(file, where + " has data offset " + t.offset() + ", expected " + expected
                        + ": each tensor follows the previous one, padded to the alignment " + align);
            long start = dataOffset + t.offset(); // each at most the file size plus an alignment: no overflow
            if (start > m.byteSize() || t.byteSize() > m.byteSize() - start)
                throw new FormatException(file, where + ": its " + t.byteSize() + " bytes at file offset " + start
                        + " run past the end of the file (" + m.byteSize() + " bytes)");
            tensors.put(t.name(), new GgufTensor(t.name(), t.type(), t.dims(), start, t.byteSize()));
            expected = padded(t.offset() + t.byteSize(), align); // inside the file, so no overflow
        }
        return new Header(version, alignment, dataOffset, Collections.unmodifiableSequencedMap(fields),
                Collections.unmodifiableSequencedMap(tensors));
    }

    /** {@code n} rounded up to a multiple of {@code alignment}, a power of two. */
    static long padded(long n, long alignment) {
        return Math.addExact(n, alignment - 1) & -alignment;
    }

    private static String hex(byte[] bytes) {
        StringBuilder s = new StringBuilder();
        for (byte b : bytes) s.append(s.isEmpty() ? "" : " ").append(String.format("%02x", b & 0xFF));
        return s.toString();
    }

    // ---------------------------------------------------------------- values

    /**
     * Reads the value of a checked field: an {@link Integer}, {@link Long}, {@link Float},
     * {@link Double}, {@link Boolean}, {@link String} or, for an array, an unmodifiable {@link List}.
     */
    static Object value(Path file, MemorySegment m, Field f) throws FormatException {
        Cursor in = new Cursor(file, m, f.valueOffset);
        GgufField info = f.info;
        if (info.type() != GgufValueType.ARRAY) return in.value(info.type());
        in.pos += 12; // item type and count, known from the header
        return in.items(info.itemType(), info.length());
    }

    /**
     * Reads and checks the file from {@link #pos} onwards. Every read first checks that the file
     * has the bytes, so a lie about a length ends in a {@link FormatException}, never in an
     * out-of-bounds access or an allocation the file cannot back.
     */
    static final class Cursor {
        private final Path file;
        private final MemorySegment m;
        long pos;
        // decoding strictly: the spec says strings are UTF-8, and a key that is not would print as garbage
        private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        private CharBuffer scratch;

        Cursor(Path file, MemorySegment m, long pos) {
            this.file = file;
            this.m = m;
            this.pos = pos;
        }

        void need(long bytes, String what) throws FormatException {
            if (bytes > m.byteSize() - pos)
                throw new FormatException(file, what + " at byte " + pos + " needs " + bytes + " bytes, but the file ends at byte " + m.byteSize());
        }

        byte u8(String what) throws FormatException {
            need(1, what);
            return m.get(ValueLayout.JAVA_BYTE, pos++);
        }

        short u16(String what) throws FormatException {
            need(2, what);
            short v = m.get(I16, pos);
            pos += 2;
            return v;
        }

        int u32(String what) throws FormatException {
            need(4, what);
            int v = m.get(I32, pos);
            pos += 4;
            return v;
        }

        long u64(String what) throws FormatException {
            need(8, what);
            long v = m.get(I64, pos);
            pos += 8;
            return v;
        }

        GgufValueType valueType(String where) throws FormatException {
            long at = pos;
            int id = u32(where + ": value type");
            return GgufValueType.byId(Integer.toUnsignedLong(id)).orElseThrow(() -> new FormatException(file,
                    where + ": unknown value type " + Integer.toUnsignedString(id) + " at byte " + at));
        }

        /** The byte length of a string at {@link #pos}, checked against {@code max} and the bytes left; moves past the length. */
        private long stringLength(String what, long max) throws FormatException {
            long at = pos;
            long length = u64(what + ": length");
            if (length < 0 || length > max)
                throw new FormatException(file, what + " at byte " + at + " is " + Long.toUnsignedString(length) + " bytes long; at most " + max + " are allowed");
            if (length > m.byteSize() - pos)
                throw new FormatException(file, what + " at byte " + at + " is " + length + " bytes long, but only " + (m.byteSize() - pos) + " bytes are left in the file");
            return length;
        }

        /** A gguf_string_t, decoded. */
        String string(String what, long max) throws FormatException {
            long at = pos;
            int length = (int) stringLength(what, max); // max <= 2^30
            byte[] bytes = m.asSlice(pos, length).toArray(ValueLayout.JAVA_BYTE);
            try {
                String s = utf8.reset().decode(ByteBuffer.wrap(bytes)).toString();
                pos += length;
                return s;
            } catch (CharacterCodingException e) {
                throw new FormatException(file, what + " at byte " + at + " is not valid UTF-8", e);
            }
        }

        /** Checks a string value without keeping it: its length fits, and its bytes are UTF-8. */
        private void skipString(String what) throws FormatException {
            long at = pos;
            long length = stringLength(what, MAX_STRING_BYTES);
            if (!isUtf8(pos, length)) throw new FormatException(file, what + " at byte " + at + " is not valid UTF-8");
            pos += length;
        }

        private boolean isUtf8(long at, long length) {
            // decoded in 8 KB pieces into one scratch buffer: a 1 GB string costs no memory to check
            if (scratch == null) scratch = CharBuffer.allocate(8192);
            ByteBuffer bytes = m.asSlice(at, length).asByteBuffer();
            utf8.reset();
            while (true) {
                scratch.clear();
                CoderResult r = utf8.decode(bytes, scratch, true);
                if (r.isError()) return false;
                if (r.isUnderflow()) break;
            }
            scratch.clear();
            return !utf8.flush(scratch).isError();
        }

        /** Checks one value of {@code type} and moves past it; {@code depth} is how many arrays enclose it. */
        void skipValue(String where, GgufValueType type, int depth) throws FormatException {
            switch (type) {
                case STRING -> skipString(where + ": string");
                case BOOL -> {
                    long at = pos;
                    byte b = u8(where + ": bool");
                    if (b != 0 && b != 1) throw new FormatException(file, where + ": bool at byte " + at + " is " + (b & 0xFF) + ", neither 0 nor 1");
                }
                case ARRAY -> {
                    GgufValueType itemType = valueType(where + ": array item type");
                    skipArrayItems(where, itemType, depth + 1);
                }
                default -> {
                    need(type.size(), where + ": " + type);
                    pos += type.size();
                }
            }
        }

        /** Checks an array's count and items (the item type is read); returns the count. */
        long skipArrayItems(String where, GgufValueType itemType, int depth) throws FormatException {
            if (depth > MAX_ARRAY_DEPTH)
                throw new FormatException(file, where + ": arrays nested more than " + MAX_ARRAY_DEPTH + " deep (at byte " + (pos - 4) + ")");
            long at = pos;
            long count = u64(where + ": array length");
            // every item takes at least minSize bytes: a count the file cannot hold is refused before any loop
            long left = m.byteSize() - pos;
            if (count < 0 || count > MAX_ARRAY_LENGTH || count > left / itemType.minSize())
                throw new FormatException(file, where + ": array of " + Long.toUnsignedString(count) + " " + itemType + " at byte " + at
                        + (count >= 0 && count <= MAX_ARRAY_LENGTH
                                ? " needs at least " + count * itemType.minSize() + " bytes, but only " + left + " are left in the file"
                                : " is longer than the " + MAX_ARRAY_LENGTH + " items allowed"));
            if (itemType.size() > 0 && itemType != GgufValueType.BOOL) {
                pos += count * itemType.size(); // fits: checked above
            } else {
                for (long i = 0; i < count; i++) skipValue(where + " item " + i, itemType, depth);
            }
            return count;
        }

        /** Reads one scalar value of {@code type}. */
        Object value(GgufValueType type) throws FormatException {
            return switch (type) {
                case UINT8 -> u8("u8") & 0xFF;
                case INT8 -> (int) u8("i8");
                case UINT16 -> u16("u16") & 0xFFFF;
                case INT16 -> (int) u16("i16");
                case UINT32 -> Integer.toUnsignedLong(u32("u32"));
                case INT32 -> u32("i32");
                case FLOAT32 -> Float.intBitsToFloat(u32("f32"));
                case BOOL -> u8("bool") != 0;
                case STRING -> string("string", MAX_STRING_BYTES);
                case ARRAY -> {
                    GgufValueType itemType = valueType("array");
                    yield items(itemType, u64("array length"));
                }
                case UINT64, INT64 -> u64("i64");
                case FLOAT64 -> Double.longBitsToDouble(u64("f64"));
            };
        }

        /** Reads {@code count} items of {@code type} into an unmodifiable list. */
        List<?> items(GgufValueType type, long count) throws FormatException {
            List<Object> items = new ArrayList<>((int) Math.clamp(count, 0, 1 << 16)); // grows as items are read: only the file's bytes bound the count
            for (long i = 0; i < count; i++) items.add(value(type));
            return Collections.unmodifiableList(items);
        }
    }
}
