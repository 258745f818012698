package dev.jumbo.io;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Builds safetensors bytes by hand, the way the Python {@code safetensors} package lays them out,
 * so tests do not depend on our own writer: entries in offset order, header padded with spaces to
 * a multiple of 8 bytes.
 */
final class SafetensorsFiles {
    private final StringBuilder header = new StringBuilder("{");
    private final ByteArrayOutputStream data = new ByteArrayOutputStream();

    /** Adds a tensor whose offsets follow the previous one's. */
    SafetensorsFiles add(String name, String dtype, long[] shape, byte[] bytes) {
        long begin = data.size();
        return entry(name, "{\"dtype\":\"" + dtype + "\",\"shape\":" + Arrays.toString(shape).replace(" ", "")
                + ",\"data_offsets\":[" + begin + "," + (begin + bytes.length) + "]}", bytes);
    }

    /** Adds a raw header entry (any JSON value) and raw data bytes. */
    SafetensorsFiles entry(String name, String json, byte[] bytes) {
        if (header.length() > 1) header.append(',');
        header.append('"').append(name).append("\":").append(json);
        data.writeBytes(bytes);
        return this;
    }

    /** The whole file, header padded with spaces to 8-byte alignment. */
    byte[] build() {
        String h = header + "}";
        int length = h.getBytes(StandardCharsets.UTF_8).length;
        return build(h + " ".repeat((8 - length % 8) % 8), data.toByteArray());
    }

    /** A file with exactly this header text and data (no padding added). */
    static byte[] build(String headerText, byte[] data) {
        byte[] h = headerText.getBytes(StandardCharsets.UTF_8);
        return build(h.length, h, data);
    }

    /** A file whose size field says {@code declaredSize}, whatever follows. */
    static byte[] build(long declaredSize, byte[] header, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(declaredSize).put(header).put(data);
        return b.array();
    }

    static byte[] f32(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) b.putFloat(x);
        return b.array();
    }

    static byte[] f64(double... v) {
        ByteBuffer b = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (double x : v) b.putDouble(x);
        return b.array();
    }

    static byte[] i64(long... v) {
        ByteBuffer b = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (long x : v) b.putLong(x);
        return b.array();
    }

    static byte[] i32(int... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int x : v) b.putInt(x);
        return b.array();
    }

    /** 16-bit values given as their bit patterns (F16, BF16, I16, U16). */
    static byte[] u16(int... v) {
        ByteBuffer b = ByteBuffer.allocate(2 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int x : v) b.putShort((short) x);
        return b.array();
    }

    static byte[] u8(int... v) {
        byte[] b = new byte[v.length];
        for (int i = 0; i < v.length; i++) b[i] = (byte) v[i];
        return b;
    }

    static long[] shape(long... dims) {
        return dims;
    }
}
