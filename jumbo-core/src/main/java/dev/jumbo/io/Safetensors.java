package dev.jumbo.io;

import dev.jumbo.tensor.DType;
import dev.jumbo.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;

/**
 * Reads and writes <a href="https://github.com/huggingface/safetensors">safetensors</a> files,
 * the weight format of Hugging Face checkpoints.
 *
 * <p>Layout: 8 bytes, a little-endian u64 {@code N}; {@code N} bytes of UTF-8 JSON mapping each
 * tensor name to {@code {"dtype", "shape", "data_offsets": [begin, end]}} plus an optional
 * {@code "__metadata__"} object of strings; then the data buffer, in which each tensor's bytes
 * (row-major, little-endian) lie at {@code [begin, end)}.
 *
 * <p>Reading validates the file as the reference implementation ({@code safetensors/src/tensor.rs})
 * does before touching any tensor data: the header size is capped at {@value #MAX_HEADER_SIZE}
 * bytes and must fit in the file; the header is a UTF-8 JSON object; each entry has a known dtype,
 * a shape and offsets; sorted by their begin, the offsets tile the data buffer from 0 to its very
 * end without gaps or overlaps; each tensor's byte length equals its element count times its dtype
 * size, computed without overflow. Any violation is a {@link FormatException} naming the file, the
 * problem and the tensor. Every numeric dtype is converted to F32 on reading.
 *
 * <p>{@link #open} maps the file and validates it, then converts only the tensors asked for: a
 * checkpoint larger than memory, or than 2 GB, is read one tensor at a time through a
 * {@link SafetensorsFile}. {@link #read} converts them all at once through the same view.
 *
 * <pre>{@code
 * Map<String, Tensor> weights = Safetensors.read(Path.of("model.safetensors"));
 * Safetensors.write(Path.of("copy.safetensors"), weights, Map.of("format", "pt"));
 * }</pre>
 */
public final class Safetensors {
    /** Largest header accepted, in bytes: 100 MB, the reference implementation's {@code MAX_HEADER_SIZE}. */
    public static final long MAX_HEADER_SIZE = 100_000_000L;

    private static final String METADATA_KEY = "__metadata__";

    private Safetensors() {}

    /** Element types the format defines, with their sizes in bytes; all are converted to F32 on reading. */
    enum Dtype {
        BOOL(1), U8(1), I8(1), F8_E5M2(1), F8_E4M3(1), I16(2), U16(2), F16(2), BF16(2),
        I32(4), U32(4), F32(4), F64(8), I64(8), U64(8);

        final int size;

        Dtype(int size) {
            this.size = size;
        }

        static Dtype named(String name) {
            for (Dtype d : values()) if (d.name().equals(name)) return d;
            return null;
        }
    }

    /** One tensor's header entry, with offsets relative to the start of the data buffer. */
    record Entry(String name, Dtype dtype, long[] shape, long begin, long end, long elements) {}

    /** A validated header: where the data buffer starts, the metadata and the entries by name, in file order. */
    record Header(long dataStart, Map<String, String> metadata, SequencedMap<String, Entry> entries) {}

    // ---------------------------------------------------------------- reading

    /**
     * Maps {@code file} and validates its header, converting no tensor yet; close the view to unmap it.
     *
     * @throws FormatException if the file is not a valid safetensors file
     */
    public static SafetensorsFile open(Path file) throws IOException {
        return new SafetensorsFile(file);
    }

    /**
     * Reads every tensor, converted to F32, in the order the header lists them.
     *
     * @throws FormatException if the file is not a valid safetensors file, or a tensor has more
     *     than 2^31 elements (not supported yet)
     */
    public static Map<String, Tensor> read(Path file) throws IOException {
        try (SafetensorsFile view = open(file)) {
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (String name : view.names()) tensors.put(name, view.tensor(name));
            return tensors;
        }
    }

    /**
     * The {@code "__metadata__"} strings (empty if the file has none). Validates the header as
     * {@link #read} does but reads no tensor data.
     */
    public static Map<String, String> readMetadata(Path file) throws IOException {
        try (SafetensorsFile view = open(file)) {
            return new LinkedHashMap<>(view.metadata()); // callers have always been free to add to it
        }
    }

