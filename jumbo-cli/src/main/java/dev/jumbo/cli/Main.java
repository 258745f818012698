package dev.jumbo.cli;

import dev.jumbo.Jumbo;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The {@code jumbo} command. Errors end the command with one line naming what was wrong and
 * exit code 1; {@code --verbose} adds the stack trace.
 */
@Command(name = "jumbo", mixinStandardHelpOptions = true, version = "jumbo 0.1.0",
        description = "Large neural models in plain Java: train, evaluate, predict, summarise, generate, serve, benchmark.",
        subcommands = {TrainCommand.class, FinetuneCommand.class, EvaluateCommand.class, PredictCommand.class, SummaryCommand.class, ProfileCommand.class, PerplexityCommand.class, GenerateCommand.class, ChatCommand.class, TrainLmCommand.class, EmbedCommand.class, FillMaskCommand.class, ConvertCommand.class, QuantizeCommand.class, PruneCommand.class, DistillCommand.class, ExportCommand.class, ExplainCommand.class, FairnessCommand.class, CensusCommand.class, MaskCommand.class, PrivacyCommand.class, ServeCommand.class, FederatedCommand.class,
                BenchCommand.class, CommandLine.HelpCommand.class})
public final class Main {
    @Option(names = "--verbose", scope = CommandLine.ScopeType.INHERIT, description = "Print stack traces on errors.")
    boolean verbose;

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the command line and returns its exit code (used by tests). */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        Main main = new Main();
        CommandLine cl = new CommandLine(main);
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((e, line, parsed) -> {
            boolean verbose = main.verbose || java.util.Arrays.asList(args).contains("--verbose");
            err.println("jumbo: error: " + Errors.describe(e));
            if (verbose) e.printStackTrace(err);
            else err.println("(run with --verbose for the stack trace)");
            err.flush();
            return 1;
        });
        try {
            return cl.execute(args);
        } finally {
            out.flush();
            err.flush();
        }
    }

    /** The start-up line that says what the engine runs on. */
    static void banner(PrintWriter err) {
        err.println(Jumbo.capabilities());
    }
}
