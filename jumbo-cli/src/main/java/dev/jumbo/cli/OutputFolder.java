package dev.jumbo.cli;

import dev.jumbo.io.AtomicFiles;
import dev.jumbo.io.AtomicFolder;
import dev.jumbo.train.Sequential;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The {@code --out DIR} of a command that turns one model folder into another (prune, distill):
 * never the input folder nor a folder holding it, written whole or not at all.
 */
final class OutputFolder {
    private OutputFolder() {}

    /**
     * Writes {@code out} through {@code body} as {@link AtomicFolder} does, after checking that
     * it would not replace {@code input} (given as {@code inputOption}); copies the input's
     * {@code labels.txt} beside the new model when there is one.
     */
    static void write(Path out, Path input, String inputOption, AtomicFiles.IoConsumer<Path> body) throws IOException {
        requireSeparate(out, input, inputOption);
        AtomicFolder.write(out, dir -> {
            body.accept(dir);
            Path labels = input.resolve(TrainCommand.LABELS_FILE);
            if (Files.isRegularFile(labels)) Files.copy(labels, dir.resolve(TrainCommand.LABELS_FILE));
        });
    }

    /**
     * Refuses an {@code out} that is {@code input} or one of its parents (replacing it would
     * delete the input), and an existing folder that is neither empty nor a model folder: the
     * whole folder is replaced, and a mistyped {@code --out} must not take other files with it.
     */
    static void requireSeparate(Path out, Path input, String inputOption) throws IOException {
        Path o = out.toAbsolutePath().normalize(), in = input.toAbsolutePath().normalize();
        boolean same = o.equals(in) || Files.exists(o) && Files.exists(in) && Files.isSameFile(o, in);
        if (same || in.startsWith(o))
            throw new IllegalArgumentException("--out " + out + (same ? " is the " : " holds the ") + inputOption + " folder " + input
                    + ": write the new model elsewhere (the input is never overwritten)");
        if (Files.isDirectory(o) && !Files.isRegularFile(o.resolve(Sequential.CONFIG_FILE))) {
            try (var entries = Files.list(o)) {
                if (entries.findAny().isPresent())
                    throw new IllegalArgumentException("--out " + out + " is a folder with other files in it, not a model folder: the output replaces"
                            + " the whole folder, so name a new or empty folder (or a previous model folder)");
            }
        }
    }
}
