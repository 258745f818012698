package dev.jumbo.io;

import java.io.ByteArrayOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Objects;
import java.util.SequencedMap;

/**
 * Builds a GGUF v3 file (layout in {@link Gguf}): metadata of every value type, arrays included,
 * and tensors in any {@link GgmlType}, given as raw bytes or as a {@link TensorBytes} that writes
 * them when the file is written. Each value is checked when it is put (a u8 must fit in a byte, a
 * string must be valid Unicode), so {@link #write} only writes. Tensor data is padded to the
 * alignment (32, or {@code general.alignment} if it is put), as llama.cpp pads it. The file is
 * replaced atomically ({@link AtomicFiles}): a failure leaves any previous file whole.
 *
 * <p>Tensor names are limited to 63 bytes, one less than the spec allows, because llama.cpp keeps
 * them in a 64-byte C string; nested arrays are not written, because llama.cpp does not read them.
 *
 * <pre>{@code
 * new GgufWriter()
 *         .put("general.architecture", "llama")
 *         .put("llama.block_count", GgufValueType.UINT32, 2)
 *         .putArray("tokenizer.ggml.tokens", GgufValueType.STRING, List.of("<unk>", "a", "b"))
 *         .addTensor("output_norm.weight", GgmlType.F32, new long[] {64}, new byte[4 * 64])
 *         .write(Path.of("model.gguf"));
 * }</pre>
 *
 * <p>A tensor's {@link MemorySegment} is not copied: it must stay readable until {@link #write}
 * returns (it may be a mapping of the very file being replaced). A {@link TensorBytes} is called
 * once per {@link #write}, in tensor order, so a model's tensors can be encoded one at a time
 * straight into the file (see {@code LlamaGguf.writer}) and a writer holds only the metadata.
 */
public final class GgufWriter {
    /** Longest tensor name written: llama.cpp needs {@code strlen(name) < GGML_MAX_NAME} (64). */
    public static final int MAX_NAME_BYTES = 63;

    /**
     * A tensor's data, written when the file is: exactly the tensor's byte count, in ggml's layout,
     * to the stream given (which {@link #writeTo} need not flush or close).
     */
    @FunctionalInterface
    public interface TensorBytes {
        /** Writes the tensor's bytes to {@code out}. */
        void writeTo(OutputStream out) throws IOException;
    }

    private record Tensor(String name, GgmlType type, long[] dims, long size, TensorBytes data) {}

    private final SequencedMap<String, byte[]> fields = new LinkedHashMap<>(); // key -> encoded entry
    private final SequencedMap<String, Tensor> tensors = new LinkedHashMap<>();
    private long alignment = Gguf.DEFAULT_ALIGNMENT;

    /** An empty file: no metadata, no tensors. */
    public GgufWriter() {}

    /** Puts a string value. @throws IllegalArgumentException as {@link #put(String, GgufValueType, Object)} */
    public GgufWriter put(String key, String value) {
        return put(key, GgufValueType.STRING, value);
    }

    /**
     * Puts a scalar value of {@code type}: an integral {@link Number} in the type's range for the
     * integer types ({@code UINT64} takes any long, read as its unsigned bit pattern), a
     * {@link Number} for {@code FLOAT32}/{@code FLOAT64}, a {@link Boolean}, or a {@link String}.
     * Putting {@value Gguf#ALIGNMENT_KEY} (a {@code UINT32} power of two) sets the alignment.
     *
     * @throws IllegalArgumentException if the key is empty, too long or already put, the type is
     *     {@code ARRAY} (use {@link #putArray}), or the value does not fit the type
     */
    public GgufWriter put(String key, GgufValueType type, Object value) {
        Objects.requireNonNull(type, "type");
        if (type == GgufValueType.ARRAY) throw new IllegalArgumentException("key " + Safetensors.quote(key) + ": use putArray for arrays");
        Bytes out = entry(key, type);
        out.value(key, type, value);
        if (key.equals(Gguf.ALIGNMENT_KEY)) {
            if (type != GgufValueType.UINT32) throw new IllegalArgumentException(Gguf.ALIGNMENT_KEY + " must be UINT32, not " + type);
            long a = ((Number) value).longValue();
            if (Long.bitCount(a) != 1) throw new IllegalArgumentException(Gguf.ALIGNMENT_KEY + " " + a + " is not a power of two");
            alignment = a;
        }
        fields.put(key, out.toByteArray());
        return this;
    }

