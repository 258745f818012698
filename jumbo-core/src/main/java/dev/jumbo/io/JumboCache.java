package dev.jumbo.io;

import java.nio.file.Path;

/**
 * Where Jumbo keeps what it downloads or unpacks ({@code datasets/}, {@code models/}):
 * {@code $JUMBO_CACHE} if set, else {@code ~/.cache/jumbo}.
 */
public final class JumboCache {
    private JumboCache() {}

    /** The cache folder (it may not exist yet). */
    public static Path root() {
        String env = System.getenv("JUMBO_CACHE");
        if (env != null && !env.isBlank()) return Path.of(env);
        return Path.of(System.getProperty("user.home"), ".cache", "jumbo");
    }
}