    /** The whole file, read-only; it lives as long as {@code arena}, whether or not the channel stays open. */
    static MemorySegment map(Path file, Arena arena) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size < 8) throw new FormatException(file, "file has " + size + " bytes, too short for the 8-byte header size");
            // mapped rather than read: a checkpoint can be larger than a Java array, and offsets stay long
            return channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
        }
    }

    static Header readHeader(Path file, MemorySegment mapped) throws FormatException {
        long fileSize = mapped.byteSize();
        // 8 bytes: u64 little-endian header size N
        long n = mapped.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
        if (n < 0 || n > MAX_HEADER_SIZE)
            throw new FormatException(file, "header size " + Long.toUnsignedString(n) + " exceeds the limit of " + MAX_HEADER_SIZE + " bytes");
        if (8 + n > fileSize)
            throw new FormatException(file, "header size " + n + " runs past the end of the file (" + fileSize + " bytes)");
        // N bytes: UTF-8 JSON object, padded at the end with spaces
        String json = decodeUtf8(file, mapped.asSlice(8, n).asByteBuffer());
        if (json.isEmpty() || json.charAt(0) != '{') throw new FormatException(file, "header does not start with '{'");
        Map<?, ?> root;
        try {
            root = (Map<?, ?>) Json.parse(json); // a valid JSON text starting with '{' is an object
        } catch (Json.ParseException e) {
            throw new FormatException(file, "header is not valid JSON: " + e.getMessage(), e);
        }

        Map<String, String> metadata = new LinkedHashMap<>();
        SequencedMap<String, Entry> entries = new LinkedHashMap<>(); // names are unique: Json rejects duplicate keys
        for (Map.Entry<?, ?> member : root.entrySet()) {
            String name = (String) member.getKey();
            if (name.equals(METADATA_KEY)) metadata = metadata(file, member.getValue());
            else entries.put(name, entry(file, name, member.getValue()));
        }

        // The reference sorts by (begin, end): writers may list tensors in any order, but the
        // offsets themselves must tile the buffer from 0 to its end, each tensor exactly its size.
        List<Entry> byOffset = new ArrayList<>(entries.values());
        byOffset.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long covered = 0;
        Entry previous = null;
        for (Entry e : byOffset) {
            String where = "tensor " + quote(e.name) + ": data_offsets [" + e.begin + ", " + e.end + "]";
            if (e.end < e.begin) throw new FormatException(file, where + " end before they begin");
            if (e.begin < covered)
                throw new FormatException(file, where + " overlap tensor " + quote(previous.name) + ", which ends at " + covered);
            if (e.begin > covered)
                throw new FormatException(file, where + " leave a gap: " + (previous == null ? "the data buffer starts at 0" : "tensor " + quote(previous.name) + " ends at " + covered));
            long bytes;
            try {
                bytes = Math.multiplyExact(e.elements, (long) e.dtype.size);
            } catch (ArithmeticException overflow) {
                throw new FormatException(file, "tensor " + quote(e.name) + ": shape " + Arrays.toString(e.shape) + " of " + e.dtype + " overflows a 64-bit byte count");
            }
            if (e.end - e.begin != bytes)
                throw new FormatException(file, where + " hold " + (e.end - e.begin) + " bytes, but shape " + Arrays.toString(e.shape) + " of " + e.dtype + " needs " + bytes);
            covered = e.end;
            previous = e;
        }
        long dataSize = fileSize - 8 - n;
        if (covered > dataSize)
            throw new FormatException(file, "tensor data ends at byte " + covered + " of the data buffer, past its end: the file holds " + dataSize + " data bytes");
        if (covered < dataSize)
            throw new FormatException(file, "tensors cover " + covered + " of the " + dataSize + " bytes in the data buffer; the rest is unaccounted for");
        return new Header(8 + n, Collections.unmodifiableMap(metadata), Collections.unmodifiableSequencedMap(entries));
    }

    private static String decodeUtf8(Path file, ByteBuffer bytes) throws FormatException {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        CharBuffer chars = CharBuffer.allocate(bytes.remaining());
        CoderResult result = decoder.decode(bytes, chars, true);
        if (result.isError()) throw new FormatException(file, "header is not valid UTF-8 (at header byte " + bytes.position() + ")");
        decoder.flush(chars);
        return chars.flip().toString();
    }

    private static Map<String, String> metadata(Path file, Object value) throws FormatException {
        Map<String, String> metadata = new LinkedHashMap<>();
        if (value == null) return metadata; // the reference reads it as an Option: null is "absent"
        if (!(value instanceof Map<?, ?> map)) throw new FormatException(file, METADATA_KEY + " is not an object");
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (!(e.getValue() instanceof String s))
                throw new FormatException(file, METADATA_KEY + " value for " + quote((String) e.getKey()) + " is not a string");
            metadata.put((String) e.getKey(), s);
        }
        return metadata;
    }

    private static Entry entry(Path file, String name, Object value) throws FormatException {
        String tensor = "tensor " + quote(name);
        if (!(value instanceof Map<?, ?> info)) throw new FormatException(file, tensor + ": entry is not an object");
        // "dtype": string, one of the format's type names
        if (!(info.get("dtype") instanceof String dtypeName))
            throw new FormatException(file, tensor + ": " + (info.containsKey("dtype") ? "dtype is not a string" : "missing dtype"));
        Dtype dtype = Dtype.named(dtypeName);
        if (dtype == null) throw new FormatException(file, tensor + ": unknown dtype " + quote(dtypeName));
        // "shape": list of non-negative integers, outermost first
        long[] shape = naturals(file, tensor, "shape", info.get("shape"), -1);
        // "data_offsets": [begin, end], byte offsets into the data buffer
        long[] offsets = naturals(file, tensor, "data_offsets", info.get("data_offsets"), 2);
        long elements = 1;
        for (long d : shape) {
            try {
                elements = Math.multiplyExact(elements, d);
            } catch (ArithmeticException overflow) {
                throw new FormatException(file, tensor + ": shape " + Arrays.toString(shape) + " has more elements than a 64-bit count holds");
            }
        }
        return new Entry(name, dtype, shape, offsets[0], offsets[1], elements);
    }

    /** A JSON list of non-negative integers, of {@code length} items unless it is -1. */
    private static long[] naturals(Path file, String tensor, String field, Object value, int length) throws FormatException {
        String expected = length < 0 ? "a list of non-negative integers" : "a list of " + length + " non-negative integers";
        if (value == null) throw new FormatException(file, tensor + ": missing " + field);
        if (!(value instanceof List<?> list) || (length >= 0 && list.size() != length))
            throw new FormatException(file, tensor + ": " + field + " is not " + expected);
        long[] out = new long[list.size()];
        for (int i = 0; i < out.length; i++) {
            // Json gives Long for integers that fit; a Double here is a fraction, an exponent or a value over 2^63
            if (!(list.get(i) instanceof Long v) || v < 0)
                throw new FormatException(file, tensor + ": " + field + " is not " + expected + " (item " + i + " is " + list.get(i) + ")");
            out[i] = v;
        }
        return out;
    }

    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64_LE = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Reads {@code n} little-endian values of {@code dtype} starting at byte {@code at} as floats. */
    static float[] convert(MemorySegment s, long at, Dtype dtype, int n) {
        float[] y = new float[n];
        switch (dtype) {
            case F32 -> MemorySegment.copy(s, F32_LE, at, y, 0, n);
            case F64 -> { for (int i = 0; i < n; i++) y[i] = (float) s.get(F64_LE, at + 8L * i); }
            case F16 -> { for (int i = 0; i < n; i++) y[i] = Float.float16ToFloat(s.get(I16_LE, at + 2L * i)); }
            // bfloat16 is the upper half of an IEEE float32
            case BF16 -> { for (int i = 0; i < n; i++) y[i] = Float.intBitsToFloat((s.get(I16_LE, at + 2L * i) & 0xFFFF) << 16); }
            // float8 e5m2 is the upper byte of an IEEE float16
            case F8_E5M2 -> { for (int i = 0; i < n; i++) y[i] = Float.float16ToFloat((short) (s.get(ValueLayout.JAVA_BYTE, at + i) << 8)); }
            case F8_E4M3 -> { for (int i = 0; i < n; i++) y[i] = e4m3(s.get(ValueLayout.JAVA_BYTE, at + i)); }
            case BOOL -> { for (int i = 0; i < n; i++) y[i] = s.get(ValueLayout.JAVA_BYTE, at + i) != 0 ? 1f : 0f; }
            case U8 -> { for (int i = 0; i < n; i++) y[i] = s.get(ValueLayout.JAVA_BYTE, at + i) & 0xFF; }
            case I8 -> { for (int i = 0; i < n; i++) y[i] = s.get(ValueLayout.JAVA_BYTE, at + i); }
            case I16 -> { for (int i = 0; i < n; i++) y[i] = s.get(I16_LE, at + 2L * i); }
            case U16 -> { for (int i = 0; i < n; i++) y[i] = s.get(I16_LE, at + 2L * i) & 0xFFFF; }
            case I32 -> { for (int i = 0; i < n; i++) y[i] = s.get(I32_LE, at + 4L * i); }
            case U32 -> { for (int i = 0; i < n; i++) y[i] = s.get(I32_LE, at + 4L * i) & 0xFFFFFFFFL; }
            case I64 -> { for (int i = 0; i < n; i++) y[i] = s.get(I64_LE, at + 8L * i); }
            case U64 -> { for (int i = 0; i < n; i++) y[i] = unsignedToFloat(s.get(I64_LE, at + 8L * i)); }
        }
        return y;
    }

    /** float8 e4m3fn (OCP FP8): sign, 4 exponent bits with bias 7, 3 mantissa bits; no infinities, S.1111.111 is NaN. */
    private static float e4m3(byte b) {
        int exponent = (b >> 3) & 0xF, mantissa = b & 0x7;
        float sign = b < 0 ? -1f : 1f;
        if (exponent == 0xF && mantissa == 0x7) return Float.NaN;
        if (exponent == 0) return sign * Math.scalb(mantissa / 8f, -6);
        return sign * Math.scalb(1f + mantissa / 8f, exponent - 7);
    }

    private static float unsignedToFloat(long v) {
        if (v >= 0) return v;
        // halve (keeping the low bit so rounding stays right), convert, double
        return ((float) ((v >>> 1) | (v & 1))) * 2f;
    }

    // ---------------------------------------------------------------- writing

    /**
     * Writes {@code tensors} as little-endian F32 in map order, with {@code metadata} (may be null)
     * as {@code "__metadata__"}. The header is padded with spaces to a multiple of 8 bytes, as the
     * reference writer does, so the data is aligned. The file is replaced atomically
     * ({@link AtomicFiles}): a failure leaves any previous file as it was.
     *
     * @throws IllegalArgumentException if a tensor is named {@code "__metadata__"} or a metadata value is null
     */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        write(file, tensors, metadata, Map.of());
    }

    /**
     * {@link #write(Path, Map, Map)} with some tensors stored as {@link DType#I8} instead of F32
     * (quantized weights; reading converts them back to exactly the same floats).
     *
     * @throws IllegalArgumentException if a type is neither F32 nor I8, or an I8 tensor holds a
     *     value that is not an integer in [-128, 127] (naming the tensor and the element)
     */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata, Map<String, DType> types) throws IOException {
        for (Map.Entry<String, DType> e : types.entrySet()) {
            if (e.getValue() != DType.F32 && e.getValue() != DType.I8)
                throw new IllegalArgumentException("tensor " + quote(e.getKey()) + ": safetensors writes F32 or I8, not " + e.getValue());
            Tensor t = tensors.get(e.getKey());
            if (t == null) throw new IllegalArgumentException("a type is given for " + quote(e.getKey()) + ", which is not among the tensors");
            if (e.getValue() == DType.I8) {
                float[] v = t.toFloatArray();
                for (int i = 0; i < v.length; i++)
                    if (!(v[i] == Math.rint(v[i]) && v[i] >= -128 && v[i] <= 127))
                        throw new IllegalArgumentException("tensor " + quote(e.getKey()) + " is stored as I8 but element " + i + " is " + v[i]);
            }
        }
        Map<String, Object> header = new LinkedHashMap<>();
        if (metadata != null && !metadata.isEmpty()) {
            for (Map.Entry<String, String> e : metadata.entrySet())
                if (e.getKey() == null || e.getValue() == null)
                    throw new IllegalArgumentException("metadata keys and values must not be null: " + e.getKey() + "=" + e.getValue());
            header.put(METADATA_KEY, metadata);
        }
        long offset = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            if (METADATA_KEY.equals(e.getKey())) throw new IllegalArgumentException("a tensor cannot be named " + METADATA_KEY);
            Tensor t = e.getValue();
            boolean i8 = types.get(e.getKey()) == DType.I8;
            long bytes = (i8 ? 1L : 4L) * t.size();
            Map<String, Object> info = new LinkedHashMap<>();
            info.put("dtype", i8 ? "I8" : "F32");
            info.put("shape", t.shape().toArray());
            info.put("data_offsets", new long[] {offset, offset + bytes});
            header.put(e.getKey(), info);
            offset += bytes;
        }
        byte[] json = Json.write(header, false).getBytes(StandardCharsets.UTF_8);
        int padding = (8 - json.length % 8) % 8;
        AtomicFiles.write(file, out -> {
            ByteBuffer buffer = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
            // 8 bytes: u64 little-endian header size
            buffer.putLong(json.length + padding);
            out.write(buffer.array(), 0, 8);
            out.write(json);
            out.write(" ".repeat(padding).getBytes(StandardCharsets.US_ASCII));
            for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
                float[] values = e.getValue().toFloatArray();
                if (types.get(e.getKey()) == DType.I8) {
                    byte[] bytes = new byte[values.length];
                    for (int i = 0; i < values.length; i++) bytes[i] = (byte) values[i];
                    out.write(bytes);
                    continue;
                }
                for (int i = 0; i < values.length; ) {
                    int k = Math.min(values.length - i, buffer.capacity() / 4);
                    buffer.clear();
                    buffer.asFloatBuffer().put(values, i, k);
                    out.write(buffer.array(), 0, 4 * k);
                    i += k;
                }
            }
        });
    }

    /** A name as JSON would write it, cut short so that a hostile 100 MB name cannot flood a message. */
    static String quote(String s) {
        return Json.write(s.length() <= 80 ? s : s.substring(0, 77) + "...", false);
    }
}
