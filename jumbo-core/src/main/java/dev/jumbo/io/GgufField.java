package dev.jumbo.io;

import java.util.Objects;

/**
 * One metadata entry of a GGUF file, as its header declares it: the key and the type of its
 * value. The value itself is read from the file on request ({@link GgufFile#value} and the typed
 * accessors), so listing the fields of a file with a 150,000-token vocabulary costs nothing.
 *
 * <pre>{@code
 * for (GgufField f : gguf.fields()) System.out.println(f);   // tokenizer.ggml.tokens: ARRAY[32000] of STRING
 * }</pre>
 *
 * @param key the key, such as {@code general.architecture}
 * @param type the value's type
 * @param itemType for an {@code ARRAY}, the type of its items; otherwise null
 * @param length for an {@code ARRAY}, its number of items; otherwise 1
 */
public record GgufField(String key, GgufValueType type, GgufValueType itemType, long length) {
    /** @throws IllegalArgumentException if {@code itemType} is given for a scalar or missing for an array */
    public GgufField {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(type, "type");
        if ((type == GgufValueType.ARRAY) != (itemType != null))
            throw new IllegalArgumentException(type == GgufValueType.ARRAY ? "an array needs an item type" : "a " + type + " has no item type");
        if (length < 0 || (type != GgufValueType.ARRAY && length != 1))
            throw new IllegalArgumentException("length " + length + " for a " + type);
    }

    @Override
    public String toString() {
        return key + ": " + (type == GgufValueType.ARRAY ? "ARRAY[" + length + "] of " + itemType : type);
    }
}
