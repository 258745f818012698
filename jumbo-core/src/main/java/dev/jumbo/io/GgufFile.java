package dev.jumbo.io;

import dev.jumbo.tensor.DType;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.tensor.WeightMatrix;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * An open GGUF file: mapped, its header and tensor layout checked (see {@link Gguf}). Metadata
 * values are read from the mapping when asked for, so a vocabulary costs nothing until it is
 * used; tensors stay in the mapping in their stored type ({@link #data}, {@link #matrix}), or are
 * converted to F32 on the heap ({@link #tensor}) for small ones such as norms.
 *
 * <p>Typed accessors say what they need, not how the file stored it: {@link #integer} takes any
 * integer type (llama.cpp writes counts as u32, the spec says u64), {@link #number} any number.
 * A key that is missing or of the wrong type is a {@link FormatException} naming the key; the
 * variants taking a default return it when the key is missing (but still refuse a wrong type).
 *
 * <p>One view may be read from several threads at once: the mapping is read-only and shared, and
 * nothing else changes after opening. Close it once they are done: closing unmaps the file, and a
 * later read (of a value, or of a segment from {@link #data}) throws {@link IllegalStateException}.
 *
 * <pre>{@code
 * try (GgufFile gguf = Gguf.open(Path.of("model.gguf"))) {
 *     int dim = (int) gguf.integer("llama.embedding_length");
 *     float eps = (float) gguf.number("llama.attention.layer_norm_rms_epsilon", 1e-5);
 *     String[] vocab = gguf.strings("tokenizer.ggml.tokens");
 *     for (GgufTensor t : gguf.tensors()) System.out.println(t);
 *     Tensor norm = gguf.tensor("output_norm.weight");
 * }
 * }</pre>
 */
public final class GgufFile implements AutoCloseable {
    /** Elements a {@link Tensor} can hold today (its {@code Shape} is int-sized). */
    private static final long MAX_ELEMENTS = Integer.MAX_VALUE - 8;

    private final Path file;
    // shared, not confined: several threads may read one view (a loader's worker pool)
    private final Arena arena = Arena.ofShared();
    private final MemorySegment mapped;
    private final Gguf.Header header;
    private final List<GgufField> fields;
    private final List<GgufTensor> tensors;

    /** Use {@link Gguf#open}. */
    GgufFile(Path file) throws IOException {
        this.file = file;
        try {
            mapped = Gguf.map(file, arena);
            header = Gguf.readHeader(file, mapped);
        } catch (IOException | RuntimeException e) {
            arena.close(); // nobody else will: the caller never gets the view
            throw e;
        }
        List<GgufField> f = new ArrayList<>();
        for (Gguf.Field field : header.fields().values()) f.add(field.info());
        fields = List.copyOf(f);
        tensors = List.copyOf(header.tensors().values());
    }

    /** The file this view maps. */
    public Path file() {
        return file;
    }

    /** The GGUF version of the file: 3, or 2. */
    public int version() {
        return header.version();
    }

    /** The alignment of the data section and of each tensor in it, in bytes. */
    public long alignment() {
        return Integer.toUnsignedLong(header.alignment());
    }

    /** Where the data section starts, counted from the start of the file: the end of the header, aligned if there are tensors. */
    public long dataOffset() {
        return header.dataOffset();
    }

    // ---------------------------------------------------------------- metadata

    /** The metadata entries, in file order. */
    public List<GgufField> fields() {
        return fields;
    }

    /** The metadata entry {@code key}, if the file has it. */
    public Optional<GgufField> field(String key) {
        Gguf.Field f = header.fields().get(key);
        return f == null ? Optional.empty() : Optional.of(f.info());
    }

    /** Whether the file has metadata {@code key}. */
    public boolean has(String key) {
        return header.fields().containsKey(key);
    }

    /**
     * The value of {@code key} as the file stores it (see {@link GgufValueType} for the Java types;
     * an array is an unmodifiable list).
     *
     * @throws FormatException if the file has no such key
     */
    public Object value(String key) throws FormatException {
        return read(require(key));
    }

    /** @throws FormatException if the key is missing or its value is not a string */
    public String string(String key) throws FormatException {
        return (String) read(require(key, GgufValueType.STRING));
    }

    /** The string {@code key}, or {@code otherwise} if it is missing. @throws FormatException if it is not a string */
    public String string(String key, String otherwise) throws FormatException {
        return has(key) ? string(key) : otherwise;
    }

    /**
     * The integer {@code key}, of any integer type.
     *
     * @throws FormatException if the key is missing, is not an integer, or is a u64 over 2^63-1
     */
    public long integer(String key) throws FormatException {
        Gguf.Field f = require(key);
        if (!f.info().type().isInteger()) throw wrongType(f, "an integer");
        long v = ((Number) read(f)).longValue();
        if (f.info().type() == GgufValueType.UINT64 && v < 0)
            throw new FormatException(file, "key " + Safetensors.quote(key) + " is " + Long.toUnsignedString(v) + ", more than a long holds");
        return v;
    }

    /** The integer {@code key}, or {@code otherwise} if it is missing. @throws FormatException if it is not an integer */
    public long integer(String key, long otherwise) throws FormatException {
        return has(key) ? integer(key) : otherwise;
    }

    /** The number {@code key}, of any integer or floating-point type. @throws FormatException if it is missing or not a number */
    public double number(String key) throws FormatException {
        Gguf.Field f = require(key);
        GgufValueType type = f.info().type();
        if (!type.isInteger() && type != GgufValueType.FLOAT32 && type != GgufValueType.FLOAT64) throw wrongType(f, "a number");
        Number v = (Number) read(f);
        long bits = v.longValue();
        // a u64 over 2^63-1: halve (keeping the low bit so rounding stays right), convert, double
        if (type == GgufValueType.UINT64 && bits < 0) return ((double) ((bits >>> 1) | (bits & 1))) * 2;
        return v.doubleValue();
    }

    /** The number {@code key}, or {@code otherwise} if it is missing. @throws FormatException if it is not a number */
    public double number(String key, double otherwise) throws FormatException {
        return has(key) ? number(key) : otherwise;
    }

    /** @throws FormatException if the key is missing or its value is not a bool */
    public boolean bool(String key) throws FormatException {
        return (Boolean) read(require(key, GgufValueType.BOOL));
    }

    /** The bool {@code key}, or {@code otherwise} if it is missing. @throws FormatException if it is not a bool */
    public boolean bool(String key, boolean otherwise) throws FormatException {
        return has(key) ? bool(key) : otherwise;
    }

    /** The array {@code key}'s items (unmodifiable; nested arrays are lists too). @throws FormatException if it is missing or not an array */
    public List<?> array(String key) throws FormatException {
        return (List<?>) read(require(key, GgufValueType.ARRAY));
    }

    /** An array of strings, such as {@code tokenizer.ggml.tokens}. @throws FormatException if it is missing or not an array of strings */
    public String[] strings(String key) throws FormatException {
        Gguf.Field f = requireArray(key, "an array of strings", GgufValueType.STRING);
        Gguf.Cursor in = items(f);
        String[] out = new String[(int) f.info().length()]; // at most MAX_ARRAY_LENGTH
        for (int i = 0; i < out.length; i++) out[i] = in.string("item " + i + " of key " + Safetensors.quote(key), Gguf.MAX_STRING_BYTES);
        return out;
    }

    /** An array of f32 (or f64, narrowed), such as {@code tokenizer.ggml.scores}. @throws FormatException if it is missing or of another type */
    public float[] floats(String key) throws FormatException {
        Gguf.Field f = requireArray(key, "an array of floats", GgufValueType.FLOAT32, GgufValueType.FLOAT64);
        Gguf.Cursor in = items(f);
        float[] out = new float[(int) f.info().length()];
        if (f.info().itemType() == GgufValueType.FLOAT32) MemorySegment.copy(mapped, Gguf.F32, in.pos, out, 0, out.length);
        else for (int i = 0; i < out.length; i++) out[i] = (float) mapped.get(Gguf.F64, in.pos + 8L * i);
        return out;
    }

    /**
     * An array of integers of any integer type, such as {@code tokenizer.ggml.token_type}.
     *
     * @throws FormatException if it is missing, not an array of integers, or an item does not fit an int
     */
    public int[] ints(String key) throws FormatException {
        GgufValueType[] integers = {GgufValueType.UINT8, GgufValueType.INT8, GgufValueType.UINT16, GgufValueType.INT16,
            GgufValueType.UINT32, GgufValueType.INT32, GgufValueType.UINT64, GgufValueType.INT64};
        Gguf.Field f = requireArray(key, "an array of integers", integers);
        Gguf.Cursor in = items(f);
        GgufValueType type = f.info().itemType();
        int[] out = new int[(int) f.info().length()];
        if (type == GgufValueType.INT32) {
            MemorySegment.copy(mapped, Gguf.I32, in.pos, out, 0, out.length);
            return out;
        }
        for (int i = 0; i < out.length; i++) {
            long v = ((Number) in.value(type)).longValue();
            if (v != (int) v || (type == GgufValueType.UINT64 && v < 0))
                throw new FormatException(file, "item " + i + " of key " + Safetensors.quote(key) + " is "
                        + (type == GgufValueType.UINT64 ? Long.toUnsignedString(v) : v) + ", more than an int holds");
            out[i] = (int) v;
        }
        return out;
    }

    // ---------------------------------------------------------------- tensors

    /** The tensor infos, in file order. */
    public List<GgufTensor> tensors() {
        return tensors;
    }

    /** Whether the file has tensor {@code name}. */
    public boolean hasTensor(String name) {
        return header.tensors().containsKey(name);
    }

    /** The info of tensor {@code name}. @throws FormatException if the file has no such tensor */
    public GgufTensor tensorInfo(String name) throws FormatException {
        GgufTensor t = header.tensors().get(name);
        if (t == null) throw new FormatException(file, "no tensor " + Safetensors.quote(name));
        return t;
    }

    /**
     * The bytes of tensor {@code t}, read-only, straight from the mapping: valid until the view closes.
     *
     * @throws IllegalArgumentException if {@code t} is not a tensor of this file
     * @throws IllegalStateException if the view is closed
     */
    public MemorySegment data(GgufTensor t) {
        if (!t.equals(header.tensors().get(t.name())))
            throw new IllegalArgumentException(t + " is not a tensor of " + file);
        checkOpen();
        return mapped.asSlice(t.offset(), t.byteSize());
    }

    /**
     * Tensor {@code name} as a weight matrix in its stored type, over the mapping (nothing is
     * copied): {@code rows = ne[1]}, {@code cols = ne[0]}. A 1-D tensor is one row; dimensions
     * past the second must be 1 (ggml treats missing dimensions as 1).
     *
     * @throws FormatException if there is no such tensor, it is not a matrix, a side exceeds
     *     2^31-1, or its type has no Jumbo {@link DType}
     */
    public WeightMatrix matrix(String name) throws FormatException {
        GgufTensor t = tensorInfo(name);
        long[] d = t.dims();
        for (int k = 2; k < d.length; k++)
            if (d[k] != 1) throw new FormatException(file, "tensor " + Safetensors.quote(name) + " has dimensions " + Arrays.toString(d) + ", not a matrix");
        long cols = d.length > 0 ? d[0] : 1, rows = d.length > 1 ? d[1] : 1;
        if (rows > Integer.MAX_VALUE || cols > Integer.MAX_VALUE)
            throw new FormatException(file, "tensor " + Safetensors.quote(name) + " is a [" + rows + ", " + cols + "] matrix; sides over 2^31-1 are not supported");
        DType dtype = t.type().dtype().orElseThrow(() -> new FormatException(file,
                "tensor " + Safetensors.quote(name) + " is " + t.type() + ", a type Jumbo cannot compute with yet"));
        return new WeightMatrix(dtype, data(t), (int) rows, (int) cols);
    }

    /**
     * Tensor {@code name} converted to an F32 tensor on the heap, its shape in PyTorch's order
     * (ggml's dimensions reversed). For tensors stored one value at a time (F32, F16, BF16, F64
     * and the integer types); read quantized ones with {@link #matrix}.
     *
     * @throws FormatException if there is no such tensor, it is quantized, or it has more than
     *     2^31 elements (not supported yet)
     * @throws IllegalStateException if the view is closed
     */
    public Tensor tensor(String name) throws FormatException {
        GgufTensor t = tensorInfo(name);
        Safetensors.Dtype dtype = switch (t.type()) {
            case F32 -> Safetensors.Dtype.F32;
            case F16 -> Safetensors.Dtype.F16;
            case BF16 -> Safetensors.Dtype.BF16;
            case F64 -> Safetensors.Dtype.F64;
            case I8 -> Safetensors.Dtype.I8;
            case I16 -> Safetensors.Dtype.I16;
            case I32 -> Safetensors.Dtype.I32;
            case I64 -> Safetensors.Dtype.I64;
            default -> throw new FormatException(file, "tensor " + Safetensors.quote(name) + " is " + t.type()
                    + ", a quantized type: read it with matrix(), which keeps its blocks");
        };
        if (t.elements() > MAX_ELEMENTS)
            throw new FormatException(file, "tensor " + Safetensors.quote(name) + " has " + t.elements() + " elements; tensors over 2^31 elements are not supported yet");
        long[] shape = t.shape();
        int[] dims = new int[shape.length];
        for (int i = 0; i < dims.length; i++) {
            // a dimension can exceed int only beside a zero dimension (the product fits); Shape is int-sized
            if (shape[i] > Integer.MAX_VALUE)
                throw new FormatException(file, "tensor " + Safetensors.quote(name) + " has dimension " + shape[i] + ", over 2^31-1");
            dims[i] = (int) shape[i];
        }
        checkOpen();
        return Tensor.of(Safetensors.convert(mapped, t.offset(), dtype, (int) t.elements()), dims);
    }

    /** Unmaps the file; values and tensors already read stay valid (they are copies), segments from {@link #data} do not. Closing twice does nothing. */
    @Override
    public void close() {
        if (arena.scope().isAlive()) arena.close();
    }

    // ---------------------------------------------------------------- helpers

    private void checkOpen() {
        if (!arena.scope().isAlive()) throw new IllegalStateException(file + " is closed");
    }

    private Object read(Gguf.Field f) throws FormatException {
        checkOpen();
        return Gguf.value(file, mapped, f);
    }

    private Gguf.Cursor items(Gguf.Field f) {
        checkOpen();
        return new Gguf.Cursor(file, mapped, f.valueOffset() + 12); // past the item type and count
    }

    private Gguf.Field require(String key) throws FormatException {
        Gguf.Field f = header.fields().get(key);
        if (f == null) throw new FormatException(file, "no metadata key " + Safetensors.quote(key));
        return f;
    }

    private Gguf.Field require(String key, GgufValueType type) throws FormatException {
        Gguf.Field f = require(key);
        if (f.info().type() != type) throw wrongType(f, type == GgufValueType.ARRAY ? "an array" : "a " + type);
        return f;
    }

    private Gguf.Field requireArray(String key, String expected, GgufValueType... itemTypes) throws FormatException {
        Gguf.Field f = require(key);
        if (f.info().type() == GgufValueType.ARRAY) for (GgufValueType t : itemTypes) if (f.info().itemType() == t) return f;
        throw wrongType(f, expected);
    }

    private FormatException wrongType(Gguf.Field f, String expected) {
        GgufField info = f.info();
        String actual = info.type() == GgufValueType.ARRAY ? "an array of " + info.itemType() : "a " + info.type();
        return new FormatException(file, "key " + Safetensors.quote(info.key()) + " (at byte " + f.keyOffset() + ") is " + actual + ", not " + expected);
    }
}
