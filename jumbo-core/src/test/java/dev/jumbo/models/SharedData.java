package dev.jumbo.models;

import java.nio.file.Files;
import java.nio.file.Path;

/** The project's shared data folder ({@code ../shared/data} beside the checkout), found from the working directory up. */
public final class SharedData {
    private SharedData() {}

    public static Path dir() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path candidate = p.resolve("shared").resolve("data");
            if (Files.isDirectory(candidate.resolve("llama2c"))) return candidate;
        }
        throw new IllegalStateException("shared/data (with llama2c/) not found beside the checkout or above " + Path.of("").toAbsolutePath());
    }
}
