package dev.jumbo.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A file that does not follow its format. The message is one line, {@code "<file>: <problem>"},
 * so it can be shown to a user as it is.
 *
 * <pre>{@code
 * try {
 *     Safetensors.read(Path.of("model.safetensors"));
 * } catch (FormatException e) {
 *     System.err.println(e.getMessage());   // model.safetensors: header size 8 runs past ...
 * }
 * }</pre>
 */
public class FormatException extends IOException {
    private final transient Path file;
    private final String problem;

    /** A problem found in {@code file}; {@code problem} says what is wrong, without the file name. */
    public FormatException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
        this.problem = problem;
    }

    /** A problem found in {@code file}, caused by a lower-level failure (corrupt compression, bad encoding). */
    public FormatException(Path file, String problem, Throwable cause) {
        this(file, problem);
        initCause(cause);
    }

    /** The file that is malformed. */
    public Path file() {
        return file;
    }

    /** What is wrong with it, without the file name. */
    public String problem() {
        return problem;
    }
}