    /**
     * Puts an array of {@code itemType} values, each as {@link #put(String, GgufValueType, Object)} takes it.
     *
     * @throws IllegalArgumentException if the key is empty, too long or already put, {@code itemType}
     *     is {@code ARRAY}, or an item does not fit the type
     */
    public GgufWriter putArray(String key, GgufValueType itemType, List<?> items) {
        Objects.requireNonNull(itemType, "itemType");
        if (itemType == GgufValueType.ARRAY)
            throw new IllegalArgumentException("key " + Safetensors.quote(key) + ": nested arrays are not written (llama.cpp cannot read them)");
        if (key.equals(Gguf.ALIGNMENT_KEY)) throw new IllegalArgumentException(Gguf.ALIGNMENT_KEY + " must be UINT32, not an array");
        Bytes out = entry(key, GgufValueType.ARRAY);
        // gguf_metadata_value_type type; uint64_t len; gguf_metadata_value_t array[len]
        out.u32(itemType.id());
        out.u64(items.size());
        for (int i = 0; i < items.size(); i++) out.value(key + "[" + i + "]", itemType, items.get(i));
        fields.put(key, out.toByteArray());
        return this;
    }

    /**
     * Adds a tensor: {@code dims} in ggml order ({@code ne[0]}, the contiguous one, first; a
     * {@code [rows, cols]} matrix is {@code {cols, rows}}) and {@code bytes} holding exactly its data.
     *
     * @throws IllegalArgumentException if the name is too long or already added, there are more than
     *     4 dimensions or a negative one, {@code dims[0]} is not a whole number of blocks, or the
     *     byte count is not the tensor's size
     */
    public GgufWriter addTensor(String name, GgmlType type, long[] dims, MemorySegment bytes) {
        Objects.requireNonNull(bytes, "bytes");
        long size = checkTensor(name, type, dims);
        if (bytes.byteSize() != size)
            throw new IllegalArgumentException("tensor " + Safetensors.quote(name) + ": " + type + " " + Arrays.toString(dims) + " takes " + size + " bytes, not " + bytes.byteSize());
        tensors.put(name, new Tensor(name, type, dims.clone(), size, out -> copy(bytes, out)));
        return this;
    }

    /** Adds a tensor whose bytes are in an array (not copied). @throws IllegalArgumentException as the other {@code addTensor} */
    public GgufWriter addTensor(String name, GgmlType type, long[] dims, byte[] bytes) {
        return addTensor(name, type, dims, MemorySegment.ofArray(bytes));
    }

    /**
     * Adds a tensor whose bytes {@code data} writes when the file is written ({@code dims} as in the
     * other {@code addTensor}). If it writes more or fewer bytes than the tensor's size, {@link #write}
     * fails naming the tensor, and the previous file stays.
     *
     * @throws IllegalArgumentException as the other {@code addTensor}, but for the byte count
     */
    public GgufWriter addTensor(String name, GgmlType type, long[] dims, TensorBytes data) {
        Objects.requireNonNull(data, "data");
        long size = checkTensor(name, type, dims);
        tensors.put(name, new Tensor(name, type, dims.clone(), size, data));
        return this;
    }

