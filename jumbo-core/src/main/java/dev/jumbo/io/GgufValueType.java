package dev.jumbo.io;

import java.util.Optional;

/**
 * The type of a GGUF metadata value ({@code enum gguf_metadata_value_type} in the GGUF spec,
 * {@code ggml/docs/gguf.md}). All are little-endian; a string is a u64 byte length followed by
 * UTF-8 bytes; an array is an item type (u32), a u64 count and the items.
 *
 * <p>As Java values (see {@link GgufFile#value}): {@code UINT8}, {@code INT8}, {@code UINT16},
 * {@code INT16} and {@code INT32} are {@link Integer}; {@code UINT32} and {@code INT64} are
 * {@link Long}; {@code UINT64} is a {@link Long} holding the unsigned bit pattern (as
 * {@link Long#toUnsignedString} reads it); {@code FLOAT32} is {@link Float}, {@code FLOAT64}
 * {@link Double}, {@code BOOL} {@link Boolean}, {@code STRING} {@link String} and {@code ARRAY} a
 * {@link java.util.List} of its items.
 *
 * <pre>{@code
 * for (GgufField f : gguf.fields())
 *     if (f.type() == GgufValueType.ARRAY) System.out.println(f.key() + ": " + f.length() + " x " + f.itemType());
 * }</pre>
 */
public enum GgufValueType {
    UINT8(0, 1),
    INT8(1, 1),
    UINT16(2, 2),
    INT16(3, 2),
    UINT32(4, 4),
    INT32(5, 4),
    FLOAT32(6, 4),
    /** One byte, 0 or 1; the spec calls anything else invalid. */
    BOOL(7, 1),
    STRING(8, 0),
    ARRAY(9, 0),
    UINT64(10, 8),
    INT64(11, 8),
    FLOAT64(12, 8);

    private static final GgufValueType[] BY_ID = values(); // declared in id order

    private final int id;
    private final int size;

    GgufValueType(int id, int size) {
        this.id = id;
        this.size = size;
    }

    /** The type with GGUF id {@code id}, or empty if the spec defines none. */
    public static Optional<GgufValueType> byId(long id) {
        return id >= 0 && id < BY_ID.length ? Optional.of(BY_ID[(int) id]) : Optional.empty();
    }

    /** The id stored in the file. */
    public int id() {
        return id;
    }

    /** Bytes of one value, or 0 for strings and arrays, whose size is stored with them. */
    public int size() {
        return size;
    }

    /** Whether values of this type are integers (signed or not, any width). */
    public boolean isInteger() {
        return switch (this) {
            case UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64 -> true;
            default -> false;
        };
    }

    /** The fewest bytes a value of this type takes in a file: its size, 8 for a string (its length), 12 for an array. */
    int minSize() {
        return switch (this) {
            case STRING -> 8; // u64 length
            case ARRAY -> 12; // u32 item type, u64 count
            default -> size;
        };
    }
}
