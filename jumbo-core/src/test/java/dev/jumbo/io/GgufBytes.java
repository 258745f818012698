package dev.jumbo.io;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Builds GGUF bytes field by field, little-endian, with no checks at all, so that tests can write
 * files that lie (a count the file cannot hold, an offset past its end) without going through
 * {@link GgufWriter}. {@link #at()} tells where the next field goes, to name it in assertions.
 */
final class GgufBytes {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    /** Magic, version and the two counts, as the file declares them. */
    static GgufBytes header(int version, long tensors, long fields) {
        return new GgufBytes().raw("GGUF".getBytes(StandardCharsets.US_ASCII)).u32(version).u64(tensors).u64(fields);
    }

    /** Where the next byte goes. */
    int at() {
        return out.size();
    }

    GgufBytes raw(byte... bytes) {
        out.writeBytes(bytes);
        return this;
    }

    GgufBytes u8(int v) {
        out.write(v);
        return this;
    }

    GgufBytes u32(long v) {
        return raw(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) v).array());
    }

    GgufBytes u64(long v) {
        return raw(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
    }

    GgufBytes f32(float v) {
        return u32(Float.floatToRawIntBits(v));
    }

    /** A gguf_string_t: length, then the UTF-8 bytes. */
    GgufBytes str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return u64(b.length).raw(b);
    }

    /** A key and its value type; the value follows. */
    GgufBytes key(String key, GgufValueType type) {
        return str(key).u32(type.id());
    }

    /** A tensor info: name, dims (ggml order), type id, offset into the data section. */
    GgufBytes tensor(String name, int typeId, long offset, long... dims) {
        str(name).u32(dims.length);
        for (long d : dims) u64(d);
        return u32(typeId).u64(offset);
    }

    /** Zero bytes up to the next multiple of {@code alignment}. */
    GgufBytes pad(int alignment) {
        while (out.size() % alignment != 0) out.write(0);
        return this;
    }

    /** {@code n} bytes of {@code value}. */
    GgufBytes fill(int n, int value) {
        for (int i = 0; i < n; i++) out.write(value);
        return this;
    }

    byte[] build() {
        return out.toByteArray();
    }

    /** {@code bytes} with the little-endian u32 at {@code at} replaced. */
    static byte[] patchU32(byte[] bytes, long at, long v) {
        byte[] b = bytes.clone();
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt((int) at, (int) v);
        return b;
    }

    /** {@code bytes} with the little-endian u64 at {@code at} replaced. */
    static byte[] patchU64(byte[] bytes, long at, long v) {
        byte[] b = bytes.clone();
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong((int) at, v);
        return b;
    }
}
