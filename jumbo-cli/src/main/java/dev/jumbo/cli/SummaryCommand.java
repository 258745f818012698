package dev.jumbo.cli;

import dev.jumbo.tensor.Shape;
import dev.jumbo.train.ModelDiagram;
import dev.jumbo.train.Sequential;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code jumbo summary}: layers, output shapes, parameters and FLOPs of a saved or built-in model. */
@Command(name = "summary", mixinStandardHelpOptions = true,
        description = {"Print a model's layers, output shapes, parameter counts, FLOPs per example and size by dtype;"
                + " or its graph as a Mermaid or Graphviz diagram; or a chart of where its FLOPs and parameters are.",
                "Examples: jumbo summary --model runs/cnn    jumbo summary --arch cnn --diagram mermaid    jumbo summary --model runs/cnn --png cost.png"})
final class SummaryCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", paramLabel = "DIR", description = "A saved model folder.")
    Path dir;

    @Option(names = "--arch", description = "A built-in architecture (mlp or cnn) for 28x28x1 images and 10 classes.")
    String arch;

    @Option(names = "--diagram", paramLabel = "mermaid|dot", description = "Print the model's graph as a Mermaid flowchart or a Graphviz digraph instead of the table.")
    String diagram;

    @Option(names = "--png", paramLabel = "FILE", description = "Also draw the FLOPs and parameters of each layer as bar charts into FILE.")
    Path png;

    @Override
    public Integer call() throws Exception {
        if ((dir == null) == (arch == null)) throw new IllegalArgumentException("give exactly one of --model DIR or --arch mlp|cnn");
        Sequential m = dir != null ? Sequential.load(dir) : Architectures.build(arch, Shape.of(28, 28, 1), 10);
        PrintWriter out = spec.commandLine().getOut();
        if (diagram != null) {
            out.print(switch (diagram) {
                case "mermaid" -> ModelDiagram.mermaid(m);
                case "dot" -> ModelDiagram.dot(m);
                default -> throw new IllegalArgumentException("--diagram must be mermaid or dot, got '" + diagram + "'");
            });
        } else {
            out.print(m.summary());
            long params = m.stateDict().values().stream().mapToLong(t -> t.size()).sum();
            // the weights alone, as a file of each dtype would hold them (int8: one float scale per output unit beside them)
            out.printf("Size of the weights: %s in f32, %s in f16/bf16, %s in int8 (+ its scales)%n", bytes(4 * params), bytes(2 * params), bytes(params));
        }
        if (png != null) {
            Charts.layerCosts(m, png, dir != null ? dir.getFileName().toString() : arch);
            spec.commandLine().getErr().println("chart written to " + png);
        }
        out.flush();
        return 0;
    }

    private static String bytes(long n) {
        return n >= 1 << 20 ? String.format("%.1f MB", n / 1048576.0) : String.format("%.1f kB", n / 1024.0);
    }
}
