package dev.jumbo.io;

import dev.jumbo.tensor.DType;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.tensor.WeightMatrix;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Map;
import java.util.SequencedSet;

/**
 * An open safetensors file: mapped, its header validated (see {@link Safetensors}), its tensors
 * converted to F32 one at a time on request ({@link #tensor}), or used in place as weight matrices
 * ({@link #matrix}). Offsets are 64-bit, so files over 2 GB read like small ones, and only the
 * tensors asked for are ever paged in.
 *
 * <p>One view may be read from several threads at once: the mapping is read-only and shared.
 * Close it once they are done: closing unmaps the file. The JDK never lets a read touch unmapped
 * memory: a read after {@link #close}, or a close racing with a read, throws {@link IllegalStateException}.
 *
 * <pre>{@code
 * try (SafetensorsFile weights = Safetensors.open(Path.of("model.safetensors"))) {
 *     for (String name : weights.names())
 *         System.out.println(name + " " + Arrays.toString(weights.shape(name)));
 *     Tensor wte = weights.tensor("wte.weight");
 * }
 * }</pre>
 */
public final class SafetensorsFile implements AutoCloseable {
    /** Elements a {@link Tensor} can hold today (its {@code Shape} is int-sized). */
    private static final long MAX_ELEMENTS = Integer.MAX_VALUE - 8;

    private final Path file;
    // shared, not confined: several threads may convert tensors from one view (a loader's worker pool)
    private final Arena arena = Arena.ofShared();
    private final MemorySegment mapped;
    private final Safetensors.Header header;

    /** Use {@link Safetensors#open}. */
    SafetensorsFile(Path file) throws IOException {
        this.file = file;
        try {
            mapped = Safetensors.map(file, arena);
            header = Safetensors.readHeader(file, mapped);
        } catch (IOException | RuntimeException e) {
            arena.close(); // nobody else will: the caller never gets the view
            throw e;
        }
    }

    /** The file this view maps. */
    public Path file() {
        return file;
    }

    /** The tensor names, in the order the header lists them. */
    public SequencedSet<String> names() {
        return header.entries().sequencedKeySet(); // a view of an unmodifiable map: read-only
    }

    /** The {@code "__metadata__"} strings (empty if the file has none). */
    public Map<String, String> metadata() {
        return header.metadata();
    }

    /**
     * The shape the header declares for tensor {@code name}, outermost first; 64-bit, so it is
     * known even for a tensor too large to {@linkplain #tensor read}.
     *
     * @throws IllegalArgumentException if the file has no such tensor
     */
    public long[] shape(String name) {
        return entry(name).shape().clone();
    }

    /**
     * Converts tensor {@code name} to F32, reading only its bytes from the mapping.
     *
     * @throws FormatException if it has more than 2^31 elements (not supported yet)
     * @throws IllegalArgumentException if the file has no such tensor
     * @throws IllegalStateException if the view is closed
     */
    public Tensor tensor(String name) throws FormatException {
        if (!arena.scope().isAlive()) throw new IllegalStateException(file + " is closed");
        Safetensors.Entry e = entry(name);
        if (e.elements() > MAX_ELEMENTS)
            throw new FormatException(file, "tensor " + Safetensors.quote(name) + " has " + e.elements() + " elements; tensors over 2^31 elements are not supported yet");
        int[] dims = new int[e.shape().length];
        for (int i = 0; i < dims.length; i++) {
            // a dimension can exceed int only beside a zero dimension (the product fits); Shape is int-sized
            if (e.shape()[i] > Integer.MAX_VALUE)
                throw new FormatException(file, "tensor " + Safetensors.quote(name) + " has dimension " + e.shape()[i] + ", over 2^31-1");
            dims[i] = (int) e.shape()[i];
        }
        return Tensor.of(Safetensors.convert(mapped, header.dataStart() + e.begin(), e.dtype(), (int) e.elements()), dims);
    }

    /**
     * Tensor {@code name}, two-dimensional {@code [rows, cols]}, as a weight matrix. F32, F16 and
     * BF16 (what checkpoints store weights in) stay in the mapping as stored: nothing is copied,
     * and the matrix is readable until the view closes. Other dtypes are converted to F32 on the
     * heap, because {@link WeightMatrix} has no kernels for them.
     *
     * @throws FormatException if the tensor is not two-dimensional, or a side is over 2^31-1
     * @throws IllegalArgumentException if the file has no such tensor
     * @throws IllegalStateException if the view is closed
     */
    public WeightMatrix matrix(String name) throws FormatException {
        if (!arena.scope().isAlive()) throw new IllegalStateException(file + " is closed");
        Safetensors.Entry e = entry(name);
        long[] d = e.shape();
        if (d.length != 2) throw new FormatException(file, "tensor " + Safetensors.quote(name) + " has shape " + java.util.Arrays.toString(d) + ", not a matrix");
        if (d[0] > Integer.MAX_VALUE || d[1] > Integer.MAX_VALUE)
            throw new FormatException(file, "tensor " + Safetensors.quote(name) + " is a [" + d[0] + ", " + d[1] + "] matrix; sides over 2^31-1 are not supported");
        DType type = switch (e.dtype()) {
            case F32 -> DType.F32;
            case F16 -> DType.F16;
            case BF16 -> DType.BF16;
            default -> null;
        };
        if (type == null) return WeightMatrix.of(tensor(name).buffer(), (int) d[0], (int) d[1]); // a fresh array: no second copy
        // safetensors stores little-endian, as WeightMatrix's kernels read
        return new WeightMatrix(type, mapped.asSlice(header.dataStart() + e.begin(), e.end() - e.begin()), (int) d[0], (int) d[1]);
    }

    /** Unmaps the file; tensors already read stay valid (they are copies), matrices over the mapping do not. Closing twice does nothing. */
    @Override
    public void close() {
        if (arena.scope().isAlive()) arena.close();
    }

    private Safetensors.Entry entry(String name) {
        Safetensors.Entry e = header.entries().get(name);
        if (e == null) throw new IllegalArgumentException(file + ": no tensor " + Safetensors.quote(name));
        return e;
    }
}
