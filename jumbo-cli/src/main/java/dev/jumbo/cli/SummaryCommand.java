package dev.jumbo.cli;

import dev.jumbo.tensor.Shape;
import dev.jumbo.train.Sequential;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code jumbo summary}: layers, output shapes, parameters and FLOPs of a saved or built-in model. */
@Command(name = "summary", mixinStandardHelpOptions = true,
        description = {"Print a model's layers, output shapes, parameter counts and FLOPs per example.",
                "Examples: jumbo summary --model runs/cnn    jumbo summary --arch cnn"})
final class SummaryCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", paramLabel = "DIR", description = "A saved model folder.")
    Path dir;

    @Option(names = "--arch", description = "A built-in architecture (mlp or cnn) for 28x28x1 images and 10 classes.")
    String arch;

    @Override
    public Integer call() throws Exception {
        if ((dir == null) == (arch == null)) throw new IllegalArgumentException("give exactly one of --model DIR or --arch mlp|cnn");
        Sequential m = dir != null ? Sequential.load(dir) : Architectures.build(arch, Shape.of(28, 28, 1), 10);
        spec.commandLine().getOut().print(m.summary());
        return 0;
    }
}
