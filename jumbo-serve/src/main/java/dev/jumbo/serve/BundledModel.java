package dev.jumbo.serve;

import dev.jumbo.io.AtomicFiles;
import dev.jumbo.io.JumboCache;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The model shipped inside jumbo-serve, so the server works on a fresh machine: llama2.c's
 * stories260K (a 260K-parameter Llama trained on TinyStories, 1 MB) with its 512-token tokenizer,
 * under llama2.c's MIT license (beside it as {@code LICENSE-llama2.c-MIT.txt}). The loaders map
 * files, so the first use copies them out of the jar into {@code $JUMBO_CACHE/models/stories260K}
 * (atomically; a copy that differs from the jar's is replaced), or a temporary folder when the
 * cache cannot be written.
 */
public final class BundledModel {
    /** The name it is served under. */
    public static final String NAME = "stories260K";

    private static final String[] FILES = {"stories260K.bin", "tok512.bin", "LICENSE-llama2.c-MIT.txt"};

    private BundledModel() {}

    /** The checkpoint on disk (the tokenizer beside it), copied out of the jar if needed. */
    public static Path checkpoint() throws IOException {
        Path dir = JumboCache.root().resolve("models").resolve(NAME);
        try {
            copyInto(dir);
        } catch (IOException e) {
            dir = Files.createTempDirectory("jumbo-" + NAME);
            copyInto(dir);
        }
        return dir.resolve(FILES[0]);
    }

    private static void copyInto(Path dir) throws IOException {
        Files.createDirectories(dir);
        for (String name : FILES) {
            byte[] bytes = resource(name);
            Path target = dir.resolve(name);
            if (Files.isRegularFile(target) && Files.size(target) == bytes.length && Arrays.equals(Files.readAllBytes(target), bytes)) continue;
            AtomicFiles.write(target, out -> out.write(bytes));
        }
    }

    private static byte[] resource(String name) {
        try (InputStream in = BundledModel.class.getResourceAsStream("models/" + name)) {
            if (in == null) throw new IllegalStateException("the bundled model's " + name + " is missing from the jumbo-serve jar");
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
