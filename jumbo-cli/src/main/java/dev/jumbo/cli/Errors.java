package dev.jumbo.cli;

import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;

/** Turns an exception into the one line a user reads. */
final class Errors {
    private Errors() {}

    static String describe(Throwable e) {
        Throwable t = e;
        while ((t instanceof UncheckedIOException || t.getClass() == RuntimeException.class) && t.getCause() != null) t = t.getCause();
        if (t instanceof NoSuchFileException nf) return nf.getFile() + ": no such file" + (nf.getReason() != null ? " (" + nf.getReason() + ")" : "");
        String m = t.getMessage();
        return m == null || m.isBlank() ? t.getClass().getSimpleName() : m.replace('\n', ' ');
    }
}
