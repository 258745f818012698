package dev.jumbo.io;

import java.io.BufferedOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Set;

/**
 * Writes a file so that readers see either the old content or the complete new content, never
 * a torn mix, even if the process dies mid-write: the bytes go to a temporary file in the same
 * directory, are forced to disk, and the temporary file is then renamed over the target.
 *
 * <pre>{@code
 * AtomicFiles.write(Path.of("ckpt.safetensors"), out -> out.write(bytes));
 * AtomicFiles.writeString(Path.of("config.json"), Json.write(config, true));
 * }</pre>
 *
 * <p>If the body or any step throws, the temporary file is deleted and the previous target, if
 * any, is left untouched. The target's directory must exist. A symbolic link at the target is
 * replaced by a regular file (the link is not followed).
 */
public final class AtomicFiles {
    private static final SecureRandom RANDOM = new SecureRandom();

    private AtomicFiles() {}

    /** Like {@link java.util.function.Consumer}, but may throw {@link IOException}. */
    @FunctionalInterface
    public interface IoConsumer<T> {
        /** Consumes {@code t}, perhaps failing with an {@link IOException}. */
        void accept(T t) throws IOException;
    }

    /**
     * Replaces {@code target} with what {@code body} writes to the stream it is given. The stream
     * is buffered; {@code body} need not flush or close it (closing it is harmless).
     */
    public static void write(Path target, IoConsumer<OutputStream> body) throws IOException {
        write(target, false, body);
    }

    /**
     * Like {@link #write(Path, IoConsumer)}, for a secret (a private key): where the file system
     * has POSIX permissions, the temporary file is created readable and writable by its owner
     * only (rw-------), so the secret is never readable by others, not even before the rename.
     */
    public static void writeOwnerOnly(Path target, IoConsumer<OutputStream> body) throws IOException {
        write(target, true, body);
    }

    private static void write(Path target, boolean ownerOnly, IoConsumer<OutputStream> body) throws IOException {
        Path absolute = target.toAbsolutePath();
        Path dir = absolute.getParent();
        // Same directory as the target: a rename within one file system is atomic, across file systems it is a copy.
        Path temp = dir.resolve("." + absolute.getFileName() + "." + Long.toUnsignedString(RANDOM.nextLong(), 36) + ".tmp");
        try {
            boolean posix = dir.getFileSystem().supportedFileAttributeViews().contains("posix");
            FileAttribute<?>[] attributes = ownerOnly && posix
                    ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))}
                    : new FileAttribute<?>[0];
            try (FileChannel channel = FileChannel.open(temp, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), attributes)) {
                OutputStream buffered = new BufferedOutputStream(Channels.newOutputStream(channel), 1 << 16);
                body.accept(new FilterOutputStream(buffered) {
                    @Override
                    public void write(byte[] b, int off, int len) throws IOException {
                        out.write(b, off, len); // FilterOutputStream would write byte by byte
                    }

                    @Override
                    public void close() throws IOException {
                        // the channel must stay open until it is forced to disk below
                        flush();
                    }
                });
                buffered.flush();
                // without this, a crash after the rename could leave the new name pointing at unwritten blocks
                channel.force(true);
            }
            move(temp, absolute);
        } catch (Throwable failure) {
            try {
                Files.deleteIfExists(temp);
            } catch (IOException cleanup) {
                failure.addSuppressed(cleanup);
            }
            throw failure;
        }
        syncDirectory(dir);
    }

    /** Replaces {@code target} with {@code text} encoded as UTF-8. */
    public static void writeString(Path target, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        write(target, out -> out.write(bytes));
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            // some file systems (certain network mounts) cannot rename atomically; replacing is the best left
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** Makes the rename itself durable. Only POSIX systems can open a directory to fsync it. */
    private static void syncDirectory(Path dir) throws IOException {
        if (!dir.getFileSystem().supportedFileAttributeViews().contains("posix")) return;
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }
}
