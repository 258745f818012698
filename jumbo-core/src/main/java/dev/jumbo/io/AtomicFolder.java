package dev.jumbo.io;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.SecureRandom;

/**
 * Writes a whole folder so that {@code target} is either absent, the previous folder, or the
 * complete new one: the files are written into a hidden temporary folder beside the target, which
 * is then renamed to it. A folder already at the target is first renamed aside and deleted only
 * once the new one is in place (two renames: a crash between them leaves the old folder under
 * its hidden name and no target, never a half-written one).
 *
 * <pre>{@code
 * AtomicFolder.write(Path.of("runs/pruned"), dir -> model.save(dir));
 * }</pre>
 */
public final class AtomicFolder {
    private static final SecureRandom RANDOM = new SecureRandom();

    private AtomicFolder() {}

    /**
     * Runs {@code body} on a new empty folder and moves it to {@code target}. If {@code body} or
     * a move fails, the temporary folder is deleted and a previous target is left (or put back) as it was.
     */
    public static void write(Path target, AtomicFiles.IoConsumer<Path> body) throws IOException {
        Path absolute = target.toAbsolutePath().normalize();
        Path parent = absolute.getParent();
        if (parent == null) throw new IOException(target + ": cannot write a folder at the root of the file system");
        Files.createDirectories(parent);
        if (Files.exists(absolute) && !Files.isDirectory(absolute)) throw new IOException(target + ": exists and is not a folder");
        String tag = Long.toUnsignedString(RANDOM.nextLong(), 36);
        Path temp = parent.resolve("." + absolute.getFileName() + "." + tag + ".tmp");
        Path old = parent.resolve("." + absolute.getFileName() + "." + tag + ".old");
        Files.createDirectory(temp);
        boolean movedAside = false;
        try {
            body.accept(temp);
            if (Files.exists(absolute)) {
                move(absolute, old);
                movedAside = true;
            }
            move(temp, absolute);
        } catch (Throwable failure) {
            try {
                deleteTree(temp);
                if (movedAside && !Files.exists(absolute)) move(old, absolute);
            } catch (IOException cleanup) {
                failure.addSuppressed(cleanup);
            }
            throw failure;
        }
        if (movedAside) deleteTree(old);
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                if (e != null) throw e;
                Files.delete(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
