package dev.jumbo.cli;

import dev.jumbo.train.Sequential;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --model DIR}: a folder written by {@code jumbo train}. */
final class ModelOption {
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Model folder (config.json + model.safetensors).")
    Path dir;

    Sequential load() throws IOException {
        return Sequential.load(dir);
    }
}
