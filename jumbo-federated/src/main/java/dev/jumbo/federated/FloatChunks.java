package dev.jumbo.federated;

import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Float vectors as little-endian float32 bytes cut into chunks of at most {@code chunkBytes}
 * (a whole number of floats), and the reassembly that refuses anything but the announced size.
 */
public final class FloatChunks {
    /** One megabyte: well under gRPC's default 4 MB message limit. */
    public static final int DEFAULT_CHUNK_BYTES = 1 << 20;

    private FloatChunks() {}

    /** {@code values} as chunks of at most {@code chunkBytes} bytes; at least one chunk, even for no values. */
    public static List<ByteString> split(float[] values, int chunkBytes) {
        if (chunkBytes < Float.BYTES) throw new IllegalArgumentException("chunk size must hold at least one float, got " + chunkBytes + " bytes");
        int perChunk = chunkBytes / Float.BYTES;
        List<ByteString> out = new ArrayList<>();
        for (int from = 0; from < values.length || out.isEmpty(); from += perChunk) {
            int n = Math.min(perChunk, values.length - from);
            ByteBuffer b = ByteBuffer.allocate(n * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
            b.asFloatBuffer().put(values, from, n);
            out.add(ByteString.copyFrom(b.array()));
        }
        return out;
    }

    /** How many chunks {@link #split} makes of {@code count} floats. */
    public static int chunkCount(int count, int chunkBytes) {
        int perChunk = chunkBytes / Float.BYTES;
        return Math.max(1, (count + perChunk - 1) / perChunk);
    }

    /**
     * Collects chunks into a vector of exactly {@code count} floats; each {@link #add} says why it
     * refuses a chunk rather than growing past the announced size.
     */
    public static final class Assembly {
        private final float[] values;
        private int filledBytes;
        private final byte[] pending = new byte[Float.BYTES];
        private int pendingBytes;

        public Assembly(int count) {
            if (count < 0) throw new IllegalArgumentException("negative float count " + count);
            values = new float[count];
        }

        /** Appends a chunk's bytes; null when accepted, else what was wrong. */
        public String add(ByteString data) {
            long total = (long) filledBytes + pendingBytes + data.size();
            if (total > (long) values.length * Float.BYTES)
                return "oversized: " + total + " bytes so far, but " + values.length + " floats are " + (long) values.length * Float.BYTES + " bytes";
            ByteBuffer in = data.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            if (pendingBytes == 0 && data.size() % Float.BYTES == 0) { // the usual whole-float chunk: one bulk copy
                int n = data.size() / Float.BYTES;
                in.asFloatBuffer().get(values, filledBytes / Float.BYTES, n);
                filledBytes += data.size();
                return null;
            }
            while (in.hasRemaining()) {
                pending[pendingBytes++] = in.get();
                if (pendingBytes == Float.BYTES) {
                    values[filledBytes / Float.BYTES] = ByteBuffer.wrap(pending).order(ByteOrder.LITTLE_ENDIAN).getFloat();
                    filledBytes += Float.BYTES;
                    pendingBytes = 0;
                }
            }
            return null;
        }

        /** The vector once complete; else the error says how much is missing. */
        public float[] finish() {
            if (filledBytes != values.length * Float.BYTES || pendingBytes != 0)
                throw new IllegalStateException("wrong size: got " + (filledBytes + pendingBytes) + " bytes, expected " + values.length * Float.BYTES
                        + " (" + values.length + " floats)");
            return values;
        }
    }
}