    /** Checks a new tensor's name and dimensions; its size in bytes. */
    private long checkTensor(String name, GgmlType type, long[] dims) {
        Objects.requireNonNull(type, "type");
        String tensor = "tensor " + Safetensors.quote(name);
        if (utf8(tensor, name).length > MAX_NAME_BYTES)
            throw new IllegalArgumentException(tensor + ": names are at most " + MAX_NAME_BYTES + " bytes of UTF-8");
        if (tensors.containsKey(name)) throw new IllegalArgumentException(tensor + " was already added");
        if (dims.length > Gguf.MAX_DIMS) throw new IllegalArgumentException(tensor + ": " + dims.length + " dimensions; at most " + Gguf.MAX_DIMS);
        long elements = 1;
        for (long d : dims) {
            if (d < 0) throw new IllegalArgumentException(tensor + ": negative dimension in " + Arrays.toString(dims));
            elements = Math.multiplyExact(elements, d);
        }
        long rowLength = dims.length > 0 ? dims[0] : 1; // ggml reads a missing dimension as 1
        if (rowLength % type.blockSize() != 0)
            throw new IllegalArgumentException(tensor + ": " + type + " rows of " + rowLength + " values are not a whole number of blocks of " + type.blockSize());
        return type.byteSize(elements);
    }

    /**
     * Writes the file: header, metadata and tensor infos in the order they were put, padding, then
     * each tensor's bytes followed by padding to the alignment.
     */
    public void write(Path file) throws IOException {
        Bytes header = new Bytes();
        // uint32_t magic; uint32_t version; uint64_t tensor_count; uint64_t metadata_kv_count
        header.writeBytes(Gguf.MAGIC.getBytes(StandardCharsets.US_ASCII));
        header.u32(Gguf.VERSION);
        header.u64(tensors.size());
        header.u64(fields.size());
        for (byte[] entry : fields.values()) header.writeBytes(entry);
        long offset = 0; // relative to the data section
        for (Tensor t : tensors.values()) {
            // gguf_string_t name; uint32_t n_dimensions; uint64_t dimensions[]; ggml_type type; uint64_t offset
            header.string(t.name, t.name);
            header.u32(t.dims.length);
            for (long d : t.dims) header.u64(d);
            header.u32(t.type.id());
            header.u64(offset);
            offset = Gguf.padded(offset + t.size, alignment);
        }
        header.pad(alignment);
        AtomicFiles.write(file, out -> {
            header.writeTo(out);
            for (Tensor t : tensors.values()) {
                Counted counted = new Counted(out);
                t.data.writeTo(counted);
                // the header already promised this size: any other count would shift every later tensor
                if (counted.count != t.size)
                    throw new IllegalStateException("tensor " + Safetensors.quote(t.name) + ": " + t.type + " " + Arrays.toString(t.dims)
                            + " takes " + t.size + " bytes; its TensorBytes wrote " + counted.count);
                out.write(new byte[(int) (Gguf.padded(t.size, alignment) - t.size)]);
            }
        });
    }

    /** Writes {@code bytes} to {@code out} through a small buffer (a segment may be off-heap or mapped). */
    private static void copy(MemorySegment bytes, OutputStream out) throws IOException {
        byte[] buffer = new byte[(int) Math.min(1 << 16, bytes.byteSize())];
        for (long at = 0, n = bytes.byteSize(); at < n; ) {
            int k = (int) Math.min(buffer.length, n - at);
            MemorySegment.copy(bytes, ValueLayout.JAVA_BYTE, at, buffer, 0, k);
            out.write(buffer, 0, k);
            at += k;
        }
    }

    /** The file's stream, counting what one tensor writes; closing it closes nothing. */
    private static final class Counted extends FilterOutputStream {
        long count;

        Counted(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len); // FilterOutputStream would write byte by byte
            count += len;
        }

        @Override
        public void close() throws IOException {
            flush(); // the file's stream stays open for the next tensor
        }
    }

    /** A new entry's bytes, its key and type written; the caller appends the value. */
    private Bytes entry(String key, GgufValueType type) {
        Objects.requireNonNull(key, "key");
        String where = "key " + Safetensors.quote(key);
        if (key.isEmpty()) throw new IllegalArgumentException("metadata keys cannot be empty");
        if (utf8(where, key).length > Gguf.MAX_KEY_BYTES) throw new IllegalArgumentException(where + ": keys are at most " + Gguf.MAX_KEY_BYTES + " bytes of UTF-8");
        if (fields.containsKey(key)) throw new IllegalArgumentException(where + " was already put");
        Bytes out = new Bytes();
        // gguf_string_t key; gguf_metadata_value_type value_type
        out.string(where, key);
        out.u32(type.id());
        return out;
    }

    /** {@code s} as UTF-8; a lone surrogate, which would silently become '?', is refused. */
    private static byte[] utf8(String where, String s) {
        try {
            ByteBuffer b = StandardCharsets.UTF_8.newEncoder()
                    .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT)
                    .encode(CharBuffer.wrap(s));
            return Arrays.copyOf(b.array(), b.limit());
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(where + ": not valid Unicode (a lone surrogate?)", e);
        }
    }

    /** Little-endian bytes in memory. */
    private static final class Bytes extends ByteArrayOutputStream {
        void u32(int v) {
            for (int i = 0; i < 4; i++) write(v >>> (8 * i));
        }

        void u64(long v) {
            for (int i = 0; i < 8; i++) write((int) (v >>> (8 * i)));
        }

        /** gguf_string_t: a u64 byte length, then the UTF-8 bytes. */
        void string(String where, String s) {
            byte[] b = utf8(where, s);
            if (b.length > Gguf.MAX_STRING_BYTES) throw new IllegalArgumentException(where + ": strings are at most " + Gguf.MAX_STRING_BYTES + " bytes");
            u64(b.length);
            writeBytes(b);
        }

        void pad(long alignment) {
            while (count % alignment != 0) write(0);
        }

        void value(String key, GgufValueType type, Object v) {
            String where = "key " + Safetensors.quote(key);
            switch (type) {
                case UINT8 -> u8(integer(where, type, v, 0, 0xFF));
                case INT8 -> u8(integer(where, type, v, Byte.MIN_VALUE, Byte.MAX_VALUE));
                case UINT16 -> u16(integer(where, type, v, 0, 0xFFFF));
                case INT16 -> u16(integer(where, type, v, Short.MIN_VALUE, Short.MAX_VALUE));
                case UINT32 -> u32((int) integer(where, type, v, 0, 0xFFFF_FFFFL));
                case INT32 -> u32((int) integer(where, type, v, Integer.MIN_VALUE, Integer.MAX_VALUE));
                case UINT64, INT64 -> u64(integer(where, type, v, Long.MIN_VALUE, Long.MAX_VALUE));
                case FLOAT32 -> u32(Float.floatToRawIntBits(number(where, type, v).floatValue()));
                case FLOAT64 -> u64(Double.doubleToRawLongBits(number(where, type, v).doubleValue()));
                case BOOL -> {
                    if (!(v instanceof Boolean b)) throw mismatch(where, type, v);
                    write(b ? 1 : 0);
                }
                case STRING -> {
                    if (!(v instanceof String s)) throw mismatch(where, type, v);
                    string(where, s);
                }
                case ARRAY -> throw new IllegalArgumentException(where + ": nested arrays are not written (llama.cpp cannot read them)");
            }
        }

        private void u8(long v) {
            write((int) v);
        }

        private void u16(long v) {
            write((int) v);
            write((int) (v >>> 8));
        }

        private static long integer(String where, GgufValueType type, Object v, long min, long max) {
            if (!(v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte)) throw mismatch(where, type, v);
            long x = ((Number) v).longValue();
            if (x < min || x > max) throw new IllegalArgumentException(where + ": " + x + " does not fit " + type);
            return x;
        }

        private static Number number(String where, GgufValueType type, Object v) {
            if (!(v instanceof Number n)) throw mismatch(where, type, v);
            return n;
        }

        private static IllegalArgumentException mismatch(String where, GgufValueType type, Object v) {
            return new IllegalArgumentException(where + ": a " + (v == null ? "null" : v.getClass().getSimpleName()) + " cannot be written as " + type);
        }
    }
}
